"""`check`: validate every pipeline in a repository.

YAML syntax, the JSON schemas that check-jsonschema bundles (used as a
library), and policy rules, each with an id, a one-line explanation and a
fix hint, for GitHub Actions and Azure Pipelines alike.
"""

from __future__ import annotations

import functools
import json
import re
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from .errors import MalformedFileError, UsageError
from .pipelines import (
    AZURE,
    GITHUB,
    PRODUCTION,
    STAGING,
    Job,
    PipelineFile,
    azure_stages,
    discover,
)
from .yamlio import line_of


@dataclass(frozen=True)
class Rule:
    id: str
    title: str
    why: str
    fix: str


RULES = {
    rule.id: rule
    for rule in (
        Rule(
            "MS100",
            "yaml-syntax",
            "the file is not valid YAML",
            "fix the YAML at the line shown",
        ),
        Rule(
            "MS101",
            "schema",
            "the file does not match the provider's JSON schema",
            "correct the key or value the message names",
        ),
        Rule(
            "MS201",
            "least-privilege-permissions",
            "without explicit, "
            "read-only top-level permissions the token can write to the "
            "repository",
            "add `permissions: {}` (or `contents: read`) at "
            "the top and grant writes per job",
        ),
        Rule(
            "MS202",
            "action-pinned-to-sha",
            "a tag or branch can be moved "
            "to other code; only a full commit SHA is immutable",
            "pin `uses:` to the 40-character commit SHA with the version in "
            "a comment",
        ),
        Rule(
            "MS203",
            "no-persisted-credentials",
            "a checked-out token stays "
            "in .git/config for every later step to read",
            "set `persist-credentials: false` (GitHub) or "
            "`persistCredentials: false` (Azure)",
        ),
        Rule(
            "MS204",
            "job-timeout",
            "a job without a timeout can hang for "
            "hours (6 h on GitHub, 60 min or more on Azure)",
            "set `timeout-minutes` (GitHub) or `timeoutInMinutes` (Azure)",
        ),
        Rule(
            "MS205",
            "production-behind-approval",
            "a production deploy "
            "outside an environment skips the required reviewers",
            "run it in a job with `environment: production` (GitHub) or a "
            "deployment job on the production environment (Azure), and "
            "require reviewers or an approval check there",
        ),
        Rule(
            "MS206",
            "production-after-staging",
            "production can be "
            "released without the change having passed staging",
            "make the production job/stage depend (needs / dependsOn) on "
            "the staging deployment and its smoke test",
        ),
        Rule(
            "MS207",
            "oidc-not-stored-secrets",
            "a stored cloud secret can leak and does not expire",
            "log in with OIDC / workload "
            "identity federation (azure/login with client-id, tenant-id "
            "and subscription-id; an Azure service connection using "
            "workload identity)",
        ),
        Rule(
            "MS208",
            "no-pull-request-target-checkout",
            "pull_request_target "
            "runs with secrets and a write token; checking out the PR head "
            "runs untrusted code with them",
            "use `pull_request`, or never "
            "check out the head in a pull_request_target workflow",
        ),
        Rule(
            "MS209",
            "no-untrusted-input-in-run",
            "text an outsider controls "
            "(titles, bodies, branch names, commit messages) expanded into a "
            "shell script can inject commands",
            "pass it through `env:` and quote the variable in the script",
        ),
    )
}

SHA = re.compile(r"^[0-9a-f]{40}$")
SECRET_NAMES = re.compile(
    r"AZURE_CREDENTIALS|CLIENT_SECRET|SERVICE_PRINCIPAL_KEY|"
    r"servicePrincipalKey|AWS_SECRET_ACCESS_KEY|GOOGLE_CREDENTIALS|"
    r"GCP_SA_KEY|ARM_ACCESS_KEY",
    re.IGNORECASE,
)
GITHUB_UNTRUSTED = re.compile(
    r"\$\{\{\s*(github\.event\.(issue|pull_request|comment|review|"
    r"review_comment|discussion|head_commit|commits|pages|workflow_run)"
    r"[^}]*|github\.head_ref\s*)\}\}"
)
AZURE_UNTRUSTED = re.compile(
    r"\$\((Build\.SourceVersionMessage|System\.PullRequest\.SourceBranch|"
    r"Build\.SourceBranchName|System\.PullRequest\.SourceBranchName)\)"
)


@dataclass(frozen=True)
class Finding:
    rule: str
    file: str
    line: int
    message: str

    @property
    def hint(self) -> str:
        return RULES[self.rule].fix

    @property
    def title(self) -> str:
        return RULES[self.rule].title

    def as_dict(self) -> dict[str, Any]:
        return {**asdict(self), "title": self.title, "hint": self.hint}


