"""`check` and `review`: a failing and a passing fixture per rule on both
providers, every kind of change `review` reports, and the CLI's contract."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from conftest import REPO
from helpers import git, invoke
from mlops_scaffold.pipelines.check import check_repository

SHA = "3d3c42e5aac5ba805825da76410c181273ba90b1"
CLEAN_GITHUB = f"""\
name: CD
on:
  push:
    branches: [main]
permissions: {{}}
concurrency:
  group: cd
  cancel-in-progress: false
jobs:
  build:
    runs-on: ubuntu-latest
    timeout-minutes: 10
    permissions:
      contents: read
    steps:
      - uses: actions/checkout@{SHA} # v7.0.1
        with:
          persist-credentials: false
      - run: make package
  deploy-staging:
    needs: build
    runs-on: ubuntu-latest
    timeout-minutes: 10
    environment: staging
    permissions:
      contents: read
      id-token: write
    steps:
      - uses: Azure/login@f5d393ae46f8fde4be8b75f32e3fc50e654ad0ca # v3.0.1
        with:
          client-id: ${{{{ vars.AZURE_CLIENT_ID }}}}
          tenant-id: ${{{{ vars.AZURE_TENANT_ID }}}}
          subscription-id: ${{{{ vars.AZURE_SUBSCRIPTION_ID }}}}
      - run: make deploy ENVIRONMENT=staging
      - run: make smoke-test ENVIRONMENT=staging
  deploy-production:
    needs: deploy-staging
    runs-on: ubuntu-latest
    timeout-minutes: 10
    environment: production
    permissions:
      contents: read
      id-token: write
    steps:
      - run: make deploy ENVIRONMENT=production
"""
CLEAN_AZURE = """\
trigger:
  branches:
    include: [main]
pool:
  vmImage: ubuntu-latest
stages:
  - stage: Build
    jobs:
      - job: build
        timeoutInMinutes: "10"
        steps:
          - checkout: self
            persistCredentials: "false"
          - script: make package
  - stage: DeployStaging
    dependsOn: Build
    jobs:
      - deployment: deploy_staging
        timeoutInMinutes: "10"
        environment: staging
        strategy:
          runOnce:
            deploy:
              steps:
                - script: make deploy ENVIRONMENT=staging
                - script: make smoke-test ENVIRONMENT=staging
  - stage: DeployProduction
    dependsOn: DeployStaging
    jobs:
      - deployment: deploy_production
        timeoutInMinutes: "10"
        environment: production
        strategy:
          runOnce:
            deploy:
              steps:
                - script: make deploy ENVIRONMENT=production
