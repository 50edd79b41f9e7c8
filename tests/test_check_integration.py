"""`check` where pipelines really live and how CI and editors use it:
discovery by content, rules from structure, suppressions, settings,
severities, formats (SARIF), file arguments, zizmor merged (and missing),
the pre-commit hook and the GitHub action; `review` graphs, renames and
new findings."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from test_check_review import (
    AZURE_FILE,
    CLEAN_AZURE,
    CLEAN_GITHUB,
    GITHUB_FILE,
    SHA,
    clean,
)

from conftest import REPO
from helpers import git, invoke, load_yaml
from mlops_scaffold.pipelines.check import check
from mlops_scaffold.pipelines.model import PipelineFile
from mlops_scaffold.pipelines.review import mermaid
from mlops_scaffold.pipelines.rules import all_rules


def write(root: Path, files: dict[str, str]) -> Path:
    for relative, text in files.items():
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return root


def rules_of(root: Path, **kwargs) -> list[tuple[str, str]]:
    return [(f.rule, f.file) for f in check(root, **kwargs).findings]


# ------------------------------------------------------------- discovery
STEPS_TEMPLATE = """\
parameters:
  - name: target
    type: string
steps:
  - script: make deploy ENVIRONMENT=${{ parameters.target }}
  - checkout: self
    persistCredentials: true
"""
VARIABLES_TEMPLATE = "variables:\n  pythonVersion: '3.12'\n"


def test_azure_files_are_found_by_content_and_templates_followed(tmp_path):
    pipeline = CLEAN_AZURE.replace(
        "          - script: make package\n",
        "          - script: make package\n"
        "          - template: ../templates/steps.yml\n"
        "            parameters:\n              target: staging\n",
    ).replace("pool:\n", "variables:\n  - template: /eng/vars.yml\npool:\n")
    write(tmp_path, {
        "build/azure-pipelines/cd.yml": pipeline,
        "build/templates/steps.yml": STEPS_TEMPLATE,
        "eng/vars.yml": VARIABLES_TEMPLATE,
        "docs/mkdocs.yml": "site_name: x\nnav:\n  - index.md\n",
        "node_modules/x/azure-pipelines.yml": "steps: 5\n",
    })  # fmt: skip
    result = check(tmp_path)
    assert result.checked == [
        "build/azure-pipelines/cd.yml",
        "build/templates/steps.yml",
        "eng/vars.yml",
    ]
    # The template's persisted checkout is found in the template.
    assert ("MS203", "build/templates/steps.yml") in [
        (f.rule, f.file) for f in result.findings
    ]


def test_gitignored_and_vendored_folders_are_skipped(tmp_path):
    bad = CLEAN_GITHUB.replace(f"@{SHA} # v7.0.1", "@v7")
    write(tmp_path, {
        ".gitignore": "generated/\n",
        "generated/action.yml": "runs:\n  using: composite\n  steps:\n    - uses: actions/checkout@v4\n",
        "third_party/lib/.github/workflows/x.yml": bad,
        GITHUB_FILE: CLEAN_GITHUB,
    })  # fmt: skip
    assert check(tmp_path).checked == [GITHUB_FILE]
    git(tmp_path, "init", "--quiet")
    assert check(tmp_path).checked == [GITHUB_FILE]


def test_an_unpinned_action_inside_a_local_composite_action_is_found(tmp_path):
    write(tmp_path, {
        "tools/setup/action.yml": (
            "name: setup\ndescription: d\nruns:\n  using: composite\n  steps:\n"
            "    - uses: actions/setup-python@v5\n"
        ),
    })  # fmt: skip
    assert ("MS202", "tools/setup/action.yml") in rules_of(tmp_path)


# ------------------------------------------------------------- schema
@pytest.mark.parametrize(
    "step",
    [
        "- script: make\n            enabled: false",
        "- script: make\n            continueOnError: True",
        "- task: Docker@2\n            inputs:\n              command: build\n              addPipelineData: false",
        "- task: Docker@2\n            inputs:\n              command: ${{ parameters.command }}",
        "- task: PublishTestResults@2\n            inputs:\n              failTaskOnFailedTests: true\n              testRunTitle: 3",
    ],
)
def test_azure_scalars_are_read_as_the_service_reads_them(tmp_path, step):
    text = CLEAN_AZURE.replace("- script: make package", step)
    write(tmp_path, {AZURE_FILE: text})
    assert "MS101" not in {f.rule for f in check(tmp_path).findings}


def test_the_schema_message_names_the_branch_the_value_was_meant_for(tmp_path):
    text = CLEAN_AZURE.replace(
        "- script: make package",
        "- task: Docker@2\n            inputs:\n              command: build\n            bogusKey: 1",
    )
    write(tmp_path, {AZURE_FILE: text})
    [finding] = [f for f in check(tmp_path).findings if f.rule == "MS101"]
    assert "bogusKey" in finding.message
    assert "PowerShell" not in finding.message


@pytest.mark.parametrize(
    "before, after",
    [
        ("  push:\n    branches: [main]", "  push:\n    branches: main"),
        (
            "    runs-on: ubuntu-latest\n",
            "    runs-on: ubuntu-latest\n    strategy:\n      matrix:\n"
            "        include:\n          - container: null\n            os: x\n",
        ),
    ],
    ids=["one-branch-string", "matrix-include-null"],
)
def test_github_accepts_what_its_own_schema_accepts(tmp_path, before, after):
    """actions/languageservices workflow-v1.0.json: branches is a string or
    a list; a matrix filter item's values are `any`."""
    assert before in CLEAN_GITHUB
    write(tmp_path, {GITHUB_FILE: CLEAN_GITHUB.replace(before, after, 1)})
    assert "MS101" not in {f.rule for f in check(tmp_path).findings}


