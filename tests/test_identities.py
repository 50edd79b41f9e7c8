"""Identities and roles as data: infra/identities.yml says which identity
exists per environment, which federated subjects it trusts and which roles
it holds where. These tests check that Bicep and Terraform follow it, that
no pull-request identity can write anything, and that every Azure command
the generated pipelines run is allowed for the identity that runs it.

The role definitions and the command -> permission table below are the
providers' published facts, each with its source; the pipelines, scripts and
identities are read from the generated project."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml
from cli_rules import (
    _BLOBS,
    _ENV,
    _ML,
    _STATE,
    BUILT_IN_ROLES,
    BUILT_IN_ROLES_SOURCE,
    COMMANDS,
    Role,
    allows,
)
from pycep import BicepParser
from test_infrastructure import hcl

from helpers import load_yaml

pytestmark = pytest.mark.e2e  # every combination rendered and cross-checked

#: Actions that read or simulate and never change a resource.
#: https://learn.microsoft.com/azure/azure-resource-manager/templates/deploy-what-if
NON_WRITING_ACTIONS = {
    "microsoft.resources/deployments/whatif/action",
    "microsoft.resources/deployments/validate/action",
    "microsoft.storage/storageaccounts/blobservices/"
    "generateuserdelegationkey/action",
}

#: Where the training data lives when data.source is an Azure ML datastore
#: URI: a datastore of the staging workspace, where the Azure ML training
#: job runs (docs/decisions/0011-workspace-data-identities.md).
_TRAINING = "training data"

#: Make targets that reach Azure through Python rather than `az`, with the
#: logged-in identity (azureml-fsspec: the datastore's definition, then its
#: blobs): the monitor reads azureml:// batches of the environment it
#: watches; CD's build (`make package`: the gate trains and scores on
#: data.source) reads the training data, when it logs in to do so.
TARGET_PERMISSIONS: dict[str, tuple[tuple[str, str, bool], ...]] = {
    "monitor": (
        (_ENV, f"{_ML}/datastores/read", False),
        (_ENV, f"{_BLOBS}/read", True),
    ),
    "package": (
        (_TRAINING, f"{_ML}/datastores/read", False),
        (_TRAINING, f"{_BLOBS}/read", True),
    ),
}

#: Commands that talk to GitHub or Azure DevOps, not to Azure resources.
# Commands that need no Azure RBAC permission: Azure DevOps's own CLI, and
# `az login` and `az account` (a Microsoft Entra sign-in with the federated
# token, the CLI choosing its subscription; roles are
# checked on what the identity does next, not on signing in).
NOT_AZURE = (
    "az boards", "az pipelines", "az devops", "az repos", "az login",
    "az account",
)  # fmt: skip

COMBINATIONS = [
    ("github", "bicep"),
    ("github", "terraform"),
    ("azure", "bicep"),
    ("azure", "terraform"),
    ("both", "both"),
    ("both", "none"),
]


@pytest.fixture(scope="module", params=COMBINATIONS, ids=lambda c: "-".join(c))
def project(request, rendered) -> Path:
    ci, iac = request.param
    return rendered(ci_provider=ci, iac=iac)


def identities(project: Path) -> dict:
    return yaml.safe_load((project / "infra" / "identities.yml").read_text())


def environments(project: Path) -> tuple[str, str]:
    settings = dict(
        line.split("=", 1)
        for line in (project / "deploy/project.env").read_text().splitlines()
        if "=" in line and not line.startswith("#")
    )
    return settings["STAGING_ENVIRONMENT"], settings["PRODUCTION_ENVIRONMENT"]


def role(config: dict, name: str) -> Role:
    custom = config.get("custom_roles", {})
    if name in custom:
        return Role("custom", tuple(custom[name]["actions"]))
    return BUILT_IN_ROLES[name]


def writes(granted: Role) -> list[str]:
    """The permissions of a role that can change something."""
    found = [
        a
        for a in granted.actions
        if not a.lower().endswith("/read")
        and a.lower() not in NON_WRITING_ACTIONS
    ]
    found += [d for d in granted.data_actions if not d.endswith("/read")]
    return found


# ------------------------------------------------------------ (a) the data


def test_every_role_named_is_a_known_built_in_or_custom_role(project):
    config = identities(project)
    named = [a["role"] for a in config["role_assignments"]] + [
        r["role"]
        for roles in config["service_identities"].values()
        for r in roles
    ]
    for name in named:
        assert name in BUILT_IN_ROLES or name in config.get(
            "custom_roles", {}
        ), f"{name}: not a built-in role ({BUILT_IN_ROLES_SOURCE})"


def test_every_assignment_names_a_known_identity_scope_and_environment(
    project,
):
    config = identities(project)
    staging, production = environments(project)
    assert set(config["identities"]) == {
        "pull-request",
        staging,
        production,
        "monitoring",
    }
    assert set(config["resource_groups"]) == {staging, production}
    keys = set()
    for assignment in config["role_assignments"]:
        assert assignment["identity"] in config["identities"]
        assert assignment["scope"] in {"resource_group", "state_container"}
        if assignment["scope"] == "resource_group":
            assert assignment["environment"] in config["resource_groups"]
        else:
            assert "state" in config, "state roles need a state account"
        if "condition" in assignment:
            assert assignment["condition"] in config["conditions"]
        key = (
            assignment["identity"],
            assignment["role"],
            assignment["scope"],
            assignment.get("environment"),
        )
        assert key not in keys, f"assigned twice: {key}"
        keys.add(key)
    for roles in config["service_identities"].values():
        assert {r["scope"] for r in roles} <= {"storage", "registry"}


@pytest.mark.e2e
def test_bicep_role_ids_are_the_published_ones(project):
    bicep_dir = project / "infra" / "bicep"
    if not bicep_dir.exists():
        pytest.skip("no Bicep in this combination")
    for module in ("role-assignment", "roles"):
        text = (bicep_dir / "modules" / f"{module}.bicep").read_text()
        table = dict(
            re.findall(r"^\s+'?([A-Za-z ]+?)'?: '([0-9a-f-]{36})'$", text, re.M)
        )
        assert table, module
        for name, role_id in table.items():
            assert BUILT_IN_ROLES[name].id == role_id, (module, name)
    config = identities(project)
    used = {a["role"] for a in config["role_assignments"]} - set(
        config.get("custom_roles", {})
    )
    text = (bicep_dir / "modules" / "role-assignment.bicep").read_text()
    for name in used:
        assert re.search(rf"^\s+'?{name}'?: '", text, re.M), name


# ------------------------------------------------- (b) least privilege


def test_no_pull_request_identity_holds_a_write_role(project):
    config = identities(project)
    for assignment in config["role_assignments"]:
        if assignment["identity"] != "pull-request":
            continue
        granted = role(config, assignment["role"])
        assert not writes(granted), (assignment, writes(granted))


def test_pull_requests_reach_only_the_read_only_identity(project):
    """Every GitHub job that logs in declares an environment, and its token's
    subject is repo:<owner>/<repo>:environment:<name>: each identity trusts
    only its own environment. Pull requests run in `pull-request` (open to
    any branch); the deployers' environments accept only the default branch,
    so no pull request can present their subjects."""
    config = identities(project)
    for key, identity in config["identities"].items():
        assert identity["github"] == f"environment:{key}", key
    connections = [i["azure_devops"] for i in config["identities"].values()]
    assert len(set(connections)) == len(connections)


def test_staging_and_production_never_share_an_identity_or_a_scope(project):
    """Each deployer reaches its own environment only. The one identity
    with a role in both is monitoring, and it only reads: production's
    batches and registry, and staging's training data (CD's build)."""
    config = identities(project)
    staging, production = environments(project)
    names = [i["name"] for i in config["identities"].values()]
    assert len(set(names)) == len(names)
    for assignment in config["role_assignments"]:
        where = assignment.get("environment")
        if assignment["identity"] == staging:
            assert where in {staging, None}
        if assignment["identity"] == production:
            assert where in {production, None}
        if where == production:
            assert assignment["identity"] in {production, "monitoring"}
        if assignment["identity"] == "monitoring":
            granted = role(config, assignment["role"])
            assert not writes(granted), (assignment, writes(granted))


def test_the_build_reads_the_training_data_with_read_only_roles(project):
    """CD's build logs in as monitoring when data.source is a datastore of
    the staging workspace (where the Azure ML job reads it too): Reader
    resolves the datastore, Storage Blob Data Reader reads the blobs, and
    neither can change anything there."""
    config = identities(project)
    staging, _ = environments(project)
    on_staging = [
        role(config, a["role"])
        for a in config["role_assignments"]
        if a["identity"] == "monitoring" and a.get("environment") == staging
    ]
    for scope, permission, data in TARGET_PERMISSIONS["package"]:
        assert scope == _TRAINING
        assert any(allows(g, permission, data) for g in on_staging)
    assert on_staging and not [w for g in on_staging for w in writes(g)]


def test_role_administration_is_constrained_to_non_privileged_roles(
    project,
):
    config = identities(project)
    owner, access_admin = (
        "8e3af657-a8ff-443c-a75c-2fe8c4bcb635",
        "18d7d88d-d35e-4fb5-a5c3-7773c20a72d9",
    )
    for assignment in config["role_assignments"]:
        granted = role(config, assignment["role"])
        if allows(
            granted, "Microsoft.Authorization/roleAssignments/write", False
        ):
            condition = config["conditions"][assignment["condition"]]
            for guid in (
                owner,
                access_admin,
                BUILT_IN_ROLES["Role Based Access Control Administrator"].id,
            ):
                assert condition.count(guid) == 2, (assignment, guid)


# ------------------------------------ (c) Bicep and Terraform follow the file


@pytest.mark.e2e
def test_bicep_reads_identities_yml_and_grants_each_listed_role(project):
    bicep_dir = project / "infra" / "bicep"
    if not bicep_dir.exists():
        pytest.skip("no Bicep in this combination")
    parsed = BicepParser().parse(file_path=bicep_dir / "identities.bicep")
    load = parsed["variables"]["config"]["value"]["function"]
    assert load["type"] == "load_yaml_content"
    assert (bicep_dir / load["parameters"]["file_path"]).resolve() == (
        project / "infra" / "identities.yml"
    ).resolve()
    modules = parsed["modules"]
    identity_loop = modules["identities"]["config"]["loop_type"]
    assert identity_loop["detail"]["object_name"] == "config.identities" or (
        "identities" in str(identity_loop)
    )
    role_loop = modules["roleAssignments"]["config"]["loop_type"]
    assert role_loop["type"] == "array_index"
    assert "role_assignments" in role_loop["detail"]["array_name"]
    assert modules["roleAssignments"]["detail"]["path"] == (
        "modules/role-assignment.bicep"
    )
    # Every listed identity gets both kinds of subject it can trust.
    module = BicepParser().parse(
        file_path=bicep_dir / "modules" / "identity.bicep"
    )["resources"]
    issuers = {
        # pycep nests a conditional resource's body one level down.
        r["config"].get("config", r["config"])["properties"]["issuer"]
        for r in module.values()
        if r["type"].endswith("federatedIdentityCredentials")
    }
    assert "https://token.actions.githubusercontent.com" in issuers
    # A custom role's name is unique in the tenant: it carries the
    # subscription, so a second subscription's set-up does not collide.
    roles = parsed["resources"]["roleDefinitions"]["config"]
    role_name = roles.get("config", roles)["properties"]["roleName"]
    assert "subscription().subscriptionId" in str(role_name), role_name
    # Azure ML's own identities: main.bicep hands the listed roles over.
    main = (bicep_dir / "main.bicep").read_text()
    assert re.search(
        r"loadYamlContent\('\.\./identities\.yml'\)\.service_identities"
        r"\['training-cluster'\]",
        main,
    )


@pytest.mark.e2e
def test_terraform_reads_identities_yml_and_grants_each_listed_role(project):
    tf = project / "infra" / "terraform"
    if not tf.exists():
        pytest.skip("no Terraform in this combination")
    root = hcl((tf / "identities" / "main.tf").read_text())
    local = {k: v for block in root["locals"] for k, v in block.items()}
    assert local["config"] == (
        '${yamldecode(file("${path.module}/../../identities.yml"))}'
    )
    resources = {
        (kind, name): body
        for block in root["resource"]
        for kind, named in block.items()
        for name, body in named.items()
    }
    assignment = resources[("azurerm_role_assignment", "pipeline")]
    assert assignment["for_each"] == "${local.assignments}"
    assert "local.config.role_assignments" in local["assignments"]
    # The for_each key keeps every listed assignment apart.
    for part in ("identity", "role", "scope", "environment"):
        assert f"assignment.{part}" in local["assignments"], part
    identity = resources[("azurerm_user_assigned_identity", "pipeline")]
    assert identity["for_each"] == "${local.config.identities}"
    github = resources[("azurerm_federated_identity_credential", "github")]
    assert github["issuer"] == "https://token.actions.githubusercontent.com"
    assert "].github}" in str(local["github_subjects"])
    assert "var.github_subject_prefixes" in str(local["github_subjects"])
    assert "identity.azure_devops" in local["azure_devops_subjects"]
    assert "var.azure_devops_subjects" in local["azure_devops_subjects"]
    # A custom role's name is unique in the tenant (see the Bicep test).
    custom = resources[("azurerm_role_definition", "custom")]
    assert (
        "data.azurerm_subscription.current.subscription_id" in (custom["name"])
    ), custom["name"]
    devops = resources[("azurerm_federated_identity_credential",
                        "azure_devops")]  # fmt: skip
    assert devops["issuer"] == "${each.value.issuer}"
    assert devops["subject"] == "${each.value.subject}"
    main = hcl((tf / "main.tf").read_text())
    main_locals = {k: v for block in main["locals"] for k, v in block.items()}
    assert (
        'service_identities["training-cluster"]' in main_locals["cluster_roles"]
    )
    config = identities(project)
    scopes = {
        r["scope"] for r in config["service_identities"]["training-cluster"]
    }
    assert scopes <= set(main_locals["role_scopes"][0])


# ----------------------- (d) every pipeline command is allowed for its runner


@dataclass
class Job:
    pipeline: str
    name: str
    identity: str | None
    environment: str | None
    commands: list[str]


def _make_recipes(project: Path) -> dict[str, list[str]]:
    recipes: dict[str, list[str]] = {}
    current = None
    for line in (project / "Makefile").read_text().splitlines():
        match = re.match(r"^([a-z][a-z-]*):", line)
        if match:
            current = match[1]
            recipes[current] = []
        elif line.startswith("\t") and current:
            recipes[current].append(line.strip())
    return recipes


def _infra_section(text: str, action: str) -> str:
    """The parts of scripts/infra.sh that `infra.sh ACTION` runs."""
    functions = dict(re.findall(r"^(\w+)\(\) \{(.*?)^\}", text, re.M | re.S))
    if action == "validate":
        section = re.search(r"validate\)(.*?);;", text, re.S)[1]
    else:
        common = re.search(r"plan \| apply\)(.*?)case \"\$action/", text, re.S)
        arms = re.findall(rf"{action}/(?:bicep|terraform)\)(.*?);;", text, re.S)
        section = common[1] + "".join(arms)
    called = [
        body
        for name, body in functions.items()
        if re.search(rf"\b{name}\b", section)
    ]
    return section + "".join(called)


def _commands_in(text: str, python: bool = False) -> list[str]:
    """`az` / `terraform` commands in shell text (comments aside), or in a
    Python script's argument lists."""
    found = []
    if python:
        for words in re.findall(r'"az",((?:\s*"[a-z][a-z-]*",?){1,3})', text):
            found.append("az " + " ".join(re.findall(r'"([a-z-]+)"', words)))
        return found
    text = re.sub(r"^\s*#.*$", "", text, flags=re.M)
    for words in re.findall(r"(?<![\w/-])az((?: +[a-z][a-z-]*){1,3})", text):
        found.append("az" + words)
    for verb, offline in re.findall(
        r"(?<![\w/-])terraform(?: +-chdir=\S+)? +([a-z]+)( -backend=false)?",
        text,
    ):
        found.append(f"terraform {verb}{offline}")
    return found


