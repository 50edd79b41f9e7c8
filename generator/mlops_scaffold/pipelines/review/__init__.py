"""`review`: what a change does to the pipelines, for a pull-request reviewer.

Per workflow / pipeline file: triggers added, removed or widened; jobs and
stages added or removed; needs / dependsOn changes; environment gates added
or removed; permissions widened; secrets and variables newly referenced;
actions added, changed or unpinned; commands changed. It draws the
deployment path before and after as Mermaid flowcharts and ends with a risk
summary. The markdown carries a marker so that a CI job can post it as one
pull-request comment and update it in place.

Modules: ``reading`` (git: changed files, both revisions exported whole),
``diffing`` (one file's two sides compared), ``risk`` (what makes a change
risky, and the `check` findings it adds), ``changes`` (the result); the
formats are `check`'s report module's.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from ... import gitutil
from ...errors import MalformedFileError
from .. import semantic_diff
from ..report import MARKER, md_plain, mermaid
from ..report import review_json as to_json
from ..report import review_markdown as to_markdown
from ..settings import CONFIG_FILE
from . import diffing, reading, risk
from .changes import Change, FileReview, Review

__all__ = [
    "MARKER",
    "Change",
    "FileReview",
    "Review",
    "mermaid",
    "review_change",
    "to_json",
    "to_markdown",
]


def review_change(
    path: Path | str = ".", *, base: str, head: str | None = None
) -> Review:
    """Review what ``base..head`` (head: the working tree when None) does
    to the pipelines of the repository at ``path``."""
    root = gitutil.repository_root(Path(path))
    for ref in (base, head):
        if ref is not None:
            reading.verify_commit(root, ref)
    pairs = reading.changed_files(root, base, head)
    with tempfile.TemporaryDirectory(prefix="mlops-scaffold-review-") as tmp:
        base_tree = reading.export(root, base, Path(tmp) / "base")
        head_tree = reading.export(root, head, Path(tmp) / "head")
        return _review(root, base, head, pairs, base_tree, head_tree)


def _review(
    root: Path,
    base: str,
    head: str | None,
    pairs: list[tuple[str | None, str | None]],
    base_tree: Path,
    head_tree: Path,
) -> Review:
    from ..rules.registry import default_branch

    branch = default_branch(base_tree)
    reviews = []
    for old_name, new_name in pairs:
        if CONFIG_FILE in (old_name, new_name):
            continue  # settings, not a pipeline: compared below
        if {old_name, new_name} & set(risk.ZIZMOR_CONFIGS):
            config = FileReview(new_name or old_name or "", "zizmor settings")
            config.add(
                "high",
                "suppression",
                "the change edits zizmor's configuration, which can disable "
                "its audits (permissions, pinning, injection) for the "
                "repository",
            )
            reviews.append(config)
            continue
        shown = new_name or old_name or ""
        try:
            old_text = reading.read(root, base, old_name)
            new_text = reading.read(root, head, new_name)
            old = reading.parse(old_text, old_name)
            new = reading.parse(new_text, new_name)
        except MalformedFileError as error:
            review = FileReview(shown, "unreadable")
            review.add("high", "syntax", md_plain(error.message))
            reviews.append(review)
            continue
        if old is None and new is None:
            continue  # not a pipeline file
        if old is None:
            status = "added"
        elif new is None:
            status = "removed"
        elif old_name != new_name:
            status = f"renamed from {old_name}"
        else:
            status = "modified"
        review = FileReview(shown, status)
        if old is not None and new is not None and old.provider != new.provider:
            old = None  # a different kind of file now: compare as added
        diffing.compare_file(
            review, old, new, reading.text_of(old), reading.text_of(new)
        )
        for difference in semantic_diff.compare(
            old, new, branch=branch, old_root=base_tree, new_root=head_tree
        ):
            review.add(difference.severity, difference.kind, difference.message)
        if review.changes or status != "modified":
            review.before, review.after = mermaid(old), mermaid(new)
            reviews.append(review)
    reviews += diffing.through_templates(
        pairs, reviews, branch, base_tree, head_tree
    )
    settings = reading.settings_files(root, base)
    changed = risk.settings_change(settings, reading.settings_files(root, head))
    if changed is not None:
        reviews.append(changed)
    result = Review(base, head or "working tree", reviews)
    renames = {old: new for old, new in pairs if old and new and old != new}
    result.new_findings = risk.new_findings(
        base_tree, head_tree, renames, settings
    )
    return result
