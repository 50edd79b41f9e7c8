"""MS206 and MS210 read one graph: the planner's (issue 23).

MS210 plans a push to the default branch; MS206 follows each production
deployment back to staging. On every generated project and every file of
the vendored corpus, the jobs, the stages and each production deployment's
ancestors that MS206 sees are those of the plan MS210 reads; and MS206 sees
through Azure stage templates, where it used to skip."""

from __future__ import annotations

from pathlib import Path

import pytest
from test_check_review import AZURE_FILE, CLEAN_AZURE

from mlops_scaffold.pipelines.check import check
from mlops_scaffold.pipelines.discovery import discover
from mlops_scaffold.pipelines.model import ACTION, PipelineFile
from mlops_scaffold.pipelines.rules.ms206_production_after_staging import (
    release_paths,
)
from mlops_scaffold.pipelines.rules.registry import default_branch
from mlops_scaffold.pipelines.semantics import (
    Event,
    ExpressionError,
    Plan,
    Unit,
    plan,
)

CORPUS = Path(__file__).parent / "corpus"
REPOSITORIES = sorted(
    path for owner in CORPUS.iterdir() if owner.is_dir()
    for path in owner.iterdir() if path.is_dir()
)  # fmt: skip
COMBINATIONS = [
    (ci, iac)
    for ci in ("github", "azure", "both")
    for iac in ("bicep", "terraform", "both")
]


def _key(unit: Unit) -> str:
    return f"{unit.stage}/{unit.id}" if unit.stage else unit.id


def planned_ancestors(result: Plan, unit: Unit) -> set[str]:
    """The jobs ``unit`` waits for in ``result``, from the plan's units
    alone: the jobs of its stage up its ``needs``, and every job of the
    stages up its stage's ``needs``."""
    in_stage: dict[str | None, dict[str, Unit]] = {}
    for job in result.jobs:
        in_stage.setdefault(job.stage, {})[job.id] = job
    stage_needs = {stage.id: stage.needs for stage in result.stages}
    siblings = in_stage.get(unit.stage, {})
    found: set[str] = set()
    queue, seen = list(unit.needs), {unit.id}
    while queue:
        name = queue.pop()
        if name in seen or name not in siblings:
            continue
        seen.add(name)
        found.add(_key(siblings[name]))
        queue += siblings[name].needs
    queue, seen = list(stage_needs.get(unit.stage or "", ())), set()
    while queue:
        stage = queue.pop()
        if stage in seen or stage not in stage_needs:
            continue
        seen.add(stage)
        found |= {_key(job) for job in in_stage.get(stage, {}).values()}
        queue += stage_needs[stage]
    return found


def agreement(root: Path) -> tuple[int, list[str]]:
    """How many production deployments MS206 judges below ``root``, and
    every way its graph differs from the plan MS210 reads."""
    branch = default_branch(root)
    found = discover(root)
    judged, differences = 0, []
    for source in found.sources:
        pipeline: PipelineFile | None = found.parsed.get(source.relative)
        if pipeline is None or not pipeline.mapping:
            continue
        if pipeline.kind == ACTION:
            continue  # MS206 leaves actions to their callers
        seen = release_paths(pipeline, root, branch)
        try:  # as MS210 plans it (unreachable_deployments)
            result = plan(
                pipeline.mapping,
                pipeline.provider,
                Event.push(branch),
                root=root,
                source=root / pipeline.relative,
            )
        except ExpressionError:
            assert seen is None, source.relative
            continue
        assert seen is not None, source.relative
        graph, _, production = seen
        where = f"{root.name}/{source.relative}"
        units = {_key(unit): unit for unit in result.jobs}
        if set(graph.jobs) != set(units):
            differences.append(f"{where}: jobs {set(graph.jobs) ^ set(units)}")
            continue
        stages = {s: list(d) for s, d in graph.stages.items()}
        stages.pop("__default", None)
        planned = {stage.id: list(stage.needs) for stage in result.stages}
        if stages != planned:
            differences.append(f"{where}: stages {stages} != {planned}")
        for job in production:
            judged += 1
            mine = set(graph.ancestors(job.label))
            theirs = planned_ancestors(result, units[job.label])
            if mine != theirs:
                differences.append(f"{where}: {job.label}: {mine} != {theirs}")
    return judged, differences