def _called_functions(library: str, text: str) -> str:
    """The bodies of the shell functions in `library` that `text` calls,
    directly or through another of them."""
    functions = dict(re.findall(r"^(\w+)\(\) \{(.*?)^\}", library, re.M | re.S))
    called: dict[str, str] = {}
    while True:
        found = {
            name: body
            for name, body in functions.items()
            if name not in called
            and re.search(rf"\b{name}\b", text + "".join(called.values()))
        }
        if not found:
            return "".join(called.values())
        called.update(found)


def _target_commands(project: Path, target: str, seen=None) -> list[str]:
    seen = seen or set()
    if target in seen:
        return []
    seen.add(target)
    recipes = _make_recipes(project)
    commands = [f"make:{target}"]
    for line in recipes.get(target, []):
        for script in re.findall(r"scripts/([\w.]+\.(?:sh|py))", line):
            path = project / "scripts" / script
            text = path.read_text()
            found = []
            if script == "infra.sh":
                action = re.search(r"infra\.sh (\w+)", line)[1]
                # Only the languages infra/ holds can run (deployer()).
                found = [
                    c
                    for c in _commands_in(_infra_section(text, action))
                    if (project / "infra/terraform").exists()
                    or not c.startswith("terraform")
                ]
                if not (project / "infra/bicep").exists():
                    found = [
                        c
                        for c in found
                        if not c.startswith(("az bicep", "az deployment"))
                    ]
            else:
                if ". scripts/release_lib.sh" in text:
                    text += _called_functions(
                        (project / "scripts/release_lib.sh").read_text(), text
                    )
                found = _commands_in(text, python=script.endswith(".py"))
            commands += found
        commands += _commands_in(line)
    header = next(
        (
            line
            for line in (project / "Makefile").read_text().splitlines()
            if line.startswith(f"{target}:")
        ),
        "",
    )
    for prerequisite in re.findall(r"^[^:]+:([^#]*)", header)[0].split():
        if not prerequisite.startswith("$"):
            commands += _target_commands(project, prerequisite, seen)
    return commands