def test_every_schema_error_is_reported_with_the_branch_meant(tmp_path):
    text = CLEAN_GITHUB.replace(
        "    timeout-minutes: 10\n",
        "    timeout-minutes: abc\n    stepz: []\n",
        1,
    )
    write(tmp_path, {GITHUB_FILE: text})
    messages = [
        f.message for f in check(tmp_path).findings if f.rule == "MS101"
    ]
    assert len(messages) == 2, messages
    assert any(
        "`timeout-minutes` must be a number or an expression, not `abc`" in m
        for m in messages
    )
    assert any("`stepz`" in m for m in messages)
    assert not any("uses" in m for m in messages)


def test_a_broken_expression_is_a_finding_on_its_file_not_a_crash(tmp_path):
    """Per-file isolation: the other file's findings and the SARIF stay."""
    broken = CLEAN_AZURE.replace(
        "- script: make package",
        "- ${{ if eq(variables.x, 'a' }}:\n            - script: make package",
    )
    persisted = CLEAN_GITHUB.replace(
        "    timeout-minutes: 10\n", "    timeout-minutes: abc\n", 1
    )
    write(tmp_path, {AZURE_FILE: broken, GITHUB_FILE: persisted})
    found = check(tmp_path, use_auditor=False).findings
    assert ("MS101", GITHUB_FILE) in {(f.rule, f.file) for f in found}
    assert any(
        f.file == AZURE_FILE and f.severity == "error" and "eq(" in f.message
        for f in found
    ), found


@pytest.mark.e2e
def test_a_broken_expression_leaves_the_sarif_of_the_run(tmp_path):
    broken = CLEAN_AZURE.replace(
        "- script: make package",
        "- ${{ if eq(variables.x, 'a' }}:\n            - script: make package",
    )
    write(tmp_path, {AZURE_FILE: broken, GITHUB_FILE: CLEAN_GITHUB})
    result = invoke("check", str(tmp_path), "--format", "sarif")
    assert "Internal error" not in result.stderr
    assert result.exit_code == 1
    assert json.loads(result.stdout)["runs"][0]["results"]


# ------------------------------------------------------- structure rules
def test_a_job_named_like_production_is_not_a_production_deploy(tmp_path):
    text = CLEAN_GITHUB.replace(
        "  build:\n", "  build-product-catalog:\n"
    ).replace("needs: build\n", "needs: build-product-catalog\n")
    write(tmp_path, {GITHUB_FILE: text})
    assert rules_of(tmp_path) == []


def test_production_needing_only_build_fails_even_with_staging_elsewhere(
    tmp_path,
):
    text = CLEAN_GITHUB.replace(
        "    needs: deploy-staging\n", "    needs: build\n"
    )
    write(tmp_path, {GITHUB_FILE: text})
    findings = check(tmp_path).findings
    assert [f.rule for f in findings] == ["MS206"]
    assert "`build`" in findings[0].message


def test_ms206_names_the_direct_dependency_of_production(tmp_path):
    """The generated CD with production waiting for the build: the build
    reaches staging only through the Azure ML training job, and the finding
    names the edge to change (needs: build), not that indirect job."""
    cd = (REPO / "sample-project" / GITHUB_FILE).read_text()
    text = cd.replace(
        "    needs: smoke-test-staging\n", "    needs: build\n", 1
    )
    assert text != cd
    write(tmp_path, {GITHUB_FILE: text})
    # Its `if:` still reads needs.smoke-test-staging: MS212 says so too.
    assert {f.rule for f in check(tmp_path).findings} == {"MS206", "MS212"}
    [finding] = [f for f in check(tmp_path).findings if f.rule == "MS206"]
    assert finding.message.startswith(
        "`deploy-production` waits for `build` (and through it `train-azureml`)"
    ), finding.message


def test_production_after_staging_without_a_smoke_test(tmp_path):
    text = CLEAN_GITHUB.replace(
        "      - run: make smoke-test ENVIRONMENT=staging\n", ""
    )
    write(tmp_path, {GITHUB_FILE: text})
    [finding] = check(tmp_path).findings
    assert finding.rule == "MS206" and "smoke test" in finding.message


def test_a_smoke_test_job_between_staging_and_production_counts(tmp_path):
    text = CLEAN_GITHUB.replace(
        "      - run: make smoke-test ENVIRONMENT=staging\n", ""
    ).replace(
        "  deploy-production:\n    needs: deploy-staging\n",
        "  smoke:\n    needs: deploy-staging\n    runs-on: ubuntu-latest\n"
        "    timeout-minutes: 5\n    permissions: {}\n    steps:\n"
        "      - run: make smoke-test\n"
        "  deploy-production:\n    needs: smoke\n",
    )
    write(tmp_path, {GITHUB_FILE: text})
    assert rules_of(tmp_path) == []


def test_azure_stage_order_is_the_default_dependency(tmp_path):
    text = CLEAN_AZURE.replace("    dependsOn: DeployStaging\n", "")
    write(tmp_path, {AZURE_FILE: text})
    assert rules_of(tmp_path) == []  # the stage before is the dependency
    text = CLEAN_AZURE.replace(
        "    dependsOn: DeployStaging\n", "    dependsOn: []\n"
    )
    write(tmp_path, {AZURE_FILE: text})
    assert [r for r, _ in rules_of(tmp_path)] == ["MS206"]


def test_one_finding_per_stored_secret_line(tmp_path):
    text = CLEAN_GITHUB.replace(
        "          client-id: ${{ vars.AZURE_CLIENT_ID }}\n          tenant-id: ${{ vars.AZURE_TENANT_ID }}\n          subscription-id: ${{ vars.AZURE_SUBSCRIPTION_ID }}\n",
        "          creds: ${{ secrets.AZURE_CREDENTIALS }}\n",
    )
    write(tmp_path, {GITHUB_FILE: text})
    assert [r for r, _ in rules_of(tmp_path)] == ["MS207"]


