"""Finding pipeline files by what they are, not where they are.

GitHub runs workflows from ``.github/workflows/`` only, and composite
actions from any folder with an ``action.yml``; Azure Pipelines files live
anywhere (``.pipelines/``, ``build/azure-pipelines/``, ``eng/``,
``.azuredevops/``...) and include templates by relative path. So: every
YAML file that git would track (``.gitignore`` respected; vendored folders
skipped) is read, classified by its keys, and every local ``template:`` it
names is followed, so a variables-only template is checked too.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

from ..errors import MalformedFileError
from ..yamlio import NotRegularFileError, read_bounded
from .model import ACTION, AZURE, GITHUB, PIPELINE, TEMPLATE, WORKFLOW

# Folders of someone else's code, or of build output: never ours to check.
VENDORED = {
    ".git", "node_modules", "vendor", "vendored", "third_party",
    "third-party", "thirdparty", "external", "externals", ".venv", "venv",
    "site-packages", ".tox", ".nox", "__pycache__", ".mypy_cache",
    ".pytest_cache", ".ruff_cache", "bower_components", ".terraform",
}  # fmt: skip

# A top-level key that any pipeline file has; a cheap filter before
# anything is parsed.
_KEYS = (
    rb"on|jobs|stages|steps|trigger|pr|extends|runs|parameters|variables"
    rb"|schedules|resources"
)
_LIKELY = re.compile(
    # block style: the key at a line start; flow style (JSON-like): after
    # `{` or `,`, quoted or not
    rb"^[\"']?(?:" + _KEYS + rb")[\"']?\s*:"
    rb"|[{,]\s*[\"']?(?:" + _KEYS + rb")[\"']?\s*:",
    re.MULTILINE,
)
_STEP_KEYS = {
    "task", "script", "bash", "pwsh", "powershell", "checkout", "template",
    "download", "downloadBuild", "publish", "getPackage", "reviewApp",
    "restoreCache", "saveCache",
}  # fmt: skip


@dataclass(frozen=True)
class Source:
    """One pipeline file: its path from the root, provider and kind."""

    relative: str
    provider: str
    kind: str


def provider_of(relative: str) -> str | None:
    """The provider by the conventional location alone (used where only a
    path is known, as in ``adopt``)."""
    parts = relative.split("/")
    if parts[:2] == [".github", "workflows"] and len(parts) == 3:
        return GITHUB
    if parts[0] in ("azure-pipelines", ".azure-pipelines"):
        return AZURE
    if relative in ("azure-pipelines.yml", "azure-pipelines.yaml"):
        return AZURE
    return None


def classify(relative: str, data: Any) -> tuple[str, str] | None:
    """(provider, kind) of a parsed YAML document, or None."""
    name = PurePosixPath(relative).name
    if not isinstance(data, dict):
        return None
    if name in ("action.yml", "action.yaml") and isinstance(
        data.get("runs"), dict
    ):
        return GITHUB, ACTION
    if "on" in data and isinstance(data.get("jobs"), dict):
        return GITHUB, WORKFLOW
    if _is_azure(data):
        runs = any(k in data for k in ("trigger", "pr", "schedules", "pool"))
        return AZURE, PIPELINE if runs else TEMPLATE
    return None


def _is_azure(data: dict[Any, Any]) -> bool:
    if "on" in data:
        return False
    if _entries(data.get("stages"), {"stage", "template"}):
        return True
    if _entries(data.get("jobs"), {"job", "deployment", "template"}):
        return True
    if _entries(data.get("steps"), _STEP_KEYS):
        return True
    extends = data.get("extends")
    return isinstance(extends, dict) and "template" in extends


def _entries(value: Any, keys: set[str]) -> bool:
    """A list of pipeline entries: mappings with one of ``keys``, or
    conditional / each blocks (``${{ if ... }}:``) holding more."""
    if not isinstance(value, list) or not value:
        return False
    real = 0
    for item in value:
        if not isinstance(item, dict):
            return False
        if keys & item.keys():
            real += 1
        elif not any(_expression(k) for k in item):
            return False
    return real > 0 or all(_expression(k) for item in value for k in item)


def _expression(key: Any) -> bool:
    return isinstance(key, str) and key.startswith("${{")


def template_references(data: Any) -> list[str]:
    """Local ``template:`` paths a pipeline includes (not ``x@repo`` and not
    expressions), wherever they appear."""
    found: list[str] = []
    stack, seen = [data], 0
    while stack and seen < 100_000:
        seen += 1
        node = stack.pop()
        if isinstance(node, dict):
            value = node.get("template")
            if isinstance(value, str) and "@" not in value and "$" not in value:
                found.append(value)
            stack.extend(node.values())
        elif isinstance(node, list):
            stack.extend(node)
    return found


def resolve_template(including: str, reference: str) -> str | None:
    """The repository-relative path of ``reference`` written in the file at
    ``including`` (Azure: relative to that file; ``/`` from the root).
    ``x.yml@self`` is this repository's file (the ``self`` resource), and
    a Windows separator (``.\\steps.yml``) is a separator to the service."""
    if reference.lower().endswith("@self"):
        reference = reference[: -len("@self")]
    reference = reference.replace("\\", "/")
    if reference.startswith("/"):
        path = PurePosixPath(reference.lstrip("/"))
    else:
        path = PurePosixPath(including).parent / reference
    parts: list[str] = []
    for part in path.parts:
        if part == "..":
            if not parts:
                return None  # outside the repository
            parts.pop()
        elif part not in (".", ""):
            parts.append(part)
    return "/".join(parts) or None


def candidate_files(root: Path) -> list[str]:
    """Every YAML file below ``root`` that is not ignored or vendored."""
    listed = _git_listed(root)
    if listed is None:
        listed = _walk(root)
    return sorted(
        name
        for name in listed
        if name.endswith((".yml", ".yaml"))
        and not VENDORED.intersection(name.split("/")[:-1])
    )


def _git_listed(root: Path) -> list[str] | None:
    from .. import gitutil

    names = gitutil.list_files(root, "*.yml", "*.yaml")
    if names is None:
        return None
    return [n for n in names if os.path.lexists(root / n)]


def _walk(root: Path) -> list[str]:
    import pathspec

    ignore = root / ".gitignore"
    spec = None
    try:
        raw = read_bounded(ignore)
    except (OSError, MalformedFileError):
        raw = None  # none, or not a regular file: nothing ignored
    if raw is not None:
        lines = raw.decode("utf-8", "replace").splitlines()
        spec = pathspec.GitIgnoreSpec.from_lines(lines)
    found = []
    for folder, dirs, files in os.walk(root):
        relative_folder = Path(folder).relative_to(root).as_posix()
        prefix = "" if relative_folder == "." else relative_folder + "/"
        dirs[:] = [
            d
            for d in dirs
            if d not in VENDORED
            and not (spec and spec.match_file(prefix + d + "/"))
        ]
        for name in files:
            relative = prefix + name
            if not (spec and spec.match_file(relative)):
                found.append(relative)
    return found


@dataclass
class Discovered:
    """What discovery found: the pipeline files (with their parsed data when
    they parsed) and the files that could not be read (with the error)."""

    sources: list[Source]
    parsed: dict[str, Any]
    unreadable: dict[str, MalformedFileError]
    # FIFOs, devices and sockets with a YAML name: never read, only named.
    skipped: dict[str, MalformedFileError] = field(default_factory=dict)


def discover(root: Path, files: list[str] | None = None) -> Discovered:
    """Pipeline files below ``root`` (or among ``files``, paths relative to
    root) by content, with the local templates they include."""
    from .model import PipelineFile

    chosen = files if files is not None else candidate_files(root)
    inside = root.resolve()
    sources: dict[str, Source] = {}
    parsed: dict[str, Any] = {}
    unreadable: dict[str, MalformedFileError] = {}
    skipped: dict[str, MalformedFileError] = {}
    queue: list[tuple[str, str | None]] = [(name, None) for name in chosen]
    while queue:
        relative, forced = queue.pop(0)
        if relative in sources or relative in unreadable:
            continue
        path = root / relative
        if not path.resolve().is_relative_to(inside):
            # A link out of the repository: never read (a pull request
            # could point it at a secret and have it quoted back).
            if forced or provider_of(relative) or _is_named_pipeline(relative):
                unreadable[relative] = MalformedFileError(
                    relative,
                    "links to a file outside the repository; not read",
                )
                sources[relative] = Source(
                    relative, forced or provider_of(relative) or GITHUB, ""
                )
            continue
        try:
            raw = read_bounded(path)
        except NotRegularFileError as error:
            skipped[relative] = error
            continue
        except MalformedFileError as error:  # over the size limit
            if forced or provider_of(relative) or _is_named_pipeline(relative):
                unreadable[relative] = error
                sources[relative] = Source(
                    relative, forced or provider_of(relative) or AZURE, ""
                )
            continue
        except OSError:
            continue
        if not forced and not provider_of(relative) and not _LIKELY.search(raw):
            continue
        try:
            pipeline = PipelineFile.parse(raw, relative, forced or GITHUB)
        except MalformedFileError as error:
            provider = forced or provider_of(relative)
            if provider or _is_named_pipeline(relative):
                unreadable[relative] = error
                sources[relative] = Source(relative, provider or AZURE, "")
            continue
        found = classify(relative, pipeline.data)
        if found is None and forced:
            found = (forced, TEMPLATE)
        if found is None and provider_of(relative) == GITHUB:
            found = (GITHUB, WORKFLOW)  # GitHub runs it: the schema says why
        if found is None and provider_of(relative) == AZURE:
            found = (AZURE, PIPELINE)  # in a pipelines folder: the same
        if found is None:
            continue
        sources[relative] = Source(relative, *found)
        pipeline.provider, pipeline.kind = found
        parsed[relative] = pipeline
        if found[0] == AZURE:
            for reference in template_references(pipeline.data):
                target = resolve_template(relative, reference)
                if target and (root / target).is_file():
                    queue.append((target, AZURE))
    ordered = sorted(sources.values(), key=lambda s: s.relative)
    return Discovered(ordered, parsed, unreadable, skipped)


def _is_named_pipeline(relative: str) -> bool:
    name = PurePosixPath(relative).name.lower()
    return name.startswith("azure-pipelines") or name in (
        "action.yml",
        "action.yaml",
    )