def _run_commands(project: Path, script: str) -> list[str]:
    commands = []
    for target in re.findall(r"\bmake ([a-z][a-z-]*)", script):
        commands += _target_commands(project, target)
    commands += _commands_in(script)
    return commands


def github_jobs(project: Path) -> list[Job]:
    config = identities(project)
    jobs = []
    for path in sorted((project / ".github" / "workflows").glob("*.yml")):
        workflow = load_yaml(path)
        for name, job in workflow["jobs"].items():
            steps = job.get("steps", [])
            logins = [
                s
                for s in steps
                if str(s.get("uses", "")).startswith("Azure/login")
            ]
            environment = job.get("environment")
            if isinstance(environment, dict):
                environment = environment.get("name")
            identity = None
            if logins:
                assert "vars.AZURE_CLIENT_ID" in logins[0]["with"]["client-id"]
                assert environment in config["identities"], (
                    f"{path.name}:{name} logs in with environment "
                    "variables but runs in no known environment"
                )
                identity = environment
            script = "\n".join(str(s.get("run", "")) for s in steps)
            jobs.append(
                Job(
                    path.name,
                    name,
                    identity,
                    environment,
                    _run_commands(project, script),
                )
            )
    return jobs


def azure_jobs(project: Path) -> list[Job]:
    config = identities(project)
    by_connection = {
        i["azure_devops"]: key for key, i in config["identities"].items()
    }
    jobs = []
    for path in sorted((project / "azure-pipelines").glob("*.yml")):
        pipeline = load_yaml(path)
        variables = pipeline.get("variables", {})
        if isinstance(variables, list):
            variables = {
                v["name"]: v.get("value") for v in variables if "name" in v
            }
        for stage in pipeline.get(
            "stages", [{"jobs": pipeline.get("jobs", [])}]
        ):
            for job in stage.get("jobs", []):
                environment = job.get("environment")
                steps = job.get("steps") or (
                    job.get("strategy", {})
                    .get("runOnce", {})
                    .get("deploy", {})
                    .get("steps", [])
                )
                for step in steps:
                    if not str(step.get("task", "")).startswith("AzureCLI@"):
                        continue
                    inputs = step["inputs"]
                    connection = inputs["azureSubscription"]
                    match = re.fullmatch(
                        r"\$\{\{ variables\.(\w+) \}\}", connection
                    )
                    if match:
                        connection = variables[match[1]]
                    assert connection in by_connection, (
                        f"{path.name}: unknown service connection {connection}"
                    )
                    jobs.append(
                        Job(
                            path.name,
                            job.get("job") or job.get("deployment"),
                            by_connection[connection],
                            environment,
                            _run_commands(project, inputs["inlineScript"]),
                        )
                    )
    return jobs