# ----------------------------------------------- suppressions, settings
NO_TIMEOUT = CLEAN_GITHUB.replace(
    "  build:\n    runs-on: ubuntu-latest\n    timeout-minutes: 10\n",
    "  build:{comment}\n    runs-on: ubuntu-latest\n",
)


@pytest.mark.parametrize(
    ("comment", "suppressed"),
    [
        ("", False),
        ("  # mlops-scaffold: ignore[MS204]", True),
        ("  # mlops-scaffold: ignore[MS206, MS204]", True),
        ("  # mlops-scaffold: ignore[MS206]", False),
    ],
)
def test_inline_suppression_on_the_job_line(tmp_path, comment, suppressed):
    write(tmp_path, {GITHUB_FILE: NO_TIMEOUT.replace("{comment}", comment)})
    result = check(tmp_path)
    assert (result.findings == []) is suppressed
    assert result.suppressed == int(suppressed)


@pytest.mark.parametrize(
    ("name", "text"),
    [
        ("pyproject.toml", '[tool.mlops-scaffold]\nignore = ["MS204"]\n'),
        (
            "pyproject.toml",
            '[tool.mlops-scaffold.per-file-ignores]\n".github/workflows/*" = ["MS204"]\n',
        ),
        (".mlops-scaffold.yml", "ignore: [MS204]\n"),
        (".mlops-scaffold.yml", "exclude: ['.github/**']\n"),
    ],
)
def test_suppression_in_the_settings(tmp_path, name, text):
    write(
        tmp_path, {GITHUB_FILE: NO_TIMEOUT.replace("{comment}", ""), name: text}
    )
    assert check(tmp_path).findings == []


@pytest.mark.parametrize(
    "text", ["ignore: MS204\n", "severity: fatal\n", "- a\n", "exclude: [1]\n"]
)
def test_malformed_settings_are_bad_input(tmp_path, text):
    write(tmp_path, {GITHUB_FILE: CLEAN_GITHUB, ".mlops-scaffold.yml": text})
    result = invoke("check", tmp_path)
    assert result.exit_code == 2 and ".mlops-scaffold.yml" in result.stderr


def test_the_severity_threshold_sets_the_exit_code(tmp_path):
    write(tmp_path, {GITHUB_FILE: NO_TIMEOUT.replace("{comment}", "")})
    assert invoke("check", tmp_path).exit_code == 1  # a warning
    assert invoke("check", tmp_path, "--severity", "error").exit_code == 0
    assert invoke("check", tmp_path, "--severity", "warning").exit_code == 1
    write(tmp_path, {".mlops-scaffold.yml": "severity: error\n"})
    assert invoke("check", tmp_path).exit_code == 0


def test_file_arguments_check_only_those_files(tmp_path, monkeypatch):
    root = clean(tmp_path)
    (root / GITHUB_FILE).write_text(NO_TIMEOUT.replace("{comment}", ""))
    (root / "README.md").write_text("# not YAML\n")
    monkeypatch.chdir(root)
    assert invoke("check", AZURE_FILE, "README.md").exit_code == 0
    result = invoke("check", GITHUB_FILE, AZURE_FILE)
    assert result.exit_code == 1 and "MS204" in result.stdout
    assert invoke("check", "missing.yml").exit_code == 2


# ------------------------------------------------------------- formats
def test_sarif_has_rules_with_help_and_locations(tmp_path):
    write(
        tmp_path,
        {
            GITHUB_FILE: NO_TIMEOUT.replace("{comment}", "").replace(
                f"@{SHA} # v7.0.1", "@v7"
            )
        },
    )
    result = invoke("check", tmp_path, "--format", "sarif")
    sarif = json.loads(result.stdout)
    assert sarif["version"] == "2.1.0"
    run = sarif["runs"][0]
    rules = {r["id"]: r for r in run["tool"]["driver"]["rules"]}
    assert {"MS202", "MS204"} <= set(rules)
    assert all(r["help"]["text"] for r in rules.values())
    for item in run["results"]:
        assert (
            run["tool"]["driver"]["rules"][item["ruleIndex"]]["id"]
            == item["ruleId"]
        )
        location = item["locations"][0]["physicalLocation"]
        assert location["artifactLocation"]["uri"] == GITHUB_FILE
        assert location["region"]["startLine"] >= 1
        assert item["level"] in ("error", "warning", "note")


def test_every_rule_has_words_and_a_severity():
    for rule in all_rules().values():
        assert rule.title and rule.why and rule.fix
        assert rule.severity in ("error", "warning", "note")


def test_github_annotations_carry_the_severity(tmp_path):
    write(tmp_path, {GITHUB_FILE: NO_TIMEOUT.replace("{comment}", "")})
    output = invoke("check", tmp_path, "--format", "github").stdout
    assert output.startswith(f"::warning file={GITHUB_FILE},line=")


# --------------------------------------------------------------- zizmor
def test_zizmor_findings_are_merged_with_our_ids_and_suppressions(tmp_path):
    text = CLEAN_GITHUB.replace(
        f"actions/checkout@{SHA} # v7.0.1",
        "actions/checkout@v7  # mlops-scaffold: ignore[MS202]",
    )
    write(tmp_path, {GITHUB_FILE: text})
    assert check(tmp_path).findings == []
    write(
        tmp_path,
        {GITHUB_FILE: text.replace("  # mlops-scaffold: ignore[MS202]", "")},
    )
    [finding] = check(tmp_path).findings
    assert (
        finding.rule == "MS202"
        and finding.line
        == text.splitlines().index(
            next(
                line
                for line in text.splitlines()
                if "actions/checkout@v7" in line
            )
        )
        + 1
    )


