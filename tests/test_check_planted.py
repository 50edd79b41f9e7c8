"""Recall per rule and per provider on defects planted into the vendored
real files (tests/corpus), measured as a linter's maintainers would: each
mutation applied to every file it fits (up to PER_RULE files, spread over
the corpus), one defect per copy, found when the rule's findings grow.
The cases are the corpus test's PLANTS; this suite counts instead of
stopping at the first miss and prints the table (``-s`` to see it)."""

from __future__ import annotations

import collections
import copy

import pytest
import yaml
from test_check_corpus import PLANTS, _sources

from mlops_scaffold.pipelines.check import check
from mlops_scaffold.yamlio import load_untrusted

PER_RULE = 12
ZIZMOR_RULES = {"MS201", "MS202", "MS203", "MS208", "MS209"}  # on GitHub


def _files(provider, kind, plant):
    found = []
    for repo, sources in _sources():
        for source in sources:
            if source.provider == provider and kind in (None, source.kind):
                path = repo / source.relative
                data, _ = load_untrusted(path.read_bytes(), path)
                if plant(copy.deepcopy(data)):
                    found.append((path, data))
    return found[:: max(1, len(found) // PER_RULE)][:PER_RULE]


def _counts(root, rule, provider):
    """The rule's findings per file of ``root``: one check of a repository
    holding every copy (zizmor, a process, runs once, not once a copy)."""
    result = check(
        root, use_auditor=provider == "github" and rule in ZIZMOR_RULES
    )
    return collections.Counter(
        f.file for f in result.findings if f.rule == rule
    )


def _place(kind, index):
    return (
        f".github/workflows/x{index}.yml" if kind == "workflow"
        else f"tools/x{index}/action.yml" if kind == "action"
        else f"eng/pipelines/x{index}.yml"
    )  # fmt: skip


@pytest.mark.e2e
def test_recall_per_rule_and_provider(tmp_path):
    tried, found = collections.Counter(), collections.Counter()
    for name, provider, kind, plant, rule in PLANTS:
        before_root, after_root = tmp_path / name / "a", tmp_path / name / "b"
        places = []
        for index, (_, data) in enumerate(_files(provider, kind, plant)):
            places.append(_place(kind, index))
            planted = copy.deepcopy(data)
            plant(planted)
            for root, content in ((before_root, data), (after_root, planted)):
                target = root / places[-1]
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_text(yaml.safe_dump(content, sort_keys=False))
        if not places:
            continue
        before = _counts(before_root, rule, provider)
        after = _counts(after_root, rule, provider)
        for place in places:
            for key in ((provider, rule), (provider, "all")):
                tried[key] += 1
                found[key] += after[place] > before[place]
    print("\nprovider  rule   found/planted  recall")
    for key in sorted(tried):
        print(
            f"{key[0]:8}  {key[1]:5}  {found[key]:5}/{tried[key]:<7}  "
            f"{found[key] / tried[key]:.0%}"
        )
    for provider in ("github", "azure"):
        key = (provider, "all")
        assert found[key] / tried[key] >= 0.9, (provider, found, tried)