def pipeline_jobs(project: Path) -> list[Job]:
    jobs = []
    if (project / ".github" / "workflows").exists():
        jobs += github_jobs(project)
    if (project / "azure-pipelines").exists():
        jobs += azure_jobs(project)
    return jobs


def _target_environment(job: Job, project: Path) -> str:
    staging, production = environments(project)
    if job.identity == "pull-request":
        return staging
    if job.identity == "monitoring":
        return production
    return job.identity


def _permissions(command: str):
    if command.startswith("make:"):
        return TARGET_PERMISSIONS.get(command[5:], ())
    for known in sorted(COMMANDS, key=len, reverse=True):
        if command == known or command.startswith(known + " "):
            return COMMANDS[known]
    raise AssertionError(
        f"`{command}` is not in the command -> permission table of "
        "tests/test_identities.py: add it with its source"
    )


def test_every_azure_command_is_allowed_for_the_identity_that_runs_it(
    project,
):
    config = identities(project)
    checked = 0
    for job in pipeline_jobs(project):
        commands = [c for c in job.commands if not c.startswith(NOT_AZURE)]
        needs = [p for c in commands for p in _permissions(c)]
        if not needs:
            continue
        where = f"{job.pipeline}:{job.name}"
        assert job.identity, f"{where} runs {commands} without logging in"
        staging, _ = environments(project)
        held = [
            a
            for a in config["role_assignments"]
            if a["identity"] == job.identity
        ]
        for scope, permission, data in needs:
            target = (
                staging
                if scope == _TRAINING
                else _target_environment(job, project)
            )
            grants = [
                role(config, a["role"])
                for a in held
                if (scope == _STATE and a["scope"] == "state_container")
                or (
                    scope in (_ENV, _TRAINING)
                    and a["scope"] == "resource_group"
                    and a["environment"] == target
                )
            ]
            assert any(allows(g, permission, data) for g in grants), (
                f"{where} runs as {job.identity}, which may not "
                f"{permission} ({scope} of {target})"
            )
            checked += 1
    assert checked, "no Azure command found in any pipeline"