def test_without_zizmor_the_github_audits_are_reported_missing(
    tmp_path, monkeypatch
):
    monkeypatch.setenv("MLOPS_SCAFFOLD_ZIZMOR", "")
    write(tmp_path, {GITHUB_FILE: CLEAN_GITHUB})
    result = invoke("check", tmp_path)
    assert result.exit_code == 1 and "MS001" in result.stdout
    assert "zizmor is not installed" in result.stdout
    monkeypatch.setenv("MLOPS_SCAFFOLD_ZIZMOR", "/bin/false")
    assert "MS001" in invoke("check", tmp_path).stdout


# --------------------------------------------------------------- review
def edges(chart: str) -> set[tuple[str, str]]:
    """The chart's edges by node label (an approval node is "approval")."""
    import re

    labels = {
        node: label.split("<br/>")[0]
        for node, label in re.findall(
            r'^\s*(\w+)(?:\[|\{\{)"([^"]*)"', chart, re.M
        )
    }
    return {
        (labels.get(a, a), labels.get(b, b))
        for a, b in re.findall(
            r"^\s*(\w+)(?:\{\{[^}]*\}\})? --> (\w+)$", chart, re.M
        )
    }


def test_review_graph_follows_azure_stages():
    chart = mermaid(PipelineFile.parse(CLEAN_AZURE, AZURE_FILE, "azure"))
    assert "subgraph" in chart
    found = edges(chart)
    assert ("smoke_test_staging", "approval") in found or (
        "deploy_staging",
        "approval",
    ) in found
    assert ("approval", "deploy_production") in found
    assert ("build", "deploy_staging") in found


def test_names_that_differ_in_punctuation_are_two_nodes():
    workflow = (
        "on: push\npermissions: {}\njobs:\n"
        "  deploy-prod:\n    runs-on: x\n    steps: [{run: echo}]\n"
        "  deploy_prod:\n    runs-on: x\n    environment: production\n"
        "    steps: [{run: echo}]\n"
    )
    chart = mermaid(PipelineFile.parse(workflow, GITHUB_FILE, "github"))
    assert chart.count('["deploy') == 2
    found = edges(chart)
    assert ("approval", "deploy_prod") in found
    assert ("approval", "deploy-prod") not in found


def test_review_reports_renames_and_new_findings_without_reprs(tmp_path):
    root = clean(tmp_path)
    git(root, "init", "--quiet", "--initial-branch=main")
    git(root, "add", "--all")
    git(root, "commit", "--quiet", "-m", "base")
    git(root, "mv", GITHUB_FILE, ".github/workflows/deploy.yml")
    path = root / ".github/workflows/deploy.yml"
    path.write_text(
        path.read_text().replace(
            "    needs: deploy-staging\n",
            "    needs: [build, deploy-staging]\n",
        )
    )
    (root / "docs.yml").write_text("title: not a pipeline\n")
    result = invoke("review", root, "--base", "main")
    assert result.exit_code == 0, result.stderr
    markdown = result.stdout
    assert "(renamed from .github/workflows/cd.yml)" in markdown
    assert "['" not in markdown and "docs.yml" not in markdown
    assert "### New findings" in markdown
    report = json.loads(
        invoke("review", root, "--base", "main", "--format", "json").stdout
    )
    assert report["new_findings"] == []
    path.write_text(
        path.read_text().replace("    timeout-minutes: 10\n", "", 1)
    )
    report = json.loads(
        invoke("review", root, "--base", "main", "--format", "json").stdout
    )
    assert [f["rule"] for f in report["new_findings"]] == ["MS204"]


def test_review_draws_no_empty_charts(tmp_path):
    write(tmp_path, {AZURE_FILE: "variables:\n  a: 1\n"})
    git(tmp_path, "init", "--quiet", "--initial-branch=main")
    git(tmp_path, "add", "--all")
    git(tmp_path, "commit", "--quiet", "-m", "base")
    write(
        tmp_path,
        {
            "eng/vars.yml": "variables:\n  b: 2\n",
            "azure-pipelines.yml": CLEAN_AZURE,
        },
    )
    markdown = invoke("review", tmp_path, "--base", "main").stdout
    assert "```mermaid\n```" not in markdown
    assert markdown.count("```mermaid") == 1  # the new pipeline, after


# ------------------------------------------------------- CI integration
def test_the_action_installs_from_its_own_checkout():
    action = load_yaml(REPO / "action.yml")
    assert action["runs"]["using"] == "composite"
    pins = (
        json.loads(Path("/work/shared/actions/pins.json").read_text())
        if Path("/work/shared/actions/pins.json").is_file()
        else {}
    )
    scripts = []
    for step in action["runs"]["steps"]:
        if "uses" in step:
            name, _, sha = step["uses"].partition("@")
            assert len(sha) == 40
            if pins:
                assert pins[name]["sha"] == sha
        else:
            scripts.append(step["run"])
            assert "${{" not in step["run"]  # inputs come through env
    install = next(s for s in scripts if "pip install" in s)
    assert '"$ACTION_PATH"' in install and "mlops-scaffold==" not in install
    assert any(
        step.get("env", {}).get("ACTION_PATH") == "${{ github.action_path }}"
        for step in action["runs"]["steps"]
    )
    assert rules_of(REPO, files=[REPO / "action.yml"]) == []


def test_the_pre_commit_hook_is_declared():
    [hook] = load_yaml(REPO / ".pre-commit-hooks.yaml")
    assert hook["id"] == "mlops-scaffold-check"
    assert (
        hook["entry"] == "mlops-scaffold check" and hook["language"] == "python"
    )