@pytest.mark.e2e  # the render tier: nine generated projects compiled
@pytest.mark.parametrize(("ci", "iac"), COMBINATIONS)
def test_ms206_and_ms210_read_one_graph_on_generated_projects(
    rendered, ci, iac
):
    judged, differences = agreement(rendered(ci_provider=ci, iac=iac))
    assert judged > 0  # every combination deploys to production
    assert differences == []


@pytest.mark.parametrize(
    "repository", REPOSITORIES, ids=[r.name for r in REPOSITORIES]
)
def test_ms206_and_ms210_read_one_graph_on_the_corpus(repository):
    _, differences = agreement(repository)
    assert differences == []


def test_the_corpus_has_production_deployments_to_compare():
    assert sum(agreement(repo)[0] for repo in REPOSITORIES) > 0


# ---------------------------------------------------- through templates
BEFORE, REST = CLEAN_AZURE.split("  - stage: DeployStaging\n")
STAGING, PRODUCTION = REST.split("  - stage: DeployProduction\n")
STAGING = "  - stage: DeployStaging\n" + STAGING
PRODUCTION = "  - stage: DeployProduction\n" + PRODUCTION.replace(
    "    dependsOn: DeployStaging\n", ""
)
SMOKE_TEST = "                - script: make smoke-test ENVIRONMENT=staging\n"
TEMPLATE = "azure-pipelines/stages.yml"


def ms206(root: Path, files: dict[str, str]) -> list[tuple[str, int, str]]:
    for relative, text in files.items():
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    findings = check(root, use_auditor=False).findings
    return [(f.file, f.line, f.message) for f in findings if f.rule == "MS206"]


def test_production_in_a_stage_template_waits_for_staging_through_it(
    tmp_path,
):
    """The production stage comes from `- template: stages.yml` and waits
    for staging by stage order: MS206 sees it (the template alone, whose
    first stage waits for whatever comes before it, is not judged)."""
    pipeline = BEFORE + STAGING + "  - template: stages.yml\n"
    assert ms206(tmp_path, {
        AZURE_FILE: pipeline, TEMPLATE: "stages:\n" + PRODUCTION,
    }) == []  # fmt: skip
    untested = pipeline.replace(SMOKE_TEST, "")
    assert untested != pipeline
    line = untested.splitlines().index("  - template: stages.yml") + 1
    assert ms206(tmp_path, {AZURE_FILE: untested}) == [
        (
            AZURE_FILE,
            line,
            "`DeployProduction/deploy_production` waits for "
            "`DeployStaging/deploy_staging` but for no smoke test of staging",
        )
    ]


def test_staging_in_a_stage_template_is_seen_from_production(tmp_path):
    """Production waits for staging through `- template: stages.yml` (the
    stage before it): MS206 used to skip it; it now follows the path."""
    pipeline = BEFORE + "  - template: stages.yml\n" + PRODUCTION
    template = "stages:\n" + STAGING
    assert ms206(tmp_path, {AZURE_FILE: pipeline, TEMPLATE: template}) == []
    [(file, _, message)] = ms206(
        tmp_path, {TEMPLATE: template.replace(SMOKE_TEST, "")}
    )
    assert file == AZURE_FILE
    assert message.endswith("but for no smoke test of staging")


@pytest.mark.parametrize(
    "reference",
    ["stages.yml", "missing.yml", "${{ parameters.stages }}"],
    ids=["found", "missing-file", "runtime-expression"],
)
def test_a_template_the_compiler_cannot_read_is_skipped_not_an_error(
    tmp_path, reference
):
    """Without the template, MS206 cannot see staging: it says nothing
    rather than a false error (as it did before it read templates)."""
    pipeline = BEFORE + f"  - template: {reference}\n" + PRODUCTION
    assert ms206(tmp_path, {
        AZURE_FILE: pipeline, TEMPLATE: "stages:\n" + STAGING,
    }) == []  # fmt: skip