def test_deployer_identities_run_only_in_their_own_environment(project):
    """A deployer's credentials are reachable only where the environment's
    protection (reviewers, branch policy, approval) applies: GitHub only
    hands them to jobs in that environment; Azure DevOps service
    connections must be used from deployment jobs of that environment."""
    staging, production = environments(project)
    for job in pipeline_jobs(project):
        if job.identity in {staging, production}:
            assert job.environment == job.identity, (
                f"{job.pipeline}:{job.name} uses the {job.identity} "
                f"deployer outside the {job.identity} environment"
            )


def test_pull_request_jobs_log_in_only_as_the_reader(project):
    """A job that runs for pull requests logs in as the read-only identity
    (GitHub: no environment, so its token's subject is ...:pull_request;
    Azure Pipelines: the pull-request service connection)."""
    config = identities(project)
    connections = {
        i["azure_devops"]: key for key, i in config["identities"].items()
    }
    found = 0
    workflows = project / ".github" / "workflows"
    for path in sorted(workflows.glob("*.yml")) if workflows.exists() else []:
        for name, job in load_yaml(path)["jobs"].items():
            if "== 'pull_request'" not in str(job.get("if", "")):
                continue
            for step in job.get("steps", []):
                if str(step.get("uses", "")).startswith("Azure/login"):
                    assert job.get("environment") == "pull-request", name
                    found += 1
    pipelines = project / "azure-pipelines"
    for path in sorted(pipelines.glob("*.yml")) if pipelines.exists() else []:
        pipeline = load_yaml(path)
        variables = pipeline.get("variables", {})
        for stage in pipeline.get("stages", []):
            if "'PullRequest')" not in str(stage.get("condition", "")):
                continue
            if "eq(variables['Build.Reason'], 'PullRequest')" not in str(
                stage["condition"]
            ):
                continue
            for job in stage["jobs"]:
                for step in job.get("steps", []):
                    if str(step.get("task", "")).startswith("AzureCLI@"):
                        ref = step["inputs"]["azureSubscription"]
                        name = re.search(r"variables\.(\w+)", ref)[1]
                        assert connections[variables[name]] == (
                            "pull-request"
                        ), (path.name, stage["stage"])
                        found += 1
    if (project / "infra" / "bicep").exists() or (
        project / "infra" / "terraform"
    ).exists():
        assert found, "the infra plan on pull requests logs in somewhere"