def test_a_rule_is_one_module_and_one_line_of_the_explicit_list():
    """Every msNNN module holds one rule class whose id is its own, and
    that class is in registry.RULES; nothing registers by import."""
    import importlib
    import inspect
    import pkgutil

    from mlops_scaffold.pipelines import rules
    from mlops_scaffold.pipelines.rules.registry import RULES

    listed = {kind.__module__.rpartition(".")[2]: kind for kind in RULES}
    for module in pkgutil.iter_modules(rules.__path__):
        if not module.name.startswith("ms"):
            continue
        loaded = importlib.import_module(f"{rules.__name__}.{module.name}")
        classes = [
            c for _, c in inspect.getmembers(loaded, inspect.isclass)
            if issubclass(c, rules.Rule) and c is not rules.Rule
            and c.__module__ == loaded.__name__
        ]  # fmt: skip
        assert len(classes) == 1, module.name
        assert listed.get(module.name) is classes[0], module.name
        assert module.name.startswith(classes[0].meta.id.lower() + "_")


def test_a_rule_that_cannot_run_is_a_note_not_a_finding(tmp_path, monkeypatch):
    from mlops_scaffold.pipelines.rules import RuleMeta, RuleSkipped, registry

    class Unavailable(registry.Rule):
        meta = RuleMeta("MS999", "test-only", "error", "why", "fix")

        def __init__(self, context):
            raise RuleSkipped("no such tool here")

    monkeypatch.setattr(registry, "RULES", (*registry.RULES, Unavailable))
    write(tmp_path, {GITHUB_FILE: CLEAN_GITHUB})
    result = check(tmp_path, use_auditor=False)
    assert result.notes == ["MS999 did not run: no such tool here"]
    assert not [f for f in result.findings if f.rule == "MS999"]


@pytest.mark.parametrize("reference", ["../../../etc/x.yml", "/../x.yml"])
def test_template_references_outside_the_repository_are_not_followed(
    tmp_path, reference
):
    from mlops_scaffold.pipelines.discovery import resolve_template

    assert resolve_template("a/b.yml", reference) is None
    outside = tmp_path / "outside.yml"
    outside.write_text("steps:\n  - script: x\n")
    root = tmp_path / "repo"
    write(
        root,
        {
            "azure-pipelines.yml": "trigger: none\nsteps:\n  - template: ../outside.yml\n"
        },
    )
    assert check(root).checked == ["azure-pipelines.yml"]


def test_a_reusable_workflow_deploying_to_production_needs_staging(tmp_path):
    calls = """\
name: CD
on:
  push:
    branches: [main]
permissions: {}
jobs:
  staging:
    uses: ./.github/workflows/deploy.yml
    with:
      environment: staging
  production:
    needs: NEEDS
    uses: ./.github/workflows/deploy.yml
    with:
      environment: production
"""
    write(tmp_path, {GITHUB_FILE: calls.replace("    needs: NEEDS\n", "")})
    assert [r for r, _ in rules_of(tmp_path, use_auditor=False)] == ["MS206"]
    write(tmp_path, {GITHUB_FILE: calls.replace("NEEDS", "staging")})
    # The gate and the smoke test live in the called workflow.
    assert rules_of(tmp_path, use_auditor=False) == []


def test_a_link_out_of_the_repository_is_never_read(tmp_path):
    secret = tmp_path / "secret.yml"
    secret.write_text("on: push\njobs: TOPSECRETVALUE\n")
    root = tmp_path / "repo"
    (root / ".github/workflows").mkdir(parents=True)
    (root / ".github/workflows/ci.yml").symlink_to(secret)
    (root / "eng").mkdir()
    (root / "eng/pipeline.yml").symlink_to(secret)
    result = invoke("check", root, "--format", "json")
    assert result.exit_code == 1
    assert "TOPSECRETVALUE" not in result.stdout
    [finding] = json.loads(result.stdout)
    assert (
        finding["rule"] == "MS100"
        and "outside the repository" in finding["message"]
    )


# ------------------------------------------------- MS210 (the run planner)
SKIPPED_CHAIN = """\
name: cd
on:
  push:
    branches: [trunk]
permissions: {}
jobs:
  train:
    if: vars.TRAIN == 'true'
    runs-on: ubuntu-latest
    timeout-minutes: 5
    steps:
      - run: make train
  build:
    needs: train
    if: ${{ !cancelled() }}
    runs-on: ubuntu-latest
    timeout-minutes: 5
    steps:
      - run: make package
  deploy-staging:
    needs: build
    runs-on: ubuntu-latest
    environment: staging
    timeout-minutes: 5
    steps:
      - run: make deploy ENVIRONMENT=staging
"""


@pytest.mark.parametrize(
    ("condition", "found"),
    [
        (None, True),  # implicit success(): the skipped train skips it
        ("github.ref == 'refs/heads/trunk'", True),  # still success()
        ("${{ !cancelled() && needs.build.result == 'success' }}", False),
    ],
)
def test_ms210_names_the_skipped_need_of_a_deployment(
    tmp_path, condition, found
):
    text = SKIPPED_CHAIN
    if condition:
        text = text.replace(
            "    environment: staging\n",
            f"    environment: staging\n    if: {condition}\n",
        )
    write(tmp_path, {".github/workflows/cd.yml": text})
    # The default branch comes from the project's answers: trunk.
    (tmp_path / ".copier-answers.yml").write_text("default_branch: trunk\n")
    hits = [f for f in check(tmp_path).findings if f.rule == "MS210"]
    assert bool(hits) is found, hits
    if found:
        assert "`train` is skipped" in hits[0].message
        assert hits[0].line == 20  # the deploy-staging job


def test_generated_projects_have_no_unreachable_deployment(tmp_path):
    from helpers import generate

    project = generate(tmp_path / "p", git=False, ci_provider="both")
    assert not [f for f in check(project).findings if f.rule == "MS210"]


