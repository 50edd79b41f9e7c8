"""`check` against the second round of hostile input (issue 27): each
case failed before (a miss, a crash, a skipped file or an injected line)."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest
from test_check_properties import RAW

from helpers import invoke
from mlops_scaffold.pipelines import semantics
from mlops_scaffold.pipelines.check import check

AZURE_HEAD = "trigger: [main]\npool: {vmImage: ubuntu-latest}\n"
GITHUB_HEAD = "on: push\npermissions: {}\n"


def write(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return root


def found(root: Path) -> set[tuple[str, str]]:
    return {(f.rule, f.file) for f in check(root, use_auditor=False).findings}


AZURE_JOB = (
    AZURE_HEAD + "jobs:\n  - job: a\n    timeoutInMinutes: 5\n    steps:\n"
)


@pytest.mark.parametrize(
    ("case", "files", "expected"),
    [
        (
            "bash-task-inline-script",
            {"azure-pipelines.yml": AZURE_JOB + "      - task: Bash@3\n"
             "        inputs:\n          targetType: inline\n"
             "          script: echo \"$(Build.SourceVersionMessage)\"\n"},
            ("MS209", "azure-pipelines.yml"),
        ),
        (
            "variable-names-are-case-insensitive",
            {"azure-pipelines.yml": AZURE_JOB +
             "      - script: echo $(build.sourceVersionMessage)\n"},
            ("MS209", "azure-pipelines.yml"),
        ),
        (
            "a-hash-before-the-secret",
            {"azure-pipelines.yml": AZURE_JOB + "      - script: echo "
             "\"##vso[task.setvariable variable=x]$(ARM_CLIENT_SECRET)\"\n"},
            ("MS207", "azure-pipelines.yml"),
        ),
        (
            "flow-style-pipeline",
            {"ci.yml": '{"trigger": ["main"], "steps": [{"script": '
             '"echo $(Build.SourceVersionMessage)"}]}\n'},
            ("MS209", "ci.yml"),
        ),
        (
            "anchors-in-azure",
            {"azure-pipelines.yml": AZURE_HEAD + "variables:\n  a: &x 1\n"
             "  b: *x\nsteps:\n  - script: echo\n"},
            ("MS100", "azure-pipelines.yml"),
        ),
        (
            "merge-keys-in-github",
            {".github/workflows/ci.yml": GITHUB_HEAD + "jobs:\n  a: &base\n"
             "    runs-on: ubuntu-latest\n    timeout-minutes: 5\n"
             "    steps: [{run: echo}]\n  b:\n    <<: *base\n"},
            ("MS100", ".github/workflows/ci.yml"),
        ),
        (
            "numeric-job-id",
            {".github/workflows/ci.yml": GITHUB_HEAD + "jobs:\n  1:\n"
             "    runs-on: ubuntu-latest\n    timeout-minutes: 5\n"
             "    steps: [{run: echo}]\n"},
            ("MS101", ".github/workflows/ci.yml"),
        ),
    ],
    ids=lambda value: value if isinstance(value, str) else "",
)  # fmt: skip
def test_hostile_case_is_found(tmp_path, case, files, expected):
    assert expected in found(write(tmp_path, files))


def test_anchors_in_github_are_accepted(tmp_path):
    write(tmp_path, {".github/workflows/ci.yml": GITHUB_HEAD + "jobs:\n"
          "  a:\n    runs-on: ubuntu-latest\n    timeout-minutes: 5\n"
          "    env: &e {X: '1'}\n    steps: [{run: 'echo \"<<: *e\"'}]\n"
          "  b:\n    runs-on: ubuntu-latest\n    timeout-minutes: 5\n"
          "    env: *e\n    steps: [{run: echo}]\n"})  # fmt: skip
    assert not {r for r, _ in found(tmp_path)} & {"MS100", "MS101"}


def test_a_folder_name_never_starts_a_workflow_command(tmp_path):
    folder = " ::stop-commands::x"
    write(tmp_path, {f"{folder}/azure-pipelines.yml": AZURE_JOB +
          "      - script: echo $(Build.SourceVersionMessage)\n"})  # fmt: skip
    output = invoke("check", tmp_path).stdout
    assert "stop-commands" in output
    for line in output.splitlines():
        assert not line.lstrip().startswith("::"), line
        assert "##vso[" not in line


def test_a_non_utf8_folder_is_checked_by_name(tmp_path):
    folder = os.fsdecode(b"pipelines-\xff")
    write(tmp_path, {f"{folder}/azure-pipelines.yml": AZURE_JOB +
          "      - script: echo $(Build.SourceVersionMessage)\n"})  # fmt: skip
    for style in ("text", "sarif", "json", "github"):
        result = invoke("check", tmp_path, "--format", style)
        assert result.exit_code == 1, result.stderr
        assert "azure-pipelines.yml" in result.stdout


def test_an_alias_bomb_in_an_included_template_is_refused_fast(tmp_path):
    bomb = "a: &a [x, x, x, x, x, x, x, x, x, x]\n" + "".join(
        f"{n}: &{n} [{', '.join([f'*{p}'] * 10)}]\n"
        for p, n in zip("abcdef", "bcdefg", strict=True)
    )
    write(tmp_path, {
        "bomb.yml": bomb + "stages:\n  - stage: x\n    jobs:\n"
        "      - job: y\n        steps: [{script: echo}]\n",
        "azure-pipelines.yml": AZURE_HEAD + "stages:\n  - template: bomb.yml\n"
        "  - stage: prod\n    jobs:\n      - deployment: prod\n"
        "        environment: production\n        strategy: {runOnce: "
        "{deploy: {steps: [{script: make deploy}]}}}\n",
    })  # fmt: skip
    started = time.monotonic()
    result = semantics.plan(
        semantics.load(tmp_path / "azure-pipelines.yml"),
        "azure",
        semantics.Event.push("main"),
        {},
        root=tmp_path,
        source=tmp_path / "azure-pipelines.yml",
    )
    assert time.monotonic() - started < 5
    assert "aliases" in result.explain()


def test_a_scalar_under_a_template_condition_is_a_finding(tmp_path):
    write(tmp_path, {
        "stages.yml": "stages:\n  - ${{ if eq(1, 1) }}: hello\n",
        "azure-pipelines.yml": AZURE_HEAD + "stages:\n"
        "  - template: stages.yml\n",
    })  # fmt: skip
    result = invoke("check", tmp_path)
    assert result.exit_code == 1
    assert "stages.yml:2: error MS101" in result.stdout
    plan = semantics.plan(
        semantics.load(tmp_path / "azure-pipelines.yml"),
        "azure",
        semantics.Event.push("main"),
        {},
        root=tmp_path,
        source=tmp_path / "azure-pipelines.yml",
    )
    assert plan.verdicts() == {}


@pytest.mark.parametrize(
    "index", range(len(__import__("test_check_properties").RAW))
)
def test_any_hostile_included_template_is_bounded(tmp_path, index):
    """The hostile byte cases, as a template an Azure pipeline includes:
    check and the planner stay bounded and never crash."""

    write(tmp_path, {
        "azure-pipelines.yml": AZURE_HEAD + "stages:\n  - template: t.yml\n"
        "  - stage: prod\n    jobs:\n      - deployment: prod\n"
        "        environment: production\n        strategy: {runOnce: "
        "{deploy: {steps: [{script: make deploy}]}}}\n",
    })  # fmt: skip
    (tmp_path / "t.yml").write_bytes(RAW[index])
    started = time.monotonic()
    result = check(tmp_path, use_auditor=False)
    assert time.monotonic() - started < 10
    assert {f.file for f in result.findings} <= {"azure-pipelines.yml", "t.yml"}
    plan = semantics.plan(
        semantics.load(tmp_path / "azure-pipelines.yml"),
        "azure",
        semantics.Event.push("main"),
        {},
        root=tmp_path,
        source=tmp_path / "azure-pipelines.yml",
    )
    assert plan.explain()
