"""MS101 on GitHub workflows: GitHub's own definition (workflow-v1.0.json,
actions/languageservices) read the way its template reader reads it. Each
case is a workflow built in code: the forms GitHub accepts (some of which
SchemaStore's schema refused) and the ones it refuses, with the message a
user sees."""

from __future__ import annotations

import copy
from typing import Any

import pytest
import yaml

from mlops_scaffold.pipelines import github_schema
from mlops_scaffold.pipelines.check import check
from mlops_scaffold.pipelines.model import GITHUB, PipelineFile
from mlops_scaffold.pipelines.schema import MAX_ERRORS, schema_errors

BASE: dict[str, Any] = {
    "on": {"push": {"branches": ["main"]}},
    "permissions": {"contents": "read"},
    "jobs": {
        "build": {
            "runs-on": "ubuntu-latest",
            "timeout-minutes": 10,
            "steps": [{"uses": "actions/checkout@v4"}, {"run": "make"}],
        }
    },
}


def workflow(job: dict[str, Any] | None = None, **top: Any) -> dict[str, Any]:
    """BASE with the build job's keys and the top-level keys replaced (a
    value of None removes the key)."""
    data = copy.deepcopy(BASE)
    for target, changes in ((data["jobs"]["build"], job or {}), (data, top)):
        for key, value in changes.items():
            key = {"on_": "on"}.get(key, key)
            if value is None:
                target.pop(key, None)
            else:
                target[key] = value
    return data


def messages(data: Any) -> list[str]:
    return [message for _, message in github_schema.errors(data)]


ACCEPTED = {
    # SchemaStore refused these; GitHub's definition takes them.
    "one-branch-string": workflow(on_={"push": {"branches": "master"}}),
    "matrix-include-null": workflow({
        "strategy": {"matrix": {"include": [{"container": None, "os": "x"}]}}
    }),
    "strategy-without-matrix": workflow({"strategy": {"max-parallel": 5}}),
    "empty-with-input": workflow({
        "steps": [{"uses": "a/b@v1", "with": {"account": None}}]
    }),
    "repository-dispatch": workflow(on_="repository_dispatch"),
    # Expressions where the place has a context.
    "runs-on-matrix": workflow({"runs-on": "${{ matrix.os }}"}),
    "timeout-expression": workflow({"timeout-minutes": "${{ matrix.t }}"}),
    "strategy-expression": workflow({
        "strategy": "${{ fromJSON(needs.plan.outputs.strategy) }}"
    }),
    "step-env-secret": workflow({
        "steps": [{"run": "make", "env": {"T": "${{ secrets.TOKEN }}"}}]
    }),
    "step-if-hashfiles": workflow({
        "steps": [{"run": "make", "if": "hashFiles('a') != ''"}]
    }),
    "job-if-status": workflow({"if": "${{ failure() && needs.a.result }}"}),
    "expression-key-in-env": workflow({"env": {"${{ matrix.k }}": "v"}}),
    "concurrency-text": workflow(concurrency="ci-${{ github.ref }}"),
    # A literal expression is its text, allowed anywhere.
    "literal-expression-in-on": workflow(
        on_={"push": {"branches": "${{ 'main' }}"}}
    ),
    # Numbers and booleans are read as text where text is wanted.
    "scalars-as-text": workflow({
        "name": 3,
        "env": {"N": 1, "B": True},
        "steps": [{"uses": "a/b@v1", "with": {"n": 1.5, "b": False}}],
    }),
    "reusable-workflow": workflow({
        "runs-on": None, "timeout-minutes": None, "steps": None,
        "uses": "./.github/workflows/deploy.yml",
        "with": {"target": "${{ needs.plan.outputs.target }}"},
        "secrets": "inherit",
    }),  # fmt: skip
    "workflow-call": workflow(on_={
        "workflow_call": {
            "inputs": {"target": {"type": "string", "required": True}},
            "secrets": {"TOKEN": None},
        }
    }),
}  # fmt: skip


@pytest.mark.parametrize("data", ACCEPTED.values(), ids=ACCEPTED.keys())
def test_github_accepts_what_its_own_definition_accepts(data):
    assert messages(data) == []


