"""`check` on real repositories' pipelines (tests/corpus, see its
LICENSES.md): no crash on any file, no schema error on files the services
accept, and defects planted into copies are found."""

from __future__ import annotations

import copy
import functools
from pathlib import Path

import pytest
import yaml

from mlops_scaffold.pipelines.check import check
from mlops_scaffold.pipelines.discovery import discover
from mlops_scaffold.yamlio import load_untrusted

CORPUS = Path(__file__).parent / "corpus"
REPOSITORIES = sorted(
    path for owner in CORPUS.iterdir() if owner.is_dir()
    for path in owner.iterdir() if path.is_dir()
)  # fmt: skip

# The only files of the corpus the schema rejects, each for a reason the
# service shares (or that no schema can see).
REJECTED = {
    # Not a workflow (a probot config) in .github/workflows: GitHub lists
    # it as an invalid workflow file too.
    ("microsoft/azure-pipelines-yaml", ".github/workflows/stale.yml"),
    # A starter workflow is a template with placeholders the GitHub UI
    # fills in (`matrix: $codeql-languages-matrix`). Empty `with:` inputs
    # and `strategy` without `matrix` are GitHub's own accepted forms
    # (workflow-v1.0.json), which SchemaStore's schema refused.
    ("actions/starter-workflows", "code-scanning/codeql.yml"),
    # A job consumed by a 1ES `extends` template, which takes job-level
    # `parameters` that plain Azure Pipelines does not: a false positive
    # no schema of the file alone can avoid.
    ("microsoft/azure-pipelines-agent", ".azure-pipelines/build-job.yml"),
}


def _name(repository: Path) -> str:
    return f"{repository.parent.name}/{repository.name}"


@pytest.fixture(scope="module")
def results():
    return {_name(repo): check(repo) for repo in REPOSITORIES}


def test_the_corpus_is_a_few_hundred_files_of_both_providers(results):
    checked = sum(len(r.checked) for r in results.values())
    assert checked >= 500
    providers = {s.provider for _, sources in _sources() for s in sources}
    assert providers == {"github", "azure"}


def test_no_file_crashes_and_every_finding_is_located(results):
    for name, result in results.items():
        for finding in result.findings:
            assert finding.file in result.checked, (name, finding)
            assert finding.line >= 1
            assert finding.rule != "MS001", finding.message  # zizmor ran


def test_no_schema_error_on_files_the_services_accept(results):
    rejected = {
        (name, f.file)
        for name, result in results.items()
        for f in result.findings
        if f.rule in ("MS100", "MS101")
    }
    assert rejected == REJECTED


# Expression findings (MS212) on the unmodified corpus: each a real defect.
EXPRESSION_DEFECTS = {
    # `steps.deploy.outputs.url` where the deploy step has no `id`: the
    # value is always empty (actionlint reports it too).
    ("actions/starter-workflows", "deployments/google-cloudrun-docker.yml"),
    ("actions/starter-workflows", "deployments/google-cloudrun-source.yml"),
}


def test_expressions_of_the_corpus_are_accepted_but_for_real_defects(results):
    found = {
        (name, f.file)
        for name, result in results.items()
        for f in result.findings
        if f.rule == "MS212"
    }
    assert found == EXPRESSION_DEFECTS


# ------------------------------------------------------------ planting
def _steps(node, depth=0):
    """The first list of steps in a document (any provider)."""
    if depth > 12:
        return None
    if isinstance(node, dict):
        steps = node.get("steps")
        if isinstance(steps, list) and all(isinstance(s, dict) for s in steps):
            return steps
        for value in node.values():
            found = _steps(value, depth + 1)
            if found is not None:
                return found
    elif isinstance(node, list):
        for value in node:
            found = _steps(value, depth + 1)
            if found is not None:
                return found
    return None


def _add_step(step):
    def plant(data):
        steps = _steps(data)
        if steps is None:
            return False
        steps.append(step)
        return True

    return plant


