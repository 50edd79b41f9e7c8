"""MS212 on Azure `dependsOn`: names judged against the pipeline as the
planner compiles it (templates read, `${{ each }}`/`${{ if }}` expanded
with the default parameters), reported at the `dependsOn` line of the file
checked, or at the `- template:` line that inserts the stage or job; and
nothing where the compile cannot be trusted or the names are elsewhere."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from mlops_scaffold.pipelines.check import check

PIPELINE = "azure-pipelines.yml"
HEAD = """\
trigger: [main]
pool: {vmImage: ubuntu-latest}
parameters:
  - name: envs
    type: object
    default: [dev, prod]
  - name: extra
    type: boolean
    default: false
stages:
  - stage: build
    jobs:
      - job: compile
        timeoutInMinutes: 10
        steps: [{script: make}]
  - ${{ each env in parameters.envs }}:
      - stage: deploy_${{ env }}
        dependsOn: build
        jobs:
          - job: ship
            timeoutInMinutes: 10
            steps: [{script: make}]
"""


def stage(name: str, depends: str, extra: str = "") -> str:
    return textwrap.indent(
        f"- stage: {name}\n  dependsOn: {depends}\n{extra}  jobs:\n"
        "    - job: run\n      timeoutInMinutes: 10\n"
        "      steps: [{script: make}]\n",
        "  ",
    )


def findings(root: Path, files: dict[str, str]) -> list[tuple[str, str, str]]:
    """(file, text of the line, message) of every MS212 finding."""
    for relative, text in files.items():
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return [
        (f.file, files[f.file].splitlines()[f.line - 1].strip(), f.message)
        for f in check(root, use_auditor=False).findings
        if f.rule == "MS212"
    ]


def test_a_stage_an_each_loop_does_not_make_is_reported(tmp_path):
    text = HEAD + stage("smoke", "deploy_staging")
    [(file, line, message)] = findings(tmp_path, {PIPELINE: text})
    assert (file, line) == (PIPELINE, "dependsOn: deploy_staging")
    assert message.startswith(
        "stage `smoke` depends on `deploy_staging`, which is not a stage of "
        "this pipeline as compiled with its default parameters (stages: "
        "build, deploy_dev, deploy_prod, smoke)"
    )


@pytest.mark.parametrize(
    "text",
    [
        HEAD + stage("smoke", "deploy_prod"),
        HEAD + stage("smoke", "[deploy_dev, BUILD]"),  # names ignore case
        HEAD.replace("[dev, prod]", "[dev, staging]")
        + stage("smoke", "deploy_staging"),
        HEAD + stage("smoke", "deploy_$(env)"),  # known at run time
    ],
    ids=["in-the-loop", "a-list", "other-defaults", "runtime-name"],
)
def test_a_stage_the_compile_makes_is_found(tmp_path, text):
    assert findings(tmp_path, {PIPELINE: text}) == []


def test_a_job_of_a_stage_the_loop_makes_is_judged_in_its_stage(tmp_path):
    text = HEAD.replace(
        "          - job: ship\n",
        "          - job: verify\n            dependsOn: shipp\n"
        "            steps: [{script: make}]\n          - job: ship\n",
    )
    [(_, line, message)] = findings(tmp_path, {PIPELINE: text})
    assert line == "dependsOn: shipp"
    assert "not a job of its stage" in message and "(jobs: ship, verify)" in (
        message
    )


@pytest.mark.parametrize(
    "text",
    [
        # Inserted only when a parameter is not its default: not judged.
        HEAD
        + "  - ${{ if eq(parameters.extra, true) }}:\n"
        + textwrap.indent(stage("extra", "missing"), "    "),
        # A template that is not there may hold the stage named.
        HEAD + "  - template: stages/missing.yml\n" + stage("x", "nowhere"),
        # A stage named only at run time may be the one named.
        HEAD + stage("$(name)", "build") + stage("x", "nowhere"),
    ],
    ids=["not-inserted", "template-not-read", "runtime-stage-name"],
)
def test_nothing_is_judged_where_the_compile_cannot_be_trusted(tmp_path, text):
    assert findings(tmp_path, {PIPELINE: text}) == []


STAGES_TEMPLATE = "stages/deploy.yml"


def _with_template(template: str) -> dict[str, str]:
    return {
        PIPELINE: HEAD + f"  - template: {STAGES_TEMPLATE}\n",
        STAGES_TEMPLATE: "stages:\n" + template,
    }


def test_a_stage_template_may_wait_for_the_including_files_stages(tmp_path):
    """The known false positive: `dependsOn` naming a stage of the file
    that includes the template is no error in the template."""
    files = _with_template(stage("release", "deploy_prod"))
    assert findings(tmp_path, files) == []


def test_a_template_stage_naming_nothing_is_reported_where_it_is_included(
    tmp_path,
):
    files = _with_template(stage("release", "deploy_staging"))
    [(file, line, message)] = findings(tmp_path, files)
    assert (file, line) == (PIPELINE, f"- template: {STAGES_TEMPLATE}")
    assert message.startswith(
        f"stage `release`, inserted by template `{STAGES_TEMPLATE}`, depends "
        "on `deploy_staging`, which is not a stage of this pipeline as "
        "compiled with its default parameters"
    )


def test_a_stage_templates_own_jobs_are_judged_in_the_template(tmp_path):
    template = stage("release", "deploy_prod").replace(
        "      - job: run\n",
        "      - job: check\n        dependsOn: runn\n"
        "        steps: [{script: make}]\n      - job: run\n",
    )
    found = findings(tmp_path, _with_template(template))
    assert [f[:2] for f in found] == [(STAGES_TEMPLATE, "dependsOn: runn")]


@pytest.mark.parametrize(
    ("depends", "expected"),
    [("compile", []), ("compil", [(PIPELINE, "- template: jobs.yml")])],
    ids=["the-including-stages-job", "no-such-job"],
)
def test_a_jobs_template_is_judged_where_it_is_included(
    tmp_path, depends, expected
):
    files = {
        PIPELINE: HEAD.replace(
            "        steps: [{script: make}]\n",
            "        steps: [{script: make}]\n      - template: jobs.yml\n",
            1,
        ),
        "jobs.yml": f"jobs:\n  - job: test\n    dependsOn: {depends}\n"
        "    timeoutInMinutes: 10\n    steps: [{script: make}]\n",
    }
    assert [f[:2] for f in findings(tmp_path, files)] == expected


def test_rules_share_one_compile_of_a_file(tmp_path):
    """MS206 and MS212 read the same graph: the file is compiled once for
    a root and branch, again only for another one (or another kind)."""
    from mlops_scaffold.pipelines.model import TEMPLATE, PipelineFile

    pipeline = PipelineFile.parse(HEAD, PIPELINE, "azure")
    first = pipeline.graph(tmp_path, "main")
    assert pipeline.graph(tmp_path, "main") is first
    assert pipeline.graph(tmp_path, "release") is not first
    pipeline.kind = TEMPLATE
    assert pipeline.graph(tmp_path, "main") is not first