# ------------------------------------------- the one-time set-up follows it

FAKE_CLI = r"""#!/usr/bin/env bash
# Logs its command line and answers the few queries the set-up script makes.
echo "$(basename "$0") $*" >> "$FAKE_LOG"
case "$(basename "$0") $1 $2" in
  "az account show")
    if [[ "$*" == *tenantId* ]]; then echo tenant-1; else echo sub-1; fi ;;
  "az identity show")
    all="$*"; rest="${all##*--name }"; echo "client-of-${rest%% *}" ;;
  "az ad signed-in-user") echo user-1 ;;
  "gh api "*) echo "repo:my-org@11/fraud-model@22" ;;
  "az devops service-endpoint")
    all="$*"
    if [[ "$3" == list ]]; then
      name="${all#*name==\'}"; echo "id-${name%%\'*}"
    else
      id="${all#*--id id-}"; id="${id%% *}"
      printf '{"name": "%s", "issuer": "%s", "subject": "%s"}\n' \
        "$id" "$FAKE_ISSUER" "/eid1/c/pub/t/dA/a/YQ/sc/o/$id"
    fi ;;
  "az storage account")
    if [[ "$3" == show && "$*" != *--query* ]]; then exit 3; fi
    if [[ "$3" == show ]]; then echo /subscriptions/sub-1/st; fi ;;
esac
exit 0
"""


