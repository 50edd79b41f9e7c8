"""`adopt`: add the pipelines to a repository that mlops-scaffold did not make.

It infers what it can (package name, Python version, default branch, CI
provider), renders the template with those answers, and adds what is
missing. It never overwrites a file: a workflow or pipeline of the same name
gets the missing jobs merged in with ruamel.yaml round-trip editing (the
user's comments, order, quoting and formatting kept); any other existing file
that differs is left alone and the template's version is written alongside
it (``NAME.mlops-scaffold``), and the command says so. It records the
answers and the template branch, so that ``update`` works afterwards.
"""

from __future__ import annotations

import io
import re
import shutil
import tempfile
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from . import gitutil
from .answers import check_known
from .errors import MalformedFileError
from .pipelines import provider_of
from .render import render, staging_folder
from .template import ANSWERS_FILE, TEMPLATE_BRANCH, questions
from .update import commit_tree
from .yamlio import malformed_yaml, round_trip

ALONGSIDE = ".mlops-scaffold"


@dataclass
class AdoptResult:
    answers: dict[str, Any] = field(default_factory=dict)
    added: list[str] = field(default_factory=list)
    merged: list[str] = field(default_factory=list)
    alongside: list[str] = field(default_factory=list)
    already_adopted: bool = False


# ----------------------------------------------------------------- inferring
def _python_version(spec: str | None) -> str | None:
    choices = questions()["python_version"]["choices"]
    match = re.search(r"(\d+)\.(\d+)", spec or "")
    if not match:
        return None
    wanted = (int(match[1]), int(match[2]))
    for choice in choices:
        major, minor = (int(p) for p in choice.split("."))
        if (major, minor) >= wanted:
            return choice
    return None


def infer_answers(root: Path) -> dict[str, Any]:
    """Answers read from the repository: what a user would otherwise type."""
    inferred: dict[str, Any] = {}
    pyproject = root / "pyproject.toml"
    project: dict[str, Any] = {}
    if pyproject.is_file():
        try:
            project = tomllib.loads(pyproject.read_text("utf-8")).get(
                "project", {}
            )
        except tomllib.TOMLDecodeError as error:
            raise MalformedFileError(
                pyproject, f"is not valid TOML: {error}"
            ) from error
    name = project.get("name") or root.name
    slug = re.sub(r"[^a-z0-9]+", "-", str(name).lower()).strip("-")
    slug = re.sub(r"^[^a-z]+", "", slug)[:40].rstrip("-")
    if slug:
        inferred["project_slug"] = slug
        inferred["project_name"] = slug.replace("-", " ").title()
    if project.get("description"):
        inferred["description"] = " ".join(str(project["description"]).split())
    authors = project.get("authors") or []
    if authors and isinstance(authors[0], dict):
        if authors[0].get("name"):
            inferred["author_name"] = authors[0]["name"]
        if authors[0].get("email"):
            inferred["author_email"] = authors[0]["email"]
    version = _python_version(project.get("requires-python"))
    if version is None and (root / ".python-version").is_file():
        version = _python_version((root / ".python-version").read_text())
    if version:
        inferred["python_version"] = version
    packages = sorted(p.parent.name for p in root.glob("src/*/__init__.py"))
    wanted = slug.replace("-", "_")
    if packages:
        inferred["package_name"] = wanted if wanted in packages else packages[0]
    github = any((root / ".github" / "workflows").glob("*.y*ml"))
    azure = (root / "azure-pipelines").is_dir() or any(
        root.glob("azure-pipelines.y*ml")
    )
    if github or azure:
        inferred["ci_provider"] = (
            "both" if github and azure else "github" if github else "azure"
        )
    inferred["default_branch"] = _default_branch(root)
    return inferred


def _default_branch(root: Path) -> str:
    remote = gitutil.git(
        "symbolic-ref", "--short", "refs/remotes/origin/HEAD",
        cwd=root, check=False,
    )  # fmt: skip
    if remote.returncode == 0 and remote.stdout.strip():
        return remote.stdout.strip().split("/", 1)[-1]
    return gitutil.output("branch", "--show-current", cwd=root) or "main"


# ------------------------------------------------------------------ merging
def _load(text: str, path: Path):
    from ruamel.yaml.error import MarkedYAMLError

    try:
        return round_trip().load(text)
    except MarkedYAMLError as error:
        raise malformed_yaml(
            path,
            error,
            hint="fix the file (or move it away), then adopt again; "
            "nothing was written",
        ) from error


def _names(items, *keys: str) -> set[str]:
    return {
        str(item.get(key))
        for item in items or []
        if isinstance(item, dict)
        for key in keys
        if key in item
    }