def test_sarif_uris_are_percent_encoded_relative_uris(tmp_path):
    from urllib.parse import unquote, urlsplit

    name = ".github/workflows/a #1 %20 é.yml"
    write(
        tmp_path,
        {name: CLEAN_GITHUB.replace("    timeout-minutes: 10\n", "", 1)},
    )
    result = invoke("check", tmp_path, "--format", "sarif")
    uris = [
        r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
        for r in json.loads(result.stdout)["runs"][0]["results"]
    ]
    assert uris and all(unquote(u) == name for u in uris)
    for uri in uris:
        parts = urlsplit(uri)
        assert not parts.scheme and not parts.fragment and uri.isascii()
        assert " " not in uri and not uri.startswith("/")


def test_file_arguments_are_judged_against_the_git_top_level(
    tmp_path, monkeypatch
):
    root = clean(tmp_path / "one")
    (root / GITHUB_FILE).write_text(NO_TIMEOUT.replace("{comment}", ""))
    git(root, "init", "--quiet")
    (root / "src").mkdir()
    monkeypatch.chdir(root / "src")
    result = invoke("check", f"../{GITHUB_FILE}")
    assert result.exit_code == 1 and "MS204" in result.stdout, result.stderr
    assert f"{GITHUB_FILE}:" in result.stdout  # named from the top level
    other = clean(tmp_path / "two")
    git(other, "init", "--quiet")
    result = invoke("check", f"../{GITHUB_FILE}", other / GITHUB_FILE)
    assert result.exit_code == 2
    assert "different repositories" in result.stderr
    assert f"'{root}'" in result.stderr and f"'{other}'" in result.stderr
    result = invoke("check", other / GITHUB_FILE, "--root", root)
    assert result.exit_code == 2
    assert f"is outside the repository '{root}'" in result.stderr


@pytest.mark.parametrize(
    ("name", "text"),
    [
        (".mlops-scaffold.yml", 'exclude: ["**"]\n'),
        (".mlops-scaffold.yml", "ignore: [MS204]\n"),
        ("pyproject.toml", '[tool.mlops-scaffold]\nignore = ["MS204"]\n'),
    ],
)
def test_a_change_cannot_hide_its_own_findings(tmp_path, name, text):
    """New findings use the base's settings, and a change of the settings
    is a high risk of its own."""
    root = clean(tmp_path)
    git(root, "init", "--quiet", "--initial-branch=main")
    git(root, "add", "--all")
    git(root, "commit", "--quiet", "-m", "base")
    path = root / GITHUB_FILE
    path.write_text(
        path.read_text().replace("    timeout-minutes: 10\n", "", 1)
    )
    (root / name).write_text(text)
    report = json.loads(
        invoke("review", root, "--base", "main", "--format", "json").stdout
    )
    assert [f["rule"] for f in report["new_findings"]] == ["MS204"]
    settings = [f for f in report["files"] if f["file"] == name]
    assert [c["severity"] for c in settings[0]["changes"]] == ["high"]
    assert "ignores" in settings[0]["changes"][0]["message"]
    git(root, "add", "--all")
    git(root, "commit", "--quiet", "-m", "hide it")
    again = json.loads(
        invoke(
            "review", root, "--base", "HEAD~1", "--head", "HEAD", "--format",
            "json",
        ).stdout
    )  # fmt: skip
    assert [f["rule"] for f in again["new_findings"]] == ["MS204"]
    # An inline suppression added by the change is a risk of its own.
    (root / GITHUB_FILE).write_text(
        path.read_text().replace(
            "  build:\n", "  build: # mlops-scaffold: ignore[MS204]\n"
        )
    )
    inline = json.loads(
        invoke("review", root, "--base", "HEAD", "--format", "json").stdout
    )
    assert [
        c["severity"]
        for f in inline["files"]
        for c in f["changes"]
        if c["kind"] == "suppression" and "MS204" in c["message"]
    ] == ["high"]
    git(root, "checkout", "--quiet", "--", GITHUB_FILE)
    # Unchanged settings are no risk, and still apply.
    (root / GITHUB_FILE).write_text(path.read_text() + "\n")
    quiet = json.loads(
        invoke("review", root, "--base", "HEAD", "--format", "json").stdout
    )
    assert not [f for f in quiet["files"] if f["file"] == name]


PIPELINE_WITH = (
    "trigger: [main]\npool:\n  vmImage: ubuntu-latest\n"
    "steps:\n  - template: {}\n"
)
STEPS_WITH = "steps:\n  - script: echo hi\n  - template: {}\n"


@pytest.mark.parametrize(
    ("files", "message"),
    [
        ({"ci.yml": PIPELINE_WITH.format("nowhere.yml")}, "does not exist"),
        (
            {"ci.yml": PIPELINE_WITH.format("../../../etc/passwd")},
            "is outside the repository",
        ),
        (
            {
                "ci.yml": PIPELINE_WITH.format("a.yml"),
                "a.yml": STEPS_WITH.format("b.yml"),
                "b.yml": STEPS_WITH.format("a.yml"),
            },
            "a cycle of templates",
        ),
    ],
    ids=["missing", "outside", "cycle"],
)
def test_azure_template_references_must_resolve(tmp_path, files, message):
    write(tmp_path, {f"azure-pipelines/{n}": t for n, t in files.items()})
    found = [
        f for f in check(tmp_path, use_auditor=False).findings
        if f.rule == "MS102"
    ]  # fmt: skip
    assert found and all(message in f.message for f in found)
    assert found[0].line == 5 or found[0].file != "azure-pipelines/ci.yml"


def test_azure_template_references_that_resolve_are_fine(tmp_path):
    write(
        tmp_path,
        {
            "azure-pipelines/ci.yml": PIPELINE_WITH.format("a.yml"),
            "azure-pipelines/a.yml": STEPS_WITH.format("/shared/b.yml"),
            "shared/b.yml": "steps:\n  - script: echo b\n",
        },
    )
    rules = rules_of(tmp_path, use_auditor=False)
    assert "MS102" not in {rule for rule, _ in rules}


