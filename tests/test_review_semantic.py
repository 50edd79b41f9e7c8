"""`review` by meaning (issue 26): what runs, where and as whom, for the
base and the head, and the findings compared by identity on whole trees.
Each case is one a hostile pull-request author tried."""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from helpers import git, invoke
from mlops_scaffold.pipelines.check import check
from mlops_scaffold.pipelines.review import review_change, to_markdown

HEAD = "on:\n  push:\n    branches: [main]\n  workflow_dispatch:\npermissions: {}\n"
RELEASE = (
    HEAD
    + """jobs:
  deploy-staging:
    runs-on: ubuntu-latest
    timeout-minutes: 5
    environment: staging
    steps: [{run: make deploy ENVIRONMENT=staging}]
  smoke-test-staging:
    needs: deploy-staging
    runs-on: ubuntu-latest
    timeout-minutes: 5
    steps: [{run: make smoke-test ENVIRONMENT=staging}]
  deploy-production:
    needs: smoke-test-staging
    if: github.ref == 'refs/heads/main'
    runs-on: ubuntu-latest
    timeout-minutes: 5
    environment: production
    steps: [{run: make deploy ENVIRONMENT=production}]
"""
)
WORKFLOW = ".github/workflows/cd.yml"


def repository(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    git(root, "init", "--quiet", "--initial-branch=main")
    git(root, "add", "--all")
    git(root, "commit", "--quiet", "-m", "base")
    return root


def changes(root: Path, **files: str) -> list[tuple[str, str, str]]:
    """The review of the working tree after writing ``files``."""
    for name, text in files.items():
        path = root / name.replace("__", "/")
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    review = review_change(root, base="main")
    return [
        (c.severity, c.kind, c.message) for f in review.files for c in f.changes
    ]


def test_always_on_production_is_high(tmp_path):
    root = repository(tmp_path, {WORKFLOW: RELEASE})
    edited = RELEASE.replace(
        "if: github.ref == 'refs/heads/main'", "if: ${{ always() }}"
    )
    found = changes(root, **{WORKFLOW.replace("/", "__"): edited})
    high = [m for s, _, m in found if s == "high"]
    assert any("production can now run when `smoke-test-staging` failed" in m
               for m in high), found  # fmt: skip
    assert any("condition changed" in m for m in high)
    assert any("manual run from another branch" in m for m in high)
    assert "MS211" in {f.rule for f in check(root, use_auditor=False).findings}


AZURE = """trigger: [main]
pool: {vmImage: ubuntu-latest}
stages:
  - stage: DeployStaging
    jobs:
      - deployment: staging
        environment: staging
        timeoutInMinutes: 5
        strategy: {runOnce: {deploy: {steps: [{script: make deploy}]}}}
  - stage: DeployProduction
    dependsOn: DeployStaging
    condition: and(succeeded(), eq(variables['Build.SourceBranch'], 'refs/heads/main'))
    jobs:
      - deployment: production
        environment: production
        timeoutInMinutes: 5
        strategy: {runOnce: {deploy: {steps: [{script: make deploy}]}}}
"""


def test_removing_the_production_branch_condition_is_high(tmp_path):
    root = repository(tmp_path, {"azure-pipelines.yml": AZURE})
    edited = re.sub(r"    condition: .*\n", "", AZURE)
    found = changes(root, **{"azure-pipelines.yml": edited})
    assert any(
        s == "high" and "DeployProduction` condition changed" in m
        for s, _, m in found
    ), found


def test_succeeded_or_failed_on_production_is_ms211(tmp_path):
    text = AZURE.replace(
        "condition: and(succeeded(),", "condition: and(succeededOrFailed(),"
    )
    root = repository(tmp_path, {"azure-pipelines.yml": text})
    found = [f for f in check(root, use_auditor=False).findings]
    assert [f.rule for f in found if f.rule == "MS211"] == ["MS211"]
    assert "`DeployStaging` failed" in next(
        f.message for f in found if f.rule == "MS211"
    )


def test_a_widened_trigger_is_reported(tmp_path):
    tagged = RELEASE.replace(
        "  push:\n    branches: [main]\n", "  push:\n    tags: ['v*']\n"
    )
    root = repository(tmp_path, {WORKFLOW: tagged})
    found = changes(root, **{WORKFLOW.replace("/", "__"): RELEASE})
    assert any(
        s == "high" and "on a push to main, `deploy-production` now runs" in m
        for s, _, m in found
    ), found


INJECTION = """on: issues
permissions: {}
jobs:
  a:
    runs-on: ubuntu-latest
    timeout-minutes: 5
    steps:
      - run: echo "${{ github.event.issue.title }}"
"""


def test_a_second_injection_in_the_same_file_is_new(tmp_path):
    root = repository(tmp_path, {".github/workflows/i.yml": INJECTION})
    (root / ".github/workflows/i.yml").write_text(
        INJECTION + '      - run: echo "${{ github.event.issue.title }}"\n'
    )
    review = review_change(root, base="main")
    assert [f["rule"] for f in review.new_findings].count("MS209") == 1


def test_starting_to_use_an_existing_template_is_no_finding(tmp_path):
    pipeline = (
        "trigger: [main]\npool: {vmImage: ubuntu-latest}\njobs:\n"
        "  - job: a\n    timeoutInMinutes: 5\n    steps:\n"
        "      - script: echo\n"
    )
    root = repository(
        tmp_path,
        {
            "azure-pipelines.yml": pipeline,
            "steps.yml": "steps:\n  - script: echo\n",
        },
    )
    (root / "azure-pipelines.yml").write_text(
        pipeline + "      - template: steps.yml\n"
    )
    review = review_change(root, base="main")
    assert not [f for f in review.new_findings if f["rule"] == "MS102"]


def test_any_file_name_is_reviewed(tmp_path):
    root = repository(tmp_path, {WORKFLOW: RELEASE})
    odd = root / os.fsdecode(b"odd-\xff") / "x.yml"
    odd.parent.mkdir()
    odd.write_text("on: push\njobs: {}\n")
    french = root / ".github/workflows/déploiement.yml"
    french.write_text(
        "on: pull_request_target\npermissions: write-all\njobs:\n"
        "  a:\n    runs-on: ubuntu-latest\n    steps: [{run: echo}]\n"
    )
    result = invoke("review", root, "--base", "main")
    assert result.exit_code in (0, 1), result.stderr
    assert "déploiement.yml" in result.stdout
    assert "odd-\\udcff/x.yml" in result.stdout
    review = review_change(root, base="main")
    shown = {f.file: f for f in review.files}
    risky = shown[".github/workflows/déploiement.yml"].changes
    assert {c.kind for c in risky if c.severity == "high"} >= {
        "trigger",
        "permissions",
    }


def test_a_zizmor_ignore_comment_is_a_high_risk_item(tmp_path):
    root = repository(tmp_path, {".github/workflows/i.yml": INJECTION})
    (root / ".github/workflows/i.yml").write_text(
        INJECTION.replace(
            '}}"\n', '}}"  # zizmor: ignore[template-injection]\n'
        )
    )
    review = review_change(root, base="main")
    assert any(
        c.severity == "high" and c.kind == "suppression"
        and "zizmor: template-injection" in c.message
        for c in review.changes
    ), review.changes  # fmt: skip


def test_a_zizmor_configuration_is_a_high_risk_item(tmp_path):
    root = repository(tmp_path, {WORKFLOW: RELEASE})
    (root / ".github/zizmor.yml").write_text(
        "rules:\n  template-injection:\n    disable: true\n"
    )
    review = review_change(root, base="main")
    assert any(
        c.severity == "high" and c.kind == "suppression" for c in review.changes
    )


# ------------------------------------------ the property, on generated CD
def _generated_cd(rendered, provider: str) -> tuple[str, str]:
    # --ci both gives one system the CD (cd_provider): each its own here
    project = rendered(ci_provider=provider, iac="bicep")
    name = (
        ".github/workflows/cd.yml" if provider == "github"
        else "azure-pipelines/cd.yml"
    )  # fmt: skip
    return name, (project / name).read_text()


def _running_jobs(text: str, provider: str) -> list[str]:
    """The jobs that run on a push to main (the ones a switch-off moves)."""
    from mlops_scaffold.pipelines import semantics
    from mlops_scaffold.yamlio import load_untrusted

    data, _ = load_untrusted(text, "cd.yml")
    plan = semantics.plan(data, provider, semantics.Event.push("main"))
    return [u.id for u in plan.jobs if u.verdict is semantics.Verdict.RUN]


def _switch_off(text: str, provider: str, job: str) -> str:
    """A change in what runs: ``job`` never runs (nor what waits for it)."""
    from mlops_scaffold.yamlio import load_untrusted

    data, _ = load_untrusted(text, "cd.yml")
    if provider == "github":
        data["jobs"][job]["if"] = "${{ false }}"
    else:
        for stage in data["stages"]:
            for entry in stage.get("jobs", []):
                if job in (entry.get("job"), entry.get("deployment")):
                    entry["condition"] = "false"
    return yaml.safe_dump(data, sort_keys=False, width=10**6)


def _no_op(text: str, kind: str) -> str:
    """Edits that change nothing the services read."""
    if kind == "comment":
        return text.replace("\njobs:\n", "\n# a reviewer's note\njobs:\n", 1)
    if kind == "quote":
        return re.sub(r"timeout-minutes: (\d+)", r"timeout-minutes: \1", text)
    if kind == "blank":
        return text.replace("\n\n", "\n\n\n", 1)
    return re.sub(r'timeoutInMinutes: "(\d+)"', r"timeoutInMinutes: '\1'", text)


@pytest.mark.e2e
@settings(
    max_examples=12,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(
    provider=st.sampled_from(["github", "azure"]),
    pick=st.integers(min_value=0, max_value=50),
    no_op=st.sampled_from(["comment", "quote", "blank", "azure-quote"]),
)
def test_review_reports_what_runs_and_only_that(
    rendered, tmp_path_factory, provider, pick, no_op
):
    name, text = _generated_cd(rendered, provider)
    jobs = _running_jobs(text, provider)
    job = jobs[pick % len(jobs)]
    root = tmp_path_factory.mktemp("property")
    repository(root, {name: text})
    (root / name).write_text(_no_op(text, no_op))
    quiet = review_change(root, base="main")
    assert not [c for c in quiet.changes if c.kind in ("runs", "condition")]
    shutil.copy(root / name, root / "scratch")
    (root / name).write_text(_switch_off(text, provider, job))
    loud = review_change(root, base="main")
    assert [c for c in loud.changes if c.kind in ("runs", "condition")], (
        job,
        to_markdown(loud),
    )


def test_timeouts_concurrency_and_identity_are_reported(tmp_path):
    login = (
        "    steps:\n      - uses: azure/login@a457da9ea143d694b1b9c7c869ebb04ebe844ef5\n"
        "        with:\n          client-id: ${{ vars.STAGING_ID }}\n"
        "          tenant-id: t\n          subscription-id: s\n"
        "      - run: make deploy ENVIRONMENT=staging\n"
    )
    base = RELEASE.replace(
        "    steps: [{run: make deploy ENVIRONMENT=staging}]\n", login
    )
    root = repository(tmp_path, {WORKFLOW: base})
    head = (
        base.replace("vars.STAGING_ID", "vars.PRODUCTION_ID")
        .replace("    timeout-minutes: 5\n    environment: production\n",
                 "    environment: production\n    concurrency: prod\n")
    )  # fmt: skip
    found = {
        (s, k)
        for s, k, _ in changes(root, **{WORKFLOW.replace("/", "__"): head})
    }
    assert ("high", "identity") in found
    assert ("medium", "timeout") in found
    assert ("high", "concurrency") in found


def test_a_changed_template_is_reviewed_through_its_pipelines(tmp_path):
    pipeline = AZURE.replace(
        "  - stage: DeployProduction\n",
        "  - template: prod.yml\n  - stage: Old\n",
    )
    prod = (
        "stages:\n  - stage: DeployProduction\n    dependsOn: DeployStaging\n"
        "    condition: and(succeeded(), eq(variables['Build.SourceBranch'], 'refs/heads/main'))\n"
        "    jobs:\n      - deployment: production\n        environment: production\n"
        "        timeoutInMinutes: 5\n"
        "        strategy: {runOnce: {deploy: {steps: [{script: make deploy}]}}}\n"
    )
    root = repository(
        tmp_path, {"azure-pipelines.yml": pipeline, "prod.yml": prod}
    )
    (root / "prod.yml").write_text(
        prod.replace("and(succeeded(),", "and(succeededOrFailed(),")
    )
    review = review_change(root, base="main")
    through = [f for f in review.files if f.file == "azure-pipelines.yml"]
    assert through and "uses changed template" in through[0].status
    assert any(
        c.severity == "high" and c.kind in ("condition", "production")
        for c in through[0].changes
    ), through[0].changes