# ------------------------------------------------------------------ schemas
@functools.cache
def _validator(provider: str):
    from check_jsonschema.formats import FormatOptions
    from check_jsonschema.regex_variants import (
        RegexImplementation,
        RegexVariantName,
    )
    from check_jsonschema.schema_loader import BuiltinSchemaLoader

    if provider == GITHUB:
        name, variant = "vendor.github-workflows", RegexVariantName.default
    else:
        name, variant = "vendor.azure-pipelines", RegexVariantName.nonunicode
    regex = RegexImplementation(variant)
    return BuiltinSchemaLoader(name).get_validator(
        name, {}, FormatOptions(regex_impl=regex), regex, False
    )


@functools.cache
def _fast_github_validator():
    """check-jsonschema's bundled workflow schema compiled to Python code by
    fastjsonschema (about 7x faster than walking it), cached on disk by the
    schema's hash. Only a yes/no: a rejected file is validated again by the
    reference validator, which gives the message and the final word."""
    import hashlib
    import importlib.util
    import os

    import fastjsonschema

    # Read the bundled file without importing check_jsonschema, whose
    # package import sets up its whole CLI (a third of a second).
    package = importlib.util.find_spec("check_jsonschema")
    source = (
        Path(package.submodule_search_locations[0])
        / "builtin_schemas"
        / "vendor"
        / "github-workflows.json"
    )
    raw = source.read_bytes()
    schema = json.loads(raw)
    digest = hashlib.sha256(raw).hexdigest()[:16]
    cache = (
        Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
        / "mlops-scaffold"
    )
    module_path = cache / f"github_workflow_schema_{digest}_v2.py"
    try:
        if not module_path.is_file():
            cache.mkdir(parents=True, exist_ok=True)
            # use_default=False: validate only; never fill defaults into
            # the data the rules read next.
            code = fastjsonschema.compile_to_code(schema, use_default=False)
            entry = re.search(r"^def (validate\w*)\(", code, re.M)[1]
            code += f"\n\nvalidate = {entry}\n"
            partial = module_path.with_suffix(".tmp")
            partial.write_text(code, encoding="utf-8")
            partial.replace(module_path)
        spec = importlib.util.spec_from_file_location(
            module_path.stem, module_path
        )
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        return module.validate
    except (OSError, SyntaxError, ImportError, AttributeError, TypeError):
        return fastjsonschema.compile(schema, use_default=False)


def _quickly_valid(pipeline: PipelineFile) -> bool:
    if pipeline.provider != GITHUB:
        return False
    try:
        _fast_github_validator()(pipeline.data)
    except Exception:  # fastjsonschema raises its own errors
        return False
    return True


def schema_findings(pipeline: PipelineFile) -> list[Finding]:
    if _quickly_valid(pipeline):
        return []
    from jsonschema.exceptions import best_match

    data = pipeline.data
    if pipeline.provider == AZURE:
        from check_jsonschema.transforms import TRANSFORM_LIBRARY

        data = TRANSFORM_LIBRARY["azure-pipelines"](data)
    error = best_match(_validator(pipeline.provider).iter_errors(data))
    if error is None:
        return []
    deepest = error
    while deepest.context:
        deepest = best_match(deepest.context)
    where = tuple(deepest.absolute_path)
    location = "/".join(str(p) for p in where) or "(top)"
    message = deepest.message
    if len(message) > 200:
        message = message[:197] + "..."
    return [
        Finding(
            "MS101",
            pipeline.relative,
            line_of(pipeline.lines, where),
            f"{location}: {message}",
        )
    ]


# ------------------------------------------------------------- the rules
def _finding(pipeline: PipelineFile, rule: str, path: tuple, message: str):
    return Finding(
        rule, pipeline.relative, line_of(pipeline.lines, path), message
    )


def _github_permissions(pipeline: PipelineFile) -> list[Finding]:
    data = pipeline.data
    findings = []
    top = data.get("permissions", "missing")
    if top == "missing":
        findings.append(
            _finding(pipeline, "MS201", (), "no top-level `permissions:`")
        )
    elif top in ("write-all",) or (
        isinstance(top, dict) and "write" in top.values()
    ):
        findings.append(
            _finding(
                pipeline,
                "MS201",
                ("permissions",),
                f"top-level permissions grant writes: {top}",
            )
        )
    for job in pipeline.jobs():
        if job.raw.get("permissions") == "write-all":
            findings.append(
                _finding(
                    pipeline,
                    "MS201",
                    (*job.path, "permissions"),
                    f"job `{job.name}` has `write-all`",
                )
            )
    return findings