def run_setup(project: Path, tmp_path: Path, *args: str):
    """The set-up script on a copy of ``project`` (it records the Terraform
    state account there), with logging stand-ins for az, terraform and gh.
    Returns the result, the calls, and the copy."""
    import shutil
    import subprocess

    copy = tmp_path / "project"
    if not copy.exists():
        shutil.copytree(project, copy, symlinks=True)
    project = copy
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir(exist_ok=True)
    for tool in ("az", "terraform", "gh"):
        (bin_dir / tool).write_text(FAKE_CLI)
        (bin_dir / tool).chmod(0o755)
    log = tmp_path / "calls.log"
    log.write_text("")
    result = subprocess.run(
        ["bash", "scripts/setup_azure_federation.sh", *args],
        cwd=project,
        env={
            "PATH": f"{bin_dir}:/usr/bin:/bin",
            "HOME": str(tmp_path),
            "FAKE_LOG": str(log),
            "FAKE_ISSUER": ISSUER,
        },
        capture_output=True,
        text=True,
        timeout=60,
    )
    return result, log.read_text().splitlines(), project


ISSUER = "https://vstoken.dev.azure.com/0f8fad5b-d9cb-469f-a165-70867728950e"


def test_setup_deploys_identities_yml_and_prints_each_identity(
    project, tmp_path
):
    args = []
    if (project / ".github").exists():
        args += ["github", "my-org/fraud-model"]
    if (project / "azure-pipelines").exists():
        args += ["azure-devops", "https://dev.azure.com/my-org", "ML"]
    result, calls, copy = run_setup(project, tmp_path, *args)
    if (
        not (project / "infra/bicep").exists()
        and not (project / "infra/terraform").exists()
    ):
        # Nothing to deploy the identities with: say so, and what to do.
        assert result.returncode == 1
        assert "infra/identities.yml" in result.stderr
        return
    assert result.returncode == 0, result.stderr
    config = identities(project)
    printed = dict(
        line.split("=", 1)
        for line in result.stdout.splitlines()
        if line.startswith("AZURE_")
    )
    for key, identity in config["identities"].items():
        variable = "AZURE_CLIENT_ID_" + key.upper().replace("-", "_")
        assert printed[variable] == f"client-of-{identity['name']}"
    assert printed["AZURE_TENANT_ID"] == "tenant-1"
    deploy = [
        i
        for i, c in enumerate(calls)
        if "deployment sub create" in c
        or c.startswith("terraform ")
        and " apply " in c
    ]
    registered = [i for i, c in enumerate(calls) if "provider register" in c]
    assert deploy and registered and max(registered) < deploy[0]
    if (project / "infra/terraform").exists():
        created = [
            i for i, c in enumerate(calls) if "storage account create" in c
        ]
        assert created and created[0] < deploy[0]
        assert "--allow-shared-key-access false" in calls[created[0]]
        # Named from the subscription (az account show: sub-1) and the
        # state's resource group, recorded for Terraform's backend, and
        # handed to the identities deployment (roles on its container).
        state = config["state"]
        group = f"/subscriptions/sub-1/resourceGroups/{state['resource_group']}"
        account = (
            state["storage_account_prefix"]
            + hashlib.sha1(group.lower().encode()).hexdigest()[:6]
        )
        assert f"--name {account} " in calls[created[0]]
        recorded = (copy / "infra/terraform/state.backend.hcl").read_text()
        assert f'storage_account_name = "{account}"' in recorded
        assert (
            f"stateStorageAccount={account}" in calls[deploy[0]]
            or f"state_storage_account={account}" in calls[deploy[0]]
        ), calls[deploy[0]]
    trusted = calls[deploy[0]]
    if "github" in args:
        # Both subject formats: by name, and with immutable IDs.
        assert "repo:my-org/fraud-model" in trusted
        assert "repo:my-org@11/fraud-model@22" in trusted
    if "azure-devops" in args:
        # Exactly what each connection shows, per connection.
        for identity in config["identities"].values():
            connection = identity["azure_devops"]
            shown = f"/eid1/c/pub/t/dA/a/YQ/sc/o/{connection}"
            assert (
                f'"{connection}":{{"issuer":"{ISSUER}","subject":'
                f'"{shown}"}}' in trusted
            ), connection