def merge_pipeline(existing: str, rendered: str, path: Path) -> str | None:
    """The user's pipeline with the template's missing jobs (or stages)
    added, formatted as the user wrote it; None when merging makes no
    sense (different shapes)."""
    ours, theirs = _load(existing, path), _load(rendered, path)
    if not isinstance(ours, dict) or not isinstance(theirs, dict):
        return None
    if provider_of_path(path) == "github":
        if not isinstance(ours.get("jobs"), dict):
            return None
        for name, job in theirs.get("jobs", {}).items():
            if name not in ours["jobs"]:
                ours["jobs"][name] = job
    else:
        # The template's jobs read its pipeline variables: add the missing.
        variables = theirs.get("variables")
        if isinstance(variables, dict):
            if "variables" not in ours:
                ours.insert(len(ours) - 1, "variables", variables)
            elif isinstance(ours["variables"], dict):
                for name, value in variables.items():
                    ours["variables"].setdefault(name, value)
        for key, ids in (
            ("stages", ("stage",)),
            ("jobs", ("job", "deployment")),
        ):
            if key in theirs:
                if not isinstance(ours.get(key), list):
                    return None
                present = _names(ours[key], *ids)
                for item in theirs[key]:
                    if not _names([item], *ids) & present:
                        ours[key].append(item)
                break
        else:
            return None
    stream = io.StringIO()
    round_trip().dump(ours, stream)
    return stream.getvalue()


def provider_of_path(path: Path) -> str | None:
    parts = path.as_posix().split("/")
    for index in range(len(parts)):
        provider = provider_of("/".join(parts[index:]))
        if provider:
            return provider
    return None


# ----------------------------------------------------------------- adopting
def _plan(root: Path, rendered: Path) -> list[tuple[str, str, str | None]]:
    """(relative path, action, merged text) for every rendered file; reads
    and checks every existing pipeline before anything is written."""
    plan = []
    for source in sorted(rendered.rglob("*")):
        if not source.is_file() or ".git" in source.relative_to(rendered).parts:
            continue
        relative = source.relative_to(rendered).as_posix()
        target = root / relative
        if not target.exists():
            plan.append((relative, "add", None))
            continue
        ours = target.read_text(encoding="utf-8")
        theirs = source.read_text(encoding="utf-8")
        if ours == theirs:
            continue
        if provider_of(relative) and relative.endswith((".yml", ".yaml")):
            merged = merge_pipeline(ours, theirs, Path(relative))
            if merged is not None:
                if merged != ours:
                    plan.append((relative, "merge", merged))
                continue
        plan.append((relative, "alongside", None))
    return plan


def adopt_project(
    path: Path | str = ".", *, data: Mapping[str, Any] | None = None
) -> AdoptResult:
    root = gitutil.repository_root(Path(path).absolute())
    if (root / ANSWERS_FILE).is_file() and gitutil.branch_exists(
        root, TEMPLATE_BRANCH
    ):
        return AdoptResult(already_adopted=True)
    gitutil.require_clean(
        root,
        why="",
        hint="commit or stash them first, so that the adoption is one "
        "reviewable commit",
    )
    overrides = dict(data or {})
    check_known(overrides)
    answers = {**infer_answers(root), **overrides}
    result = AdoptResult()

    with staging_folder(Path(tempfile.gettempdir())) as staging:
        rendered = staging / "project"
        result.answers = render(rendered, data=answers, defaults=True)
        plan = _plan(root, rendered)
        for relative, action, merged in plan:
            target = root / relative
            if action == "add":
                target.parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(rendered / relative, target)
                result.added.append(relative)
            elif action == "merge":
                target.write_text(merged, encoding="utf-8")
                result.merged.append(relative)
            else:
                beside = target.with_name(target.name + ALONGSIDE)
                shutil.copy2(rendered / relative, beside)
                result.alongside.append(relative)
        identity = gitutil.identity_env(root, *gitutil.FALLBACK_IDENTITY)
        gitutil.git("add", "--all", cwd=root)
        gitutil.git("commit", "--quiet", "--no-verify", "-m",
                    "Adopt the mlops-scaffold pipelines", cwd=root,
                    env=identity)  # fmt: skip
        pristine = commit_tree(
            root, rendered, None, "Template output of mlops-scaffold"
        )
    gitutil.git("branch", TEMPLATE_BRANCH, pristine, cwd=root)
    gitutil.git(
        "merge", "--quiet", "-s", "ours", "--allow-unrelated-histories",
        "--no-edit", "-m", "Record the template output for updates",
        TEMPLATE_BRANCH, cwd=root, env=identity,
    )  # fmt: skip
    return result
