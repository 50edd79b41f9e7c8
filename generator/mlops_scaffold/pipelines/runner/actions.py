"""The emulated well-known actions (GitHub) and tasks (Azure Pipelines).

Each entry does locally what the action does on a hosted runner, as far
as a developer's machine allows (docs/decisions/0004-local-runner.md):

===========================  ==============================================
checkout / ``checkout:``     nothing: the job runs in the working tree
setup-python /               a virtual environment of the requested Python
UsePythonVersion@0           (PATH, then pyenv), first on PATH; absent:
                             the job is skipped, never another version
setup-uv                     the uv on PATH (or beside mlops-scaffold)
cache / Cache@2              nothing (no restore, no save)
upload-/download-artifact,   copy to/from the run's artifact folder
Publish/DownloadPipeline-
Artifact, publish/download
test and coverage publishing skipped (a service feature)
azure/login, AzureCLI@2      run for real: ``az account show``; the
                             AzureCLI@2 script runs with bash
setup-terraform              the terraform on PATH
===========================  ==============================================

Anything else is skipped and named (``--strict``: an error)."""

from __future__ import annotations

import glob
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from .report import FAILURE, SKIPPED, SUCCESS


class SkipJob(Exception):
    """The job cannot run on this machine (a Python that is not installed):
    it is reported as skipped with this reason, never run on a substitute."""


@dataclass
class ActionContext:
    """What an emulated action may read and change."""

    workspace: Path
    temp: Path
    tools: Path
    artifacts: Path
    env: dict[str, str]  # the job's environment (changes persist)
    path: list[str]  # folders prepended to PATH (changes persist)
    run: Callable[[str, Mapping[str, str]], tuple[int, str]]


@dataclass
class Outcome:
    status: str = SUCCESS
    reason: str = ""
    output: str = ""
    outputs: dict[str, str] = field(default_factory=dict)


def _truthy(value: str | None) -> bool:
    return str(value or "").strip().lower() == "true"


# Python --------------------------------------------------------------------