def _pinning(pipeline: PipelineFile, job: Job) -> list[Finding]:
    findings = []
    for step in job.steps:
        uses = step.uses
        if not uses or uses.startswith(("./", "$/")):
            continue
        if uses.startswith("docker://"):
            pinned, to = "@sha256:" in uses, "a digest"
        else:
            pinned, to = (
                bool(SHA.match(uses.rpartition("@")[2])),
                "a commit SHA",
            )
        if not pinned:
            findings.append(
                _finding(
                    pipeline,
                    "MS202",
                    (*step.path, "uses"),
                    f"`{uses}` is not pinned to {to}",
                )
            )
    return findings


def _keeps_token(provider: str, step) -> bool:
    if provider == GITHUB:
        action = (step.uses or "").split("@")[0].lower()
        return (
            action == "actions/checkout"
            and step.inputs.get("persist-credentials") is not False
        )
    return (step.uses or "").startswith("checkout:") and str(
        step.raw.get("persistCredentials", "false")
    ).lower() == "true"


def _credentials(pipeline: PipelineFile, job: Job) -> list[Finding]:
    return [
        _finding(
            pipeline,
            "MS203",
            step.path,
            f"checkout in `{job.label}` keeps the token",
        )
        for step in job.steps
        if _keeps_token(pipeline.provider, step)
    ]


def _timeouts(pipeline: PipelineFile, job: Job) -> list[Finding]:
    if pipeline.provider == GITHUB:
        if "uses" in job.raw or "timeout-minutes" in job.raw:
            return []
    elif "timeoutInMinutes" in job.raw or job.name == "(steps)":
        return []
    return [
        _finding(
            pipeline, "MS204", job.path, f"job `{job.label}` has no timeout"
        )
    ]


def _is_production(job: Job) -> bool:
    names = [job.name, job.environment or "", job.stage or ""]
    return any(PRODUCTION.search(name) for name in names)


def _is_staging(job: Job) -> bool:
    names = [job.name, job.environment or "", job.stage or ""]
    return any(
        STAGING.search(n) and not PRODUCTION.search(n) for n in names if n
    )


def _production_gate(pipeline: PipelineFile, jobs: list[Job]) -> list[Finding]:
    findings = []
    for job in jobs:
        if not _is_production(job):
            continue
        gated = job.environment is not None and (
            pipeline.provider == GITHUB or "deployment" in job.raw
        )
        if not gated:
            findings.append(
                _finding(
                    pipeline,
                    "MS205",
                    job.path,
                    f"`{job.label}` deploys to production without an "
                    "environment gate",
                )
            )
    return findings


def _github_after_staging(pipeline: PipelineFile, jobs: list[Job]):
    by_name = {job.name: job for job in jobs}
    findings = []
    for job in jobs:
        if not _is_production(job):
            continue
        seen, queue = set(), list(job.needs)
        while queue:
            name = queue.pop()
            if name in seen or name not in by_name:
                continue
            seen.add(name)
            queue += by_name[name].needs
        if not any(_is_staging(by_name[n]) for n in seen):
            findings.append(
                _finding(
                    pipeline,
                    "MS206",
                    job.path,
                    f"`{job.name}` does not need a staging job",
                )
            )
    return findings


def _azure_after_staging(pipeline: PipelineFile) -> list[Finding]:
    stages = azure_stages(pipeline.data)
    depends: dict[str, list[str]] = {}
    previous = None
    for stage in stages:
        name = str(stage.get("stage"))
        if "dependsOn" in stage:
            depends[name] = [str(d) for d in _list(stage["dependsOn"])]
        else:
            depends[name] = [previous] if previous else []
        previous = name
    staging = {
        str(s.get("stage"))
        for s in stages
        if STAGING.search(str(s.get("stage")))
        or any(_is_staging(j) for j in _stage_jobs(pipeline, s))
    }
    findings = []
    for index, stage in enumerate(stages):
        name = str(stage.get("stage"))
        if not PRODUCTION.search(name):
            continue
        seen, queue = set(), list(depends.get(name, []))
        while queue:
            item = queue.pop()
            if item not in seen:
                seen.add(item)
                queue += depends.get(item, [])
        if not seen & staging:
            findings.append(
                _finding(
                    pipeline,
                    "MS206",
                    ("stages", index),
                    f"stage `{name}` does not depend on a staging stage",
                )
            )
    return findings


def _stage_jobs(pipeline: PipelineFile, stage: dict) -> list[Job]:
    name = stage.get("stage")
    return [job for job in pipeline.jobs() if job.stage == name]


def _list(value: Any) -> list:
    if value is None:
        return []
    return [value] if isinstance(value, str) else list(value)