def test_exclude_takes_glob_patterns(tmp_path):
    write(tmp_path, {GITHUB_FILE: CLEAN_GITHUB,
                     ".mlops-scaffold.yml": "exclude: [{a: 1}]\n"})  # fmt: skip
    result = invoke("check", tmp_path)
    assert result.exit_code == 2
    assert "`exclude` must be a list of glob patterns" in result.stderr


# ------------------------------------------------------- expressions
@pytest.mark.parametrize(
    "provider, before, after, expected",
    [
        ("github", "      - run: make package\n",
         "      - run: make package\n        if: github.ref == 'x' &&\n",
         "does not parse"),
        ("github", "      - run: make package\n",
         "      - run: echo ${{ secret.TOKEN }}\n", "unknown context `secret`"),
        ("github", "      - run: make package\n",
         "      - run: make package\n        if: contain(github.ref, 'x')\n",
         "unknown function `contain()`"),
        ("github", "    needs: build\n", "    needs: biuld\n", "needs `biuld`"),
        ("github", "      - run: make package\n",
         "      - run: echo ${{ needs.deploy-staging.result }}\n",
         "does not need `deploy-staging`"),
        ("azure", "- script: make package",
         "- script: make package\n            condition: and(succeeded(), eq(variables.x, 'a')",
         "does not parse"),
        ("azure", "- script: make package",
         "- script: make package\n            condition: eqq(variables.x, 'a')",
         "unknown function `eqq()`"),
        ("azure", "    dependsOn: Build\n",
         "    dependsOn: Build\n    condition: eq(dependencies.Biuld.result, 'Succeeded')\n",
         "no stage `Biuld`"),
    ],
)  # fmt: skip
def test_expression_defects_are_found(
    tmp_path, provider, before, after, expected
):
    text = CLEAN_GITHUB if provider == "github" else CLEAN_AZURE
    assert before in text
    name = GITHUB_FILE if provider == "github" else AZURE_FILE
    write(tmp_path, {name: text.replace(before, after, 1)})
    messages = [
        f.message
        for f in check(tmp_path, use_auditor=False).findings
        if f.rule == "MS212"
    ]
    assert any(expected in m for m in messages), messages


@pytest.mark.parametrize(
    "step",
    [
        "- script: make\n            condition: ne(${{ parameters.x }}, '{}')",
        "- ${{ each p in parameters.list }}:\n            - script: echo ${{ p }}",
        "- ${{ if eq(parameters.a, 'b') }}:\n            - script: make",
        "- script: make\n            condition: eq(dependencies.build.result, 'Succeeded')",
    ],
)
def test_azure_template_values_inside_expressions_parse(tmp_path, step):
    write(
        tmp_path,
        {AZURE_FILE: CLEAN_AZURE.replace("- script: make package", step)},
    )
    assert "MS212" not in {
        f.rule for f in check(tmp_path, use_auditor=False).findings
    }


# ------------------------------------------------------- queue-time (Azure)
@pytest.mark.parametrize(
    "before, after, expected",
    [
        ('      - job: build\n        timeoutInMinutes: "10"\n',
         "      - job: build\n        timeoutInMinutes: ten\n", "`timeoutInMinutes: ten`"),
        ("          - script: make package\n",
         "          - script: make package\n            retryCountOnTaskFailure: 1.5\n",
         "`retryCountOnTaskFailure: 1.5`"),
        ("  - stage: DeployStaging\n", "  - stage: build\n", "stage `build` is defined twice"),
        ("      - job: build\n        timeoutInMinutes: \"10\"\n        steps:\n          - checkout: self\n",
         "      - job: build\n        timeoutInMinutes: \"10\"\n        steps:\n          - checkout: self\n"
         "      - job: Build\n        timeoutInMinutes: \"10\"\n        steps:\n          - checkout: self\n",
         "job `Build` is defined twice"),
    ],
)  # fmt: skip
def test_what_azure_refuses_at_queue_time(tmp_path, before, after, expected):
    assert before in CLEAN_AZURE
    write(tmp_path, {AZURE_FILE: CLEAN_AZURE.replace(before, after, 1)})
    messages = [
        f.message for f in check(tmp_path).findings if f.rule == "MS213"
    ]
    assert any(expected in m for m in messages), messages


@pytest.mark.parametrize(
    "step",
    [
        "- template: .\\\\steps.yml",
        "- template: steps.yml@self",
        "- ${{ if eq(parameters.env, '') }}:\n            - 'env is required': error",
        "- ${{ if eq(parameters.env, '') }}:\n            - ${{ 'env is required' }}: error",
    ],
    ids=["windows-separator", "at-self", "assertion", "assertion-literal"],
)
def test_azure_forms_the_service_takes(tmp_path, step):
    write(tmp_path, {
        AZURE_FILE: CLEAN_AZURE.replace("- script: make package", step),
        "azure-pipelines/steps.yml": "steps:\n  - script: make\n",
    })  # fmt: skip
    assert rules_of(tmp_path) == []


def test_a_missing_self_template_is_reported(tmp_path):
    write(
        tmp_path,
        {
            AZURE_FILE: CLEAN_AZURE.replace(
                "- script: make package", "- template: missing.yml@self"
            )
        },
    )
    assert rules_of(tmp_path) == [("MS102", AZURE_FILE)]


# ------------------------------------------------- production recognition
PLAIN_PRODUCTION_JOB = """\
      - job: {name}
        timeoutInMinutes: "10"
        steps:
          - script: {command}
"""
AZURE_PRODUCTION_DEPLOYMENT = """\
      - deployment: deploy_production
        timeoutInMinutes: "10"
        environment: production
        strategy:
          runOnce:
            deploy:
              steps:
                - script: make deploy ENVIRONMENT=production
"""