def _runs(executable: str) -> str | None:
    """The X.Y.Z version of an interpreter, if it runs (pyenv shims for a
    version that is not selected do not)."""
    try:
        done = subprocess.run(
            [executable, "-c", "import sys; print(sys.version.split()[0])"],
            capture_output=True,
            text=True,
            timeout=30,
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    return done.stdout.strip() if done.returncode == 0 else None


def find_python(spec: str) -> tuple[str, str] | None:
    """(executable, version) for ``spec`` ("3.11", "3.12.1", "3.x"), from
    PATH then pyenv's versions; None when it is not installed."""
    wanted = spec.strip().removesuffix(".x")
    major_minor = ".".join(wanted.split(".")[:2])
    names = [f"python{major_minor}"] if "." in wanted else []
    names += ["python3", "python"]
    candidates = [p for n in names if (p := shutil.which(n))]
    pyenv = Path(os.environ.get("PYENV_ROOT", Path.home() / ".pyenv"))
    candidates += sorted(
        str(p)
        for p in (pyenv / "versions").glob(f"{wanted}*/bin/python3")
        if p.is_file()
    )
    for candidate in candidates:
        version = _runs(candidate)
        if version and (version == wanted or version.startswith(wanted + ".")):
            return candidate, version
    return None


def python_environment(ctx: ActionContext, spec: str) -> Outcome:
    """A virtual environment of Python ``spec`` (kept in the tool cache,
    like the hosted runners' tool cache), first on PATH."""
    if not spec:
        version_file = ctx.workspace / ".python-version"
        spec = (
            version_file.read_text(encoding="utf-8").split()[0]
            if version_file.is_file()
            else f"{sys.version_info.major}.{sys.version_info.minor}"
        )
    found = find_python(spec)
    if found is None:
        raise SkipJob(f"Python {spec} is not installed here")
    executable, version = found
    venv = ctx.tools / "python" / version
    if not (venv / "bin" / "python").is_file():
        venv.parent.mkdir(parents=True, exist_ok=True)
        # Without its own pip (ensurepip takes seconds): the base
        # interpreter's pip, seen through its site-packages, installs into
        # this environment, as pip does into the runners' tool-cache Python.
        has_pip = (
            subprocess.run(
                [executable, "-c", "import pip"], capture_output=True
            ).returncode
            == 0
        )
        options = ["--without-pip", "--system-site-packages"] if has_pip else []
        done = subprocess.run(
            [executable, "-m", "venv", *options, str(venv)],
            capture_output=True,
            text=True,
        )
        if done.returncode:
            return Outcome(FAILURE, output=done.stdout + done.stderr)
    ctx.path.insert(0, str(venv / "bin"))
    ctx.env["pythonLocation"] = str(venv)
    return Outcome(
        reason=f"Python {version} from {executable}",
        outputs={
            "python-version": version,
            "python-path": str(venv / "bin" / "python"),
        },
    )


def _setup_python(ctx: ActionContext, inputs: Mapping[str, str]) -> Outcome:
    spec = inputs.get("python-version", "")
    if not spec and inputs.get("python-version-file"):
        path = ctx.workspace / inputs["python-version-file"]
        if path.is_file():
            spec = path.read_text(encoding="utf-8").split()[0]
    return python_environment(ctx, spec)


def _use_python_version(
    ctx: ActionContext, inputs: Mapping[str, str]
) -> Outcome:
    return python_environment(ctx, inputs.get("versionSpec", ""))


# Tools ---------------------------------------------------------------------


def _tool_shim(ctx: ActionContext, name: str) -> Outcome:
    """Put ``name`` (from PATH, or beside the running Python) on PATH."""
    found = shutil.which(name, path=os.pathsep.join(ctx.path) or None)
    found = found or shutil.which(name, path=ctx.env.get("PATH"))
    if not found:
        beside = Path(sys.executable).parent / name
        if beside.is_file():
            shims = ctx.tools / "shims" / name
            shims.mkdir(parents=True, exist_ok=True)
            link = shims / name
            if not link.exists():
                link.symlink_to(beside)
            ctx.path.insert(0, str(shims))
            return Outcome(reason=f"{name} from {beside}")
        return Outcome(FAILURE, reason=f"{name} is not installed here")
    return Outcome(reason=f"{name} from {found}")


def _setup_uv(ctx: ActionContext, inputs: Mapping[str, str]) -> Outcome:
    outcome = _tool_shim(ctx, "uv")
    if outcome.status == SUCCESS and inputs.get("python-version"):
        ctx.env["UV_PYTHON"] = inputs["python-version"]
    return outcome


# Artifacts -----------------------------------------------------------------


def _copy_into(
    ctx: ActionContext, patterns: list[str], target: Path
) -> Outcome:
    """upload-artifact: the matching files, relative to their least common
    ancestor folder (as actions/upload-artifact v4 lays them out)."""
    found: list[Path] = []
    for pattern in patterns:
        for match in glob.glob(str(ctx.workspace / pattern), recursive=True):
            path = Path(match)
            found.extend(
                [p for p in path.rglob("*") if p.is_file()]
                if path.is_dir()
                else [path]
            )
    if not found:
        return Outcome(reason="no files matched the path (nothing kept)")
    root = Path(os.path.commonpath([str(p.parent) for p in found]))
    for path in found:
        destination = target / path.relative_to(root)
        destination.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(path, destination)
    return Outcome(reason=f"{len(found)} file(s) kept in {target}")


def _lines(value: str | None) -> list[str]:
    return [
        line.strip()
        for line in str(value or "").splitlines()
        if line.strip() and not line.strip().startswith("!")
    ]


def _upload_artifact(ctx: ActionContext, inputs: Mapping[str, str]) -> Outcome:
    name = inputs.get("name") or "artifact"
    outcome = _copy_into(ctx, _lines(inputs.get("path")), ctx.artifacts / name)
    if outcome.reason.startswith("no files") and (
        inputs.get("if-no-files-found") == "error"
    ):
        outcome.status = FAILURE
    return outcome


def _download(ctx: ActionContext, name: str, path: str) -> Outcome:
    source = ctx.artifacts / name if name else ctx.artifacts
    if not source.is_dir():
        return Outcome(FAILURE, reason=f"no artifact {name!r} in this run")
    target = ctx.workspace / path if path else ctx.workspace
    shutil.copytree(source, target, dirs_exist_ok=True)
    return Outcome(reason=f"artifact {name or '(all)'} -> {target}")


def _download_artifact(
    ctx: ActionContext, inputs: Mapping[str, str]
) -> Outcome:
    return _download(ctx, inputs.get("name", ""), inputs.get("path", ""))


def _publish_pipeline_artifact(
    ctx: ActionContext, inputs: Mapping[str, str]
) -> Outcome:
    name = inputs.get("artifact") or inputs.get("artifactName") or "drop"
    target = (
        inputs.get("targetPath")
        or inputs.get("path")
        or inputs.get("PathtoPublish")
        or "."
    )
    source = ctx.workspace / target
    destination = ctx.artifacts / name
    if source.is_dir():
        shutil.copytree(source, destination, dirs_exist_ok=True)
    elif source.is_file():
        destination.mkdir(parents=True, exist_ok=True)
        shutil.copy2(source, destination)
    else:
        return Outcome(FAILURE, reason=f"{target} does not exist")
    return Outcome(reason=f"kept in {destination}")


def _download_pipeline_artifact(
    ctx: ActionContext, inputs: Mapping[str, str]
) -> Outcome:
    name = inputs.get("artifact") or inputs.get("artifactName") or ""
    path = inputs.get("path") or inputs.get("targetPath") or ""
    return _download(ctx, name, path)


# Cloud ---------------------------------------------------------------------


def _azure_login(ctx: ActionContext, inputs: Mapping[str, str]) -> Outcome:
    code, output = ctx.run("az account show --output none", {})
    if code:
        return Outcome(
            FAILURE,
            reason="not logged in to Azure here (run `az login`)",
            output=output,
        )
    return Outcome(reason="uses this machine's az login")


def _azure_cli(ctx: ActionContext, inputs: Mapping[str, str]) -> Outcome:
    login = _azure_login(ctx, inputs)
    if login.status != SUCCESS:
        return login
    script = inputs.get("inlineScript", "")
    if inputs.get("scriptLocation") == "scriptPath" or inputs.get("scriptPath"):
        script = (
            f"bash {inputs.get('scriptPath')} {inputs.get('arguments', '')}"
        )
    if inputs.get("scriptType", "bash") not in ("bash", "sh"):
        return Outcome(
            SKIPPED, reason=f"scriptType {inputs.get('scriptType')} is not run"
        )
    code, output = ctx.run(script, {})
    return Outcome(SUCCESS if code == 0 else FAILURE, output=output)


def _nothing(why: str) -> Callable[[ActionContext, Mapping[str, str]], Outcome]:
    def action(ctx: ActionContext, inputs: Mapping[str, str]) -> Outcome:
        return Outcome(reason=why)

    return action


def _skip(why: str) -> Callable[[ActionContext, Mapping[str, str]], Outcome]:
    def action(ctx: ActionContext, inputs: Mapping[str, str]) -> Outcome:
        return Outcome(SKIPPED, reason=why)

    return action


def _cache(ctx: ActionContext, inputs: Mapping[str, str]) -> Outcome:
    return Outcome(
        reason="cache: not restored or saved locally",
        outputs={"cache-hit": "false"},
    )


Action = Callable[[ActionContext, Mapping[str, str]], Outcome]

#: GitHub actions by ``owner/name[/path]`` (lower case, no ref).
GITHUB_ACTIONS: dict[str, Action] = {
    "actions/checkout": _nothing("the working tree as it is"),
    "actions/setup-python": _setup_python,
    "astral-sh/setup-uv": _setup_uv,
    "actions/cache": _cache,
    "actions/cache/restore": _cache,
    "actions/cache/save": _cache,
    "actions/upload-artifact": _upload_artifact,
    "actions/download-artifact": _download_artifact,
    "azure/login": _azure_login,
    "hashicorp/setup-terraform": lambda ctx, _: _tool_shim(ctx, "terraform"),
    "dorny/test-reporter": _skip("test-result publishing is a service feature"),
    "enricomi/publish-unit-test-result-action": _skip(
        "test-result publishing is a service feature"
    ),
}

#: Azure tasks by ``Name@major`` (lower case).
AZURE_TASKS: dict[str, Action] = {
    "usepythonversion@0": _use_python_version,
    "cache@2": _cache,
    "publishpipelineartifact@1": _publish_pipeline_artifact,
    "publishbuildartifacts@1": _publish_pipeline_artifact,
    "downloadpipelineartifact@2": _download_pipeline_artifact,
    "downloadbuildartifacts@1": _download_pipeline_artifact,
    "azurecli@2": _azure_cli,
    "publishtestresults@2": _skip(
        "test-result publishing is a service feature"
    ),
    "publishcodecoverageresults@1": _skip(
        "coverage publishing is a service feature"
    ),
    "publishcodecoverageresults@2": _skip(
        "coverage publishing is a service feature"
    ),
}


def github_action(uses: str) -> Action | None:
    """The emulation of ``owner/name[/path]@ref``, if any."""
    name = re.sub(r"@.*$", "", uses).strip().lower()
    return GITHUB_ACTIONS.get(name)


def azure_task(task: str) -> Action | None:
    return AZURE_TASKS.get(task.strip().lower())