"""
GITHUB_FILE = ".github/workflows/cd.yml"
AZURE_FILE = "azure-pipelines/cd.yml"

# (id, file, replace this, with that, expected rule)
CASES = [
    ("github-permissions-missing", GITHUB_FILE,
     ("permissions: {}\n", "    permissions:\n      contents: read\n    steps:\n      - uses: actions"),
     ("", "    steps:\n      - uses: actions"), "MS201"),
    ("github-permissions-write", GITHUB_FILE, "    permissions:\n      contents: read\n    steps:\n      - uses: actions",
     "    permissions: write-all\n    steps:\n      - uses: actions", "MS201"),
    ("github-unpinned", GITHUB_FILE, f"actions/checkout@{SHA} # v7.0.1",
     "actions/checkout@v7", "MS202"),
    ("github-persisted-credentials", GITHUB_FILE,
     "persist-credentials: false", "fetch-depth: 1", "MS203"),
    ("azure-persisted-credentials", AZURE_FILE, 'persistCredentials: "false"',
     'persistCredentials: "true"', "MS203"),
    ("github-timeout", GITHUB_FILE, "    timeout-minutes: 10\n    permissions:\n      contents: read\n    steps:\n      - uses: actions",
     "    permissions:\n      contents: read\n    steps:\n      - uses: actions", "MS204"),
    ("azure-timeout", AZURE_FILE, '      - job: build\n        timeoutInMinutes: "10"\n',
     "      - job: build\n", "MS204"),
    ("github-production-ungated", GITHUB_FILE, "    environment: production\n",
     "", "MS205"),
    ("azure-production-not-deployment", AZURE_FILE,
     "      - deployment: deploy_production\n        timeoutInMinutes: \"10\"\n        environment: production\n        strategy:\n          runOnce:\n            deploy:\n              steps:\n                - script: make deploy ENVIRONMENT=production\n",
     "      - job: deploy_production\n        timeoutInMinutes: \"10\"\n        steps:\n          - script: make deploy ENVIRONMENT=production\n",
     "MS205"),
    ("github-production-before-staging", GITHUB_FILE,
     "    needs: deploy-staging\n", "    needs: build\n", "MS206"),
    ("github-production-after-tests-only", GITHUB_FILE,
     ("  deploy-staging:\n", "    environment: staging\n", "      - run: make deploy ENVIRONMENT=staging\n"),
     ("  test:\n", "", "      - run: make test\n"), "MS206"),
    ("azure-production-before-staging", AZURE_FILE,
     "    dependsOn: DeployStaging\n", "    dependsOn: Build\n", "MS206"),
    ("github-stored-secret", GITHUB_FILE,
     "          client-id: ${{ vars.AZURE_CLIENT_ID }}\n          tenant-id: ${{ vars.AZURE_TENANT_ID }}\n          subscription-id: ${{ vars.AZURE_SUBSCRIPTION_ID }}\n",
     "          creds: ${{ secrets.AZURE_CREDENTIALS }}\n", "MS207"),
    ("azure-stored-secret", AZURE_FILE, "make deploy ENVIRONMENT=staging",
     "make deploy ENVIRONMENT=staging SECRET=$(ARM_CLIENT_SECRET)", "MS207"),
    ("github-pull-request-target", GITHUB_FILE,
     ("on:\n  push:\n    branches: [main]\n", "persist-credentials: false\n"),
     ("on:\n  pull_request_target:\n",
      "persist-credentials: false\n          ref: ${{ github.event.pull_request.head.sha }}\n"),
     "MS208"),
    ("github-untrusted-input", GITHUB_FILE, "- run: make package",
     "- run: echo \"${{ github.event.pull_request.title }}\"", "MS209"),
    ("azure-untrusted-input", AZURE_FILE, "- script: make package",
     "- script: echo $(Build.SourceVersionMessage)", "MS209"),
    ("github-schema", GITHUB_FILE, "    runs-on: ubuntu-latest\n    timeout-minutes: 10\n    environment: staging",
     "    runs-on: ubuntu-latest\n    timeout-minutes: ten\n    environment: staging", "MS101"),
    ("azure-schema", AZURE_FILE, "      - job: build\n", "      - job: build\n        stepz: []\n", "MS101"),
    ("yaml-syntax", GITHUB_FILE, "jobs:\n", "jobs: [\n", "MS100"),
]  # fmt: skip


def repository(tmp_path: Path, files: dict[str, str]) -> Path:
    for relative, text in files.items():
        path = tmp_path / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return tmp_path


def clean(tmp_path: Path) -> Path:
    return repository(
        tmp_path, {GITHUB_FILE: CLEAN_GITHUB, AZURE_FILE: CLEAN_AZURE}
    )


def test_the_clean_fixtures_pass(tmp_path: Path):
    assert check_repository(clean(tmp_path)) == []


@pytest.mark.parametrize(
    ("relative", "old", "new", "rule"),
    [case[1:] for case in CASES],
    ids=[case[0] for case in CASES],
)
def test_each_rule_fires_on_its_fixture(tmp_path, relative, old, new, rule):
    root = clean(tmp_path)
    path = root / relative
    text = path.read_text()
    olds, news = (old, new) if isinstance(old, tuple) else ((old,), (new,))
    for before, after in zip(olds, news, strict=True):
        assert before in text, "the fixture no longer has the text to replace"
        text = text.replace(before, after, 1)
    path.write_text(text)
    findings = check_repository(root)
    assert rule in {f.rule for f in findings}, findings
    assert all(f.file == relative for f in findings)


def test_the_sample_project_passes_check():
    result = invoke("check", REPO / "sample-project")
    assert result.exit_code == 0, result.stdout
    assert "no findings" in result.stdout


def test_check_formats_and_exit_codes(tmp_path: Path):
    root = clean(tmp_path)
    (root / GITHUB_FILE).write_text(
        CLEAN_GITHUB.replace(f"@{SHA} # v7.0.1", "@v7")
    )
    text = invoke("check", root)
    assert text.exit_code == 1 and "MS202 action-pinned-to-sha" in text.stdout
    as_json = json.loads(invoke("check", root, "--format", "json").stdout)
    assert as_json[0]["rule"] == "MS202" and as_json[0]["hint"]
    annotations = invoke("check", root, "--format", "github").stdout
    assert annotations.startswith(f"::error file={GITHUB_FILE},line=")
    assert invoke("check", tmp_path / "missing").exit_code == 2
    assert invoke("check", root, "--format", "xml").exit_code == 2


# ------------------------------------------------------------------ review
@pytest.fixture
def repo(tmp_path: Path) -> Path:
    root = clean(tmp_path)
    git(root, "init", "--quiet", "--initial-branch=main")
    git(root, "add", "--all")
    git(root, "commit", "--quiet", "-m", "base")
    return root


def review(root: Path) -> dict:
    result = invoke("review", root, "--base", "main", "--format", "json")
    assert result.exit_code == 0, result.stderr
    return json.loads(result.stdout)


def messages(report: dict) -> list[tuple[str, str, str]]:
    return [
        (c["severity"], c["kind"], c["message"])
        for f in report["files"]
        for c in f["changes"]
    ]


REVIEW_CASES = [
    ("trigger-added", GITHUB_FILE, "on:\n  push:\n", "on:\n  workflow_dispatch:\n  push:\n",
     ("medium", "trigger", "trigger added: `workflow_dispatch`")),
    ("trigger-widened", GITHUB_FILE, "branches: [main]", "branches: [main, 'release/*']",
     ("medium", "trigger", "widened")),
    ("trigger-removed", GITHUB_FILE, "on:\n  push:\n    branches: [main]\n",
     "on:\n  workflow_dispatch:\n", ("low", "trigger", "trigger removed: `push`")),
    ("job-added", GITHUB_FILE, "jobs:\n", "jobs:\n  lint:\n    runs-on: ubuntu-latest\n    timeout-minutes: 5\n    permissions: {}\n    steps:\n      - run: make lint\n",
     ("medium", "job", "job added: `lint`")),
    ("needs-changed", GITHUB_FILE, "    needs: deploy-staging\n", "    needs: build\n",
     ("high", "needs", "`deploy-production` now depends on")),
    ("gate-removed", GITHUB_FILE, "    environment: production\n", "",
     ("high", "gate", "environment gate `production` removed")),
    ("permissions-widened", GITHUB_FILE, "    permissions:\n      contents: read\n    steps:\n      - uses: actions",
     "    permissions:\n      contents: write\n    steps:\n      - uses: actions",
     ("high", "permissions", "`build` permissions widened: contents: write")),
    ("secret-referenced", GITHUB_FILE, "- run: make package", "- run: make package TOKEN=${{ secrets.PYPI_TOKEN }}",
     ("high", "secret", "newly references secrets.PYPI_TOKEN")),
    ("action-unpinned", GITHUB_FILE, f"actions/checkout@{SHA} # v7.0.1", "actions/checkout@v7",
     ("high", "action", "unpinned")),
    ("command-changed", GITHUB_FILE, "- run: make package", "- run: make package wheel",
     ("medium", "command", "command changed")),
    ("azure-stage-depends", AZURE_FILE, "    dependsOn: DeployStaging\n", "    dependsOn: Build\n",
     ("high", "needs", "now depends on")),
    ("azure-gate-removed", AZURE_FILE, "        environment: production\n", "",
     ("high", "gate", "environment gate `production` removed")),
    ("azure-variable-referenced", AZURE_FILE, "- script: make package", "- script: make package $(PublishKey)",
     ("medium", "secret", "newly references $(PublishKey)")),
    ("azure-trigger-added", AZURE_FILE, "pool:\n", "pr:\n  branches:\n    include: ['*']\npool:\n",
     ("medium", "trigger", "trigger added: `pr`")),
]  # fmt: skip


@pytest.mark.parametrize(
    ("relative", "old", "new", "expected"),
    [case[1:] for case in REVIEW_CASES],
    ids=[case[0] for case in REVIEW_CASES],
)
def test_review_reports_each_kind_of_change(repo, relative, old, new, expected):
    path = repo / relative
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new, 1))
    found = messages(review(repo))
    severity, kind, words = expected
    assert any(
        s == severity and k == kind and words in m for s, k, m in found
    ), found


def test_review_of_an_unchanged_repository_says_so(repo: Path):
    result = invoke("review", repo, "--base", "main")
    assert "No workflow or pipeline changes." in result.stdout


def test_review_markdown_is_one_updatable_comment_with_paths(repo: Path):
    path = repo / GITHUB_FILE
    path.write_text(CLEAN_GITHUB.replace("    environment: production\n", ""))
    git(repo, "checkout", "--quiet", "-b", "change")
    git(repo, "commit", "--quiet", "-am", "drop the gate")
    result = invoke("review", repo, "--base", "main", "--head", "change")
    markdown = result.stdout
    assert markdown.startswith("<!-- mlops-scaffold:pipeline-review -->")
    assert markdown.count("```mermaid") == 2
    assert '{{"approval"}} --> ' in markdown  # before: the gate
    assert "### Risk summary" in markdown and "**1 high**" in markdown


def test_review_rejects_an_unknown_ref(repo: Path):
    result = invoke("review", repo, "--base", "nope")
    assert result.exit_code == 2 and "Unknown git reference" in result.stderr
    assert "--base main" in result.stderr


def test_review_of_a_remote_branch_not_fetched_says_to_fetch_it(repo: Path):
    """The hint never suggests the very ref that failed."""
    git(repo, "remote", "add", "origin", str(repo))
    result = invoke("review", repo, "--base", "origin/main")
    assert result.exit_code == 2
    assert "`git fetch origin main`" in result.stderr
    assert "--base origin/main" not in result.stderr


def test_review_outside_git_is_a_usage_error(tmp_path: Path):
    result = invoke("review", tmp_path, "--base", "main")
    assert (
        result.exit_code == 2 and "not inside a git repository" in result.stderr
    )


def test_pipeline_review_never_installs_a_bare_index_name(both_project: Path):
    """A bare `mlops-scaffold==X` from an index is a dependency-confusion
    hole; the workflows install a git URL pinned to a full commit SHA."""
    for path in (
        both_project / ".github/workflows/pipeline-review.yml",
        both_project / "azure-pipelines/pipeline-review.yml",
    ):
        text = path.read_text()
        assert "mlops-scaffold==" not in text, path
        assert "MLOPS_SCAFFOLD_SOURCE" in text and "{40}" in text, path
    assert (
        subprocess.run(["git", "--version"], capture_output=True).returncode
        == 0
    )