def _first_job(data):
    """The first job of a document: GitHub's `jobs:` mapping, Azure's
    `jobs:` list (at the top or in the first stage)."""
    if not isinstance(data, dict):
        return None
    jobs = data.get("jobs")
    if isinstance(jobs, dict):
        return next((j for j in jobs.values() if isinstance(j, dict)), None)
    lists = [jobs] + [
        stage.get("jobs")
        for stage in data.get("stages") or []
        if isinstance(stage, dict)
    ]
    for jobs in lists:
        for job in jobs if isinstance(jobs, list) else []:
            if isinstance(job, dict) and ("job" in job or "deployment" in job):
                return job
    return None


def _set_in_job(key, value):
    def plant(data):
        job = _first_job(data)
        if job is None:
            return False
        job[key] = value
        return True

    return plant


def _depends_on_missing(data):
    """A job's `dependsOn` naming no job. Not in a jobs template: its jobs
    join the including stage, whose jobs it may name (the defect is
    reported where the template is included, not in the file alone)."""
    if not isinstance(data, dict) or (
        isinstance(data.get("jobs"), list)
        and not {"trigger", "pr", "schedules", "pool"} & set(data)
    ):
        return False
    return _set_in_job("dependsOn", "NoSuchJob")(data)


def _duplicate_job(data):
    """A second job with the first job's name, beside it."""
    lists = (
        [data.get("jobs")]
        + [
            stage.get("jobs")
            for stage in data.get("stages") or []
            if isinstance(stage, dict)
        ]
        if isinstance(data, dict)
        else []
    )
    for jobs in lists:
        for job in jobs if isinstance(jobs, list) else []:
            if isinstance(job, dict) and "job" in job:
                jobs.append(copy.deepcopy(job))
                return True
    return False


def _plain_production_job(data):
    """A production deployment without its gate: a plain job that deploys
    (GitHub: no `environment:`; Azure: `job:`, not `deployment:`)."""
    if not isinstance(data, dict):
        return False
    jobs = data.get("jobs")
    if isinstance(jobs, dict):
        jobs["deploy-production"] = {
            "runs-on": "ubuntu-latest",
            "timeout-minutes": 10,
            "steps": [{"run": "make deploy ENVIRONMENT=production"}],
        }
        return True
    job = {
        "job": "DeployProduction",
        "timeoutInMinutes": 10,
        "steps": [{"script": "make deploy ENVIRONMENT=production"}],
    }
    if isinstance(jobs, list):
        jobs.append(job)
        return True
    stages = data.get("stages")
    if isinstance(stages, list):
        stages.append({"stage": "Production", "jobs": [job]})
        return True
    return False


def _write_all(data):
    jobs = data.get("jobs") if isinstance(data, dict) else None
    if not isinstance(jobs, dict) or not jobs:
        return False
    data["permissions"] = "write-all"
    for job in jobs.values():
        if isinstance(job, dict):
            job["permissions"] = "write-all"
    return True