def _secrets(pipeline: PipelineFile, text: str) -> list[Finding]:
    findings = []
    for number, line in enumerate(text.splitlines(), start=1):
        stripped = line.split("#", 1)[0] if pipeline.provider else line
        if SECRET_NAMES.search(stripped) and (
            "secrets." in stripped or "$(" in stripped or ":" in stripped
        ):
            findings.append(
                Finding(
                    "MS207",
                    pipeline.relative,
                    number,
                    f"a stored cloud secret is used: `{stripped.strip()[:80]}`",
                )
            )
    for job in pipeline.jobs():
        for step in job.steps:
            if (step.uses or "").lower().startswith("azure/login") and (
                "creds" in step.inputs
            ):
                findings.append(
                    _finding(
                        pipeline,
                        "MS207",
                        (*step.path, "with", "creds"),
                        "azure/login uses a stored credential (creds)",
                    )
                )
    return findings


def _pull_request_target(pipeline: PipelineFile) -> list[Finding]:
    if "pull_request_target" not in pipeline.triggers():
        return []
    findings = []
    for job in pipeline.jobs():
        for step in job.steps:
            if (step.uses or "").split("@")[0].lower() != "actions/checkout":
                continue
            ref = str(step.inputs.get("ref", ""))
            if "head" in ref or "merge" in ref:
                findings.append(
                    _finding(
                        pipeline,
                        "MS208",
                        step.path,
                        f"`{job.name}` checks out the PR head ({ref})",
                    )
                )
    return findings


def _untrusted_input(pipeline: PipelineFile, job: Job) -> list[Finding]:
    pattern = (
        GITHUB_UNTRUSTED if pipeline.provider == GITHUB else AZURE_UNTRUSTED
    )
    findings = []
    for step in job.steps:
        scripts = [step.command]
        if (step.uses or "").startswith("actions/github-script"):
            scripts.append(step.inputs.get("script"))
        for script in scripts:
            if isinstance(script, str) and (match := pattern.search(script)):
                findings.append(
                    _finding(
                        pipeline,
                        "MS209",
                        step.path,
                        f"`{match.group(0)}` is expanded inside a "
                        f"script in `{job.label}`",
                    )
                )
    return findings


def policy_findings(pipeline: PipelineFile, text: str) -> list[Finding]:
    if not isinstance(pipeline.data, dict):
        return []
    jobs = pipeline.jobs()
    findings: list[Finding] = []
    if pipeline.provider == GITHUB:
        findings += _github_permissions(pipeline)
        findings += _pull_request_target(pipeline)
        findings += _github_after_staging(pipeline, jobs)
    else:
        findings += _azure_after_staging(pipeline)
    findings += _production_gate(pipeline, jobs)
    for job in jobs:
        if pipeline.provider == GITHUB:
            findings += _pinning(pipeline, job)
        findings += _credentials(pipeline, job)
        findings += _timeouts(pipeline, job)
        findings += _untrusted_input(pipeline, job)
    findings += _secrets(pipeline, text)
    return findings


# ----------------------------------------------------------------- the API
def check_file(root: Path, relative: str, provider: str) -> list[Finding]:
    text = (root / relative).read_text(encoding="utf-8")
    try:
        pipeline = PipelineFile.parse(text, relative, provider)
    except MalformedFileError as error:
        return [Finding("MS100", relative, error.line or 1, error.message)]
    return schema_findings(pipeline) + policy_findings(pipeline, text)


def check_repository(path: Path | str = ".") -> list[Finding]:
    """Every finding in every pipeline file below ``path``, sorted."""
    root = Path(path)
    if not root.is_dir():
        raise UsageError(
            f"{root} is not a folder.",
            hint="pass the repository's folder (default: the current one)",
        )
    findings = []
    for relative, provider in discover(root):
        findings += check_file(root, relative, provider)
    return sorted(set(findings), key=lambda f: (f.file, f.line, f.rule))


def render(findings: list[Finding], style: str, checked: int) -> str:
    if style == "json":
        return json.dumps([f.as_dict() for f in findings], indent=2)
    if style == "github":
        return "\n".join(
            f"::error file={f.file},line={f.line},title={f.rule} "
            f"{f.title}::{_escape(f.message)}. Fix: {_escape(f.hint)}"
            for f in findings
        )
    lines = [
        f"{f.file}:{f.line}: {f.rule} {f.title}: {f.message}\n"
        f"    why: {RULES[f.rule].why}\n    fix: {f.hint}"
        for f in findings
    ]
    lines.append(
        f"{len(findings)} finding(s) in {checked} pipeline file(s)"
        if findings
        else f"{checked} pipeline file(s) checked: no findings"
    )
    return "\n".join(lines)


def _escape(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")