@pytest.mark.parametrize(
    "name, command",
    [
        ("deploy_production", "make deploy ENVIRONMENT=production"),
        ("release", "make deploy"),  # stage DeployProduction says the tier
        ("promote", "az ml online-deployment update -f deploy.yml"),
        ("swap_slots", "./scripts/go.sh"),  # the release path from staging
    ],
)
def test_azure_production_without_its_gate_is_recognised(
    tmp_path, name, command
):
    """The gate (a deployment job) is what is missing: production is
    recognised by names, targets and the path from staging."""
    assert AZURE_PRODUCTION_DEPLOYMENT in CLEAN_AZURE
    text = CLEAN_AZURE.replace(
        AZURE_PRODUCTION_DEPLOYMENT,
        PLAIN_PRODUCTION_JOB.format(name=name, command=command),
    )
    write(tmp_path, {AZURE_FILE: text})
    assert ("MS205", AZURE_FILE) in rules_of(tmp_path)


def test_github_production_without_its_environment_is_recognised(tmp_path):
    text = CLEAN_GITHUB.replace("    environment: production\n", "")
    text = text.replace("make deploy ENVIRONMENT=production", "./release.sh")
    write(tmp_path, {GITHUB_FILE: text})
    assert ("MS205", GITHUB_FILE) in rules_of(tmp_path)


# ------------------------------------------------- secrets by data flow
@pytest.mark.parametrize(
    "step, expected",
    [
        ("- script: az login --service-principal -u $(SP_ID) -p $(SP_PASS) --tenant t",
         "command line"),
        ("- script: terraform apply -var client_secret=$(SP) -auto-approve", "command line"),
        ('- script: echo "##vso[task.setvariable variable=ARM_CLIENT_SECRET]$servicePrincipalKey"',
         "without `issecret=true`"),
        ("- script: echo $(myApiToken)", "echoed"),
        ("- task: AzureCLI@2\n            inputs:\n              azureSubscription: x\n"
         "              scriptType: bash\n              scriptLocation: inlineScript\n"
         "              addSpnToEnvironment: true\n"
         "              inlineScript: export K=$servicePrincipalKey", "addSpnToEnvironment"),
    ],
)  # fmt: skip
def test_secret_data_flow_is_found_whatever_the_name(tmp_path, step, expected):
    write(
        tmp_path,
        {AZURE_FILE: CLEAN_AZURE.replace("- script: make package", step)},
    )
    messages = [
        f.message for f in check(tmp_path).findings if f.rule == "MS207"
    ]
    assert any(expected in m for m in messages), messages


@pytest.mark.parametrize(
    "step",
    [
        '- script: echo "##vso[task.setvariable variable=apiKey;issecret=true]$(x)"',
        "- script: echo $(Build.BuildId)",
        "- script: az login --identity",
    ],
)
def test_secret_data_flow_leaves_safe_uses(tmp_path, step):
    write(
        tmp_path,
        {AZURE_FILE: CLEAN_AZURE.replace("- script: make package", step)},
    )
    assert "MS207" not in {f.rule for f in check(tmp_path).findings}


@pytest.mark.parametrize(
    "trigger, value, severity",
    [
        ("schedule:\n    - cron: '0 0 * * *'", "github.workflow", "warning"),
        ("workflow_dispatch:", "github.ref", "warning"),
        ("pull_request_target:", "github.event.pull_request.title", "error"),
    ],
)
def test_template_injection_is_as_severe_as_what_outsiders_control(
    tmp_path, trigger, value, severity
):
    """zizmor's template-injection: an error when a trigger hands an
    outsider the value, else a warning (no outsider chooses it)."""
    write(tmp_path, {".github/workflows/a.yml": (
        f"on:\n  {trigger}\npermissions: {{}}\njobs:\n  a:\n"
        "    runs-on: ubuntu-latest\n    timeout-minutes: 5\n    steps:\n"
        f'      - run: echo "${{{{ {value} }}}}"\n'
    )})  # fmt: skip
    found = [f for f in check(tmp_path).findings if f.rule == "MS209"]
    assert [f.severity for f in found] == [severity]


@pytest.mark.parametrize(
    "line, expected",
    [
        (
            "- ${{ if eq(parameters.x, 'a' }}:\n  - script: echo\n",
            "does not parse",
        ),
        ("- script: echo ${{ parameters.x }\n", "is not closed"),
    ],
)
def test_expression_errors_in_templates_are_findings(tmp_path, line, expected):
    """A template's broken expression is reported on the template, as in
    a pipeline (it used to pass silently)."""
    write(tmp_path, {
        AZURE_FILE: CLEAN_AZURE.replace(
            "- script: make package", "- template: steps.yml"),
        "azure-pipelines/steps.yml":
            "parameters:\n- name: x\n  default: a\nsteps:\n" + line,
    })  # fmt: skip
    found = [
        f for f in check(tmp_path).findings
        if f.rule == "MS212" and f.file == "azure-pipelines/steps.yml"
    ]  # fmt: skip
    assert any(expected in f.message for f in found), found


@pytest.mark.parametrize(
    "name, text, key",
    [
        (GITHUB_FILE, CLEAN_GITHUB.replace(
            "  deploy-staging:\n", "  build:\n    runs-on: x\n  deploy-staging:\n", 1), "build"),
        (AZURE_FILE, CLEAN_AZURE.replace(
            '        timeoutInMinutes: "10"\n',
            '        timeoutInMinutes: "10"\n        timeoutInMinutes: "20"\n', 1),
         "timeoutInMinutes"),
    ],
)  # fmt: skip
def test_a_key_written_twice_is_refused_as_the_services_do(
    tmp_path, name, text, key
):
    write(tmp_path, {name: text})
    [finding] = [f for f in check(tmp_path).findings if f.rule == "MS100"]
    assert f"`{key}` is defined twice" in finding.message