# (name, provider, kind, plant, expected rule)
PLANTS = [
    ("github-injection", "github", "workflow",
     _add_step({"run": 'echo "${{ github.event.issue.title }}"'}), "MS209"),
    ("github-unpinned", "github", "workflow",
     _add_step({"uses": "someone/action@main"}), "MS202"),
    ("github-write-all", "github", "workflow", _write_all, "MS201"),
    # zizmor's default persona misses some write-all (MS201); MS207 does not.
    ("github-write-all-data-flow", "github", "workflow", _write_all, "MS207"),
    ("action-unpinned", "github", "action",
     _add_step({"uses": "someone/action@v1"}), "MS202"),
    ("azure-persisted-checkout", "azure", None,
     _add_step({"checkout": "self", "persistCredentials": True}), "MS203"),
    ("azure-injection", "azure", None,
     _add_step({"script": "echo $(Build.SourceVersionMessage)"}), "MS209"),
    ("azure-unknown-step-key", "azure", None,
     _add_step({"script": "make", "stepz": 1}), "MS101"),
    ("azure-stored-secret", "azure", None,
     _add_step({"script": "login --key $(ARM_CLIENT_SECRET)"}), "MS207"),
    ("github-broken-if", "github", "workflow",
     _add_step({"run": "make", "if": "github.ref == 'refs/heads/main' &&"}), "MS212"),
    ("github-unknown-function", "github", "workflow",
     _add_step({"run": "make", "if": "startsWith(github.ref, 'a') && contain(github.ref, 'b')"}), "MS212"),
    ("github-unknown-job-key", "github", "workflow",
     _set_in_job("stepz", []), "MS101"),
    ("github-timeout-not-a-number", "github", "workflow",
     _set_in_job("timeout-minutes", "sixty"), "MS101"),
    ("github-context-not-available", "github", "workflow",
     _set_in_job("concurrency", "${{ secrets.GROUP }}"), "MS101"),
    ("github-needs-missing-job", "github", "workflow",
     _set_in_job("needs", ["no-such-job"]), "MS212"),
    ("github-missing-step-id", "github", "workflow",
     _add_step({"run": "echo ${{ steps.no-such-step.outputs.x }}"}), "MS212"),
    ("azure-broken-condition", "azure", None,
     _add_step({"script": "make", "condition": "and(succeeded(), eq(variables.x, 'a')"}), "MS212"),
    ("azure-broken-template-expression", "azure", None,
     _add_step({"${{ if eq(variables.x, 'a' }}": [{"script": "make"}]}), "MS212"),
    ("azure-depends-on-missing", "azure", None, _depends_on_missing, "MS212"),
    ("azure-password-on-command-line", "azure", None,
     _add_step({"script": "az login --service-principal -u $(SP_ID) -p $(SP_PASS) --tenant $(T)"}), "MS207"),
    ("azure-secret-set-in-clear", "azure", None,
     _add_step({"script": 'echo "##vso[task.setvariable variable=sp_password]$(x)"'}), "MS207"),
    ("github-secret-echoed", "github", "workflow",
     _add_step({"run": "echo ${{ secrets.DEPLOY_TOKEN }}"}), "MS207"),
    ("github-production-gate-removed", "github", "workflow",
     _plain_production_job, "MS205"),
    ("azure-production-plain-job", "azure", None, _plain_production_job, "MS205"),
    ("azure-timeout-not-a-number", "azure", None,
     _set_in_job("timeoutInMinutes", "sixty"), "MS213"),
    ("azure-duplicate-job", "azure", None, _duplicate_job, "MS213"),
    ("azure-missing-template", "azure", None,
     _add_step({"template": "no/such/steps.yml"}), "MS102"),
]  # fmt: skip
PER_PLANT = 5


@functools.cache
def _sources():
    return [(repo, discover(repo).sources) for repo in REPOSITORIES]


def _candidates(provider, kind, plant):
    """PER_PLANT files spread over the corpus among those the defect can
    be planted into."""
    found = []
    for repo, sources in _sources():
        for source in sources:
            if source.provider == provider and kind in (None, source.kind):
                path = repo / source.relative
                data, _ = load_untrusted(path.read_bytes(), path)
                if plant(copy.deepcopy(data)):
                    found.append(path)
    return found[:: max(1, len(found) // PER_PLANT)][:PER_PLANT]


@pytest.mark.e2e  # each plant checks a real file with zizmor: ~1 s a case
@pytest.mark.parametrize(
    ("provider", "kind", "plant", "rule"),
    [case[1:] for case in PLANTS],
    ids=[case[0] for case in PLANTS],
)
def test_defects_planted_into_real_files_are_found(
    tmp_path, provider, kind, plant, rule
):
    planted = 0
    for source in _candidates(provider, kind, plant):
        relative = (
            ".github/workflows/x.yml"
            if kind == "workflow"
            else "tools/x/action.yml"
            if kind == "action"
            else "eng/pipelines/x.yml"
        )
        data, _ = load_untrusted(source.read_bytes(), source)
        root = tmp_path / f"{planted}-{source.name}"
        target = root / relative
        target.parent.mkdir(parents=True)
        target.write_text(yaml.safe_dump(data, sort_keys=False))
        before = {f.rule for f in check(root).findings}
        if not plant(data):
            continue
        target.write_text(yaml.safe_dump(data, sort_keys=False))
        after = check(root).findings
        assert rule in {f.rule for f in after}, (source, before, after)
        planted += 1
    assert planted >= 3