REFUSED = {
    "unknown-job-key": (
        workflow({"stepz": []}),
        "unexpected key `stepz` in job `build` (did you mean `steps`?); "
        "expected one of: ",
    ),
    "missing-runs-on": (
        workflow({"runs-on": None}),
        "`runs-on` is required in job `build`",
    ),
    "timeout-not-a-number": (
        workflow({"timeout-minutes": "abc"}),
        "`timeout-minutes` must be a number or an expression, not `abc`",
    ),
    "list-for-a-mapping": (
        workflow({"strategy": ["fail-fast"]}),
        "`strategy` must be a mapping or an expression, not a list",
    ),
    "mapping-for-a-list": (
        workflow({"steps": {"run": "make"}}),
        "`steps` must be a list, not a mapping",
    ),
    "expression-as-an-on-key": (
        workflow(on_={"${{ github.event_name }}": None}),
        "an expression is not allowed in a key of `on`",
    ),
    "expression-in-branches": (
        workflow(on_={"push": {"branches": "${{ github.ref }}"}}),
        "an expression is not allowed in `branches`",
    ),
    "expression-in-workflow-name": (
        workflow(name="${{ 1 }}"),
        "an expression is not allowed in `name`",
    ),
    "secrets-in-runs-on": (
        workflow({"runs-on": "${{ secrets.RUNNER }}"}),
        "`secrets` is not available in `runs-on` (it may use github, "
        "inputs, vars, needs, strategy, matrix)",
    ),
    "env-in-job-if": (
        workflow({"if": "env.DEPLOY == 'true'"}),
        "`env` is not available in `if`",
    ),
    "secrets-in-step-if": (
        workflow({"steps": [{"run": "make", "if": "secrets.TOKEN != ''"}]}),
        "`secrets` is not available in `if`",
    ),
    "expression-as-a-job-id": (
        workflow(jobs={"${{ github.job }}": BASE["jobs"]["build"]}),
        "an expression is not allowed in a key of `jobs`",
    ),
    "hashfiles-in-runs-on": (
        workflow({"runs-on": "${{ hashFiles('x') }}"}),
        "`hashFiles()` is not available in `runs-on`",
    ),
    "too-few-arguments": (
        workflow({"if": "contains(github.ref)"}),
        "`contains()` takes 2 arguments, not 1",
    ),
    "unknown-permission-level": (
        workflow(permissions="write"),
        "`permissions` must be one of `read-all`, `write-all` or a mapping, "
        "not `write` (did you mean `write-all`?)",
    ),
    "unknown-event": (
        workflow(on_="pushh"),
        "(did you mean `push`?)",
    ),
    "job-without-a-kind": (
        workflow({"runs-on": None, "steps": None, "timeout-minutes": None}),
        "job `build` does not say what it is: add one of `runs-on`, `uses`",
    ),
    "step-without-a-kind": (
        workflow({"steps": [{"name": "x"}]}),
        "step 1 of job `build` does not say what it is: add one of `run`, "
        "`uses`",
    ),
    "background-step": (
        workflow({"steps": [{"run": "make", "background": True}]}),
        "unexpected key `background` in step 1 of job `build`",
    ),
    "job-id-twice-without-case": (
        workflow(jobs={"build": BASE["jobs"]["build"],
                       "Build": BASE["jobs"]["build"]}),
        "`Build` is written twice in `jobs` (keys are compared without case)",
    ),  # fmt: skip
    "job-id-not-an-id": (
        workflow(jobs={"1": BASE["jobs"]["build"]}),
        "job id `1` is not valid: an id starts with a letter or `_`",
    ),
    "step-id-twice": (
        workflow({"steps": [{"id": "a", "run": "x"}, {"id": "a", "run": "y"}]}),
        "step id `a` is used twice in job `build`",
    ),
    "empty-runs-on": (
        workflow({"runs-on": ""}),
        "`runs-on` must be a non-empty string, a list, a mapping or an "
        "expression, not empty",
    ),
    "not-a-mapping": ([{"on": "push"}], "the workflow must be a mapping"),
}  # fmt: skip


@pytest.mark.parametrize(
    ("data", "expected"), REFUSED.values(), ids=REFUSED.keys()
)
def test_github_refuses_what_its_own_definition_refuses(data, expected):
    found = messages(data)
    assert len(found) == 1, found
    assert expected in found[0]


def pipeline(data: Any) -> PipelineFile:
    text = yaml.safe_dump(data, sort_keys=False)
    return PipelineFile.parse(text, ".github/workflows/ci.yml", GITHUB)


def test_every_error_is_reported_at_its_line():
    data = workflow(
        {"timeout-minutes": "abc", "stepz": [], "runs-on": None},
        on_={"push": {"branches": "${{ github.ref }}"}},
    )
    text = yaml.safe_dump(data, sort_keys=False).splitlines()
    found = schema_errors(pipeline(data))
    lines = {message.split(" ")[0]: text[line - 1] for line, message in found}
    assert lines == {
        "an": "    branches: ${{ github.ref }}",
        "`timeout-minutes`": "    timeout-minutes: abc",
        "unexpected": "    stepz: []",
        "`runs-on`": "  build:",
    }


def test_errors_are_bounded_per_file():
    data = workflow({f"key{i}": 1 for i in range(3 * MAX_ERRORS)})
    assert len(schema_errors(pipeline(data))) == MAX_ERRORS


def test_an_expression_that_does_not_parse_is_left_to_ms212(tmp_path):
    data = workflow({"runs-on": "${{ matrix.os == }}"})
    target = tmp_path / ".github" / "workflows" / "ci.yml"
    target.parent.mkdir(parents=True)
    target.write_text(yaml.safe_dump(data, sort_keys=False))
    rules = {f.rule for f in check(tmp_path, use_auditor=False).findings}
    assert "MS212" in rules
    assert "MS101" not in rules


def test_the_definition_ships_with_its_licence_and_source():
    from mlops_scaffold.pipelines import github_definitions

    folder = github_definitions._FILE.parent
    assert (
        "4043eda158e16579cc5fb1b0b07a4bce2a76f0b5"
        in (folder / "README.md").read_text()
    )
    assert (
        "MIT License"
        in (folder / "LICENSE-actions-languageservices").read_text()
    )
    assert github_definitions.schema().definitions[github_definitions.ROOT]