@pytest.mark.parametrize(
    "args",
    [
        [],
        ["github", "not a repo"],
        ["azure-devops", "not-a-url", "ML"],
        ["azure-devops", "https://dev.azure.com/o", "a;b"],
        ["azure-devops", "https://dev.azure.com/o"],
        ["identities", "github", "x/y"],
        ["gitlab", "x/y"],
    ],
)
def test_setup_refuses_bad_arguments_before_touching_azure(
    both_project, tmp_path, args
):
    result, calls, _ = run_setup(both_project, tmp_path, *args)
    assert result.returncode == 2
    assert "error:" in result.stderr
    assert calls == []


def test_docs_name_every_identity_connection_and_role(project):
    """docs/deployment.md walks a team through identities.yml: everything
    it must create or recognise is named there."""
    config = identities(project)
    docs = (project / "docs" / "deployment.md").read_text()
    for key, identity in config["identities"].items():
        assert identity["name"] in docs, key
        if (project / "azure-pipelines").exists():
            assert identity["azure_devops"] in docs, key
        if (project / ".github").exists():
            assert identity["github"].split(":")[-1] in docs, key
    for assignment in config["role_assignments"]:
        name = config.get("custom_roles", {}).get(assignment["role"], {})
        assert name.get("name", assignment["role"]) in docs, assignment


def test_identity_names_follow_azure_rules(project):
    """User-assigned identities: 3-128 letters, digits, hyphens and
    underscores, starting with a letter or digit (Microsoft.ManagedIdentity
    naming rules); resource groups: up to 90."""
    config = identities(project)
    for identity in config["identities"].values():
        assert re.fullmatch(
            r"[A-Za-z0-9][A-Za-z0-9_-]{2,127}", identity["name"]
        )
    assert len(config["identity_resource_group"]) <= 90


def test_setup_can_create_the_identities_before_any_trust(
    both_project, tmp_path
):
    """Azure DevOps service connections need the identities' client IDs,
    and print the issuer and subjects to trust: so a first run creates the
    identities and trusts nothing."""
    result, calls, _ = run_setup(both_project, tmp_path, "identities")
    assert result.returncode == 0, result.stderr
    deploy = next(c for c in calls if "deployment sub create" in c)
    assert "githubSubjectPrefixes=[]" in deploy
    assert "azureDevOpsSubjects={}" in deploy
    assert "AZURE_CLIENT_ID_PULL_REQUEST=" in result.stdout
