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


def _count(root, rule, provider):
    result = check(
        root, use_auditor=provider == "github" and rule in ZIZMOR_RULES
    )
    return sum(f.rule == rule for f in result.findings)


@pytest.mark.e2e
def test_recall_per_rule_and_provider(tmp_path):
    tried, found = collections.Counter(), collections.Counter()
    for name, provider, kind, plant, rule in PLANTS:
        for index, (_, data) in enumerate(_files(provider, kind, plant)):
            relative = (
                ".github/workflows/x.yml" if kind == "workflow"
                else "tools/x/action.yml" if kind == "action"
                else "eng/pipelines/x.yml"
            )  # fmt: skip
            root = tmp_path / f"{name}-{index}"
            target = root / relative
            target.parent.mkdir(parents=True)
            target.write_text(yaml.safe_dump(data, sort_keys=False))
            before = _count(root, rule, provider)
            planted = copy.deepcopy(data)
            plant(planted)
            target.write_text(yaml.safe_dump(planted, sort_keys=False))
            for key in ((provider, rule), (provider, "all")):
                tried[key] += 1
                found[key] += _count(root, rule, provider) > before
    print("\nprovider  rule   found/planted  recall")
    for key in sorted(tried):
        print(
            f"{key[0]:8}  {key[1]:5}  {found[key]:5}/{tried[key]:<7}  "
            f"{found[key] / tried[key]:.0%}"
        )
    for provider in ("github", "azure"):
        key = (provider, "all")
        assert found[key] / tried[key] >= 0.9, (provider, found, tried)
