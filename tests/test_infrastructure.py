"""Bicep and Terraform declare the same Azure ML platform, parse with real
parsers, carry secure defaults, and name every resource within Azure's rules
for any project name the validators accept."""

from __future__ import annotations

import functools
import re
from pathlib import Path

import hcl2
import pytest
import yaml
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from pycep import BicepParser

from helpers import generate

#: Bicep resource type / Terraform resource type -> the kind both must declare.
BICEP_KINDS = {
    "Microsoft.OperationalInsights/workspaces": "log-analytics",
    "Microsoft.Insights/components": "application-insights",
    "Microsoft.Storage/storageAccounts": "storage-account",
    "Microsoft.KeyVault/vaults": "key-vault",
    "Microsoft.ContainerRegistry/registries": "container-registry",
    "Microsoft.MachineLearningServices/workspaces": "ml-workspace",
    "Microsoft.MachineLearningServices/workspaces/computes": "compute-cluster",
    "Microsoft.Authorization/roleAssignments": "role-assignment",
}
TERRAFORM_KINDS = {
    "azurerm_log_analytics_workspace": "log-analytics",
    "azurerm_application_insights": "application-insights",
    "azurerm_storage_account": "storage-account",
    "azurerm_key_vault": "key-vault",
    "azurerm_container_registry": "container-registry",
    # azapi: azurerm's workspace cannot set systemDatastoresAuthMode.
    "azapi_resource": "ml-workspace",
    "azurerm_machine_learning_compute_cluster": "compute-cluster",
    "azurerm_role_assignment": "role-assignment",
}
#: Azure's naming rules, per resource.
RULES = {
    "resource_group": r"[-\w.()]{0,89}[-\w()]",
    "workspace": r"[a-zA-Z0-9][a-zA-Z0-9_-]{2,32}",
    "storage_account": r"[a-z0-9]{3,24}",
    "key_vault": r"[a-zA-Z](?:[a-zA-Z0-9]|-(?=[a-zA-Z0-9])){2,23}",
    "container_registry": r"[a-zA-Z0-9]{5,50}",
    "log_analytics": r"[a-zA-Z0-9][a-zA-Z0-9-]{2,61}[a-zA-Z0-9]",
    "application_insights": r"[^%&\\?/]{1,260}",
    "compute_cluster": r"[a-zA-Z][a-zA-Z0-9-]{1,15}",
}
ENDPOINT_RULE = r"[a-zA-Z][a-zA-Z0-9-]{1,30}[a-zA-Z0-9]"
#: What infra/ appends to each prefix (a sample suffix of the same form).
SUFFIXED = {"storage_account": "a1b2c3", "key_vault": "-a1b2c3",
            "container_registry": "a1b2c3"}  # fmt: skip


@functools.cache
def hcl(text: str) -> dict:
    """Parse HCL; the parser checkov pins (a python-hcl2 fork) wraps each
    attribute's value in a one-item list, which is unwrapped here. (The
    parsers are slow, and several tests read the same files: each text is
    parsed once; callers only read the result.)"""
    return _unwrap(hcl2.loads(text))


def _unwrap(value):
    if isinstance(value, dict):
        return {key: _unwrap(item) for key, item in value.items()}
    if isinstance(value, list):
        if len(value) == 1 and not isinstance(value[0], (dict, list)):
            return value[0]
        return [_unwrap(item) for item in value]
    return value


def bicep(path: Path) -> dict:
    return _bicep(path, path.read_text())


@functools.cache
def _bicep(path: Path, text: str) -> dict:
    return BicepParser().parse(file_path=path)


def bicepparam(path: Path) -> dict[str, str]:
    """`param name = value` lines of a .bicepparam file (pycep's grammar
    predates the format's `using` statement)."""
    text = path.read_text()
    assert re.search(r"^using 'main\.bicep'$", text, re.M)
    return dict(re.findall(r"^param (\w+) = (.+)$", text, re.M))


@pytest.fixture(scope="module")
def infra(both_project: Path) -> Path:
    return both_project / "infra"


@pytest.mark.e2e
def test_terraform_parses_with_a_real_hcl_parser(infra: Path):
    files = sorted(p for p in (infra / "terraform").rglob("*") if p.is_file())
    assert {f.suffix for f in files} == {".tf", ".tfvars", ".hcl"}
    assert (infra / "terraform" / "identities" / "main.tf") in files
    for path in files:
        assert hcl(path.read_text()), path


@pytest.mark.e2e
def test_bicep_parses_with_pycep(infra: Path):
    files = sorted((infra / "bicep").rglob("*.bicep"))
    assert len(files) >= 7
    for path in files:
        parsed = bicep(path)
        assert parsed["parameters"] or parsed["resources"], path


#: The pipeline identities' own modules (identities.bicep and
#: terraform/identities/), which tests/test_identities.py checks.
IDENTITY_MODULES = {"identity", "role-assignment"}


def bicep_kinds(infra: Path) -> set[str]:
    kinds = set()
    for path in (infra / "bicep" / "modules").glob("*.bicep"):
        if path.stem in IDENTITY_MODULES:
            continue
        for resource in bicep(path)["resources"].values():
            if not resource["config"].get("existing"):
                kinds.add(BICEP_KINDS.get(resource["type"], resource["type"]))
    return kinds - {"Microsoft.Storage/storageAccounts/blobServices"}


def terraform_kinds(infra: Path) -> set[str]:
    main = hcl((infra / "terraform" / "main.tf").read_text())
    kinds = set()
    for block in main["resource"]:
        for resource_type in block:
            kinds.add(TERRAFORM_KINDS.get(resource_type, resource_type))
    return kinds


@pytest.mark.e2e
def test_both_languages_declare_the_same_resource_kinds(infra: Path):
    assert (
        bicep_kinds(infra)
        == terraform_kinds(infra)
        == set(BICEP_KINDS.values())
    )


def test_parameter_sets_exist_for_both_environments(infra: Path):
    main = bicep(infra / "bicep" / "main.bicep")["parameters"]
    required = {name for name, p in main.items() if "default" not in p}
    variables = {
        name: spec
        for block in hcl((infra / "terraform" / "variables.tf").read_text())[
            "variable"
        ]
        for name, spec in block.items()
    }
    tf_required = {n for n, spec in variables.items() if "default" not in spec}
    keys = set()
    for environment in ("staging", "production"):
        params = bicepparam(infra / "bicep" / f"{environment}.bicepparam")
        assert set(params) <= set(main), environment
        assert required <= set(params), environment
        tfvars = hcl(
            (infra / "terraform" / f"{environment}.tfvars").read_text()
        )
        assert set(tfvars) <= set(variables) and tf_required <= set(tfvars)
        assert tfvars["environment_name"] == environment
        backend = hcl(
            (infra / "terraform" / f"{environment}.backend.hcl").read_text()
        )
        keys.add(backend["key"])
        assert backend["use_azuread_auth"] is True
    assert len(keys) == 2, "one state key per environment"


@pytest.mark.e2e
def test_secure_defaults(infra: Path):
    main = hcl((infra / "terraform" / "main.tf").read_text())
    resources = {
        kind: body
        for block in main["resource"]
        for kind, named in block.items()
        for body in named.values()
    }
    storage = resources["azurerm_storage_account"]
    assert storage["https_traffic_only_enabled"] is True
    assert storage["min_tls_version"] == "TLS1_2"
    assert storage["allow_nested_items_to_be_public"] is False
    assert storage["shared_access_key_enabled"] is False
    vault = resources["azurerm_key_vault"]
    assert vault["rbac_authorization_enabled"] is True
    assert vault["purge_protection_enabled"] is True
    assert vault["soft_delete_retention_days"] >= 7
    assert resources["azurerm_container_registry"]["admin_enabled"] is False
    cluster = resources["azurerm_machine_learning_compute_cluster"]
    assert cluster["scale_settings"][0]["min_node_count"] == 0
    workspace = resources["azapi_resource"]
    assert workspace["identity"][0]["type"] == "SystemAssigned"
    # Shared keys are off, so the workspace's datastores must use identity.
    assert workspace["body"][0]["properties"]["systemDatastoresAuthMode"] == (
        "identity"
    )

    modules = {
        path.stem: bicep(path)["resources"]
        for path in (infra / "bicep" / "modules").glob("*.bicep")
    }
    account = modules["storage"]["storage"]["config"]["properties"]
    assert account["supportsHttpsTrafficOnly"] is True
    assert account["minimumTlsVersion"] == "TLS1_2"
    assert account["allowBlobPublicAccess"] is False
    assert account["allowSharedKeyAccess"] is False
    kv = modules["keyvault"]["keyVault"]["config"]["properties"]
    assert kv["enableRbacAuthorization"] is True
    assert kv["enablePurgeProtection"] is True
    assert (
        modules["registry"]["registry"]["config"]["properties"][
            "adminUserEnabled"
        ]
        is False
    )
    workspace = modules["workspace"]["workspace"]["config"]["properties"]
    assert workspace["systemDatastoresAuthMode"] == "identity"


def test_registry_policies_let_azure_ml_pull_its_images(infra: Path):
    """Content trust is retired (new registries cannot enable it), and
    quarantine keeps images unpullable until a scanner releases them, so
    Azure ML environments would never start: both stay off."""
    main = hcl((infra / "terraform" / "main.tf").read_text())
    registry = next(
        body
        for block in main["resource"]
        for kind, named in block.items()
        if kind == "azurerm_container_registry"
        for body in named.values()
    )
    assert registry.get("trust_policy_enabled", False) is False
    assert registry.get("quarantine_policy_enabled", False) is False
    resource = bicep(infra / "bicep" / "modules" / "registry.bicep")[
        "resources"
    ]["registry"]
    policies = resource["config"]["properties"]["policies"]
    assert "trustPolicy" not in policies
    assert policies.get("quarantinePolicy", {}).get("status") != "enabled"


def test_environment_resource_groups_come_from_the_identities_deployment(
    infra: Path,
):
    """The deployers hold their roles on their resource group, so it exists
    before they run: the environment templates only read it."""
    main = hcl((infra / "terraform" / "main.tf").read_text())
    assert not any("azurerm_resource_group" in b for b in main["resource"])
    assert any("azurerm_resource_group" in b for b in main["data"])
    identities = hcl(
        (infra / "terraform" / "identities" / "main.tf").read_text()
    )
    kinds = {kind for block in identities["resource"] for kind in block}
    assert "azurerm_resource_group" in kinds
    parsed = bicep(infra / "bicep" / "identities.bicep")
    assert "environmentGroups" in parsed["resources"]


@pytest.mark.e2e
def test_every_skipped_check_says_why(infra: Path):
    skips = [
        line
        for path in infra.rglob("*")
        if path.suffix in {".tf", ".bicep"}
        for line in path.read_text().splitlines()
        if "checkov:skip=" in line
    ]
    assert skips
    for line in skips:
        assert re.search(r"checkov:skip=CKV2?_AZURE_\d+: \w.{20,}", line), line


def names_in(project: Path) -> dict[str, dict[str, str]]:
    """Every Azure name per environment, read from the files that use them,
    after checking that they agree with each other."""
    infra = project / "infra"
    project_env = dict(
        line.split("=", 1)
        for line in (project / "deploy/project.env").read_text().splitlines()
        if "=" in line and not line.startswith("#")
    )
    names = {}
    for environment in (
        project_env["STAGING_ENVIRONMENT"],
        project_env["PRODUCTION_ENVIRONMENT"],
    ):
        tfvars = hcl(
            (infra / "terraform" / f"{environment}.tfvars").read_text()
        )
        params = bicepparam(infra / "bicep" / f"{environment}.bicepparam")
        settings = dict(
            line.split("=", 1)
            for line in (project / "deploy/environments" / f"{environment}.env")
            .read_text()
            .splitlines()
            if "=" in line and not line.startswith("#")
        )
        found = {key: tfvars[f"{key}_name"] for key in RULES}
        for key in RULES:
            if key != "resource_group":
                camel = re.sub(r"_(\w)", lambda m: m[1].upper(), key) + "Name"
                assert params[camel] == f"'{found[key]}'", (key, params[camel])
        assert settings["RESOURCE_GROUP"] == found["resource_group"]
        assert settings["WORKSPACE"] == found["workspace"]
        assert tfvars["endpoint_name"] == settings["ENDPOINT"]
        assert params["endpointName"] == f"'{settings['ENDPOINT']}'"
        # the globally / regionally unique names are prefixes: infra/
        # appends a 6-character suffix of the resource group's id
        for key, joined in SUFFIXED.items():
            found[key] = found[key] + joined
        found["endpoint"] = settings["ENDPOINT"] + "-a1b2c3"
        names[environment] = found
    return names


def assert_valid_names(project: Path) -> None:
    for environment, names in names_in(project).items():
        for key, rule in RULES.items():
            assert re.fullmatch(rule, names[key]), (
                environment,
                key,
                names[key],
            )
        assert re.fullmatch(ENDPOINT_RULE, names["endpoint"]), names["endpoint"]
    identities = yaml.safe_load((project / "infra/identities.yml").read_text())
    for identity in identities["identities"].values():
        assert re.fullmatch(
            r"[A-Za-z0-9][A-Za-z0-9_-]{2,127}", identity["name"]
        ), identity["name"]
    assert re.fullmatch(
        RULES["resource_group"], identities["identity_resource_group"]
    )
    # The Terraform state account: the prefix and the set-up's 6-character
    # suffix (scripts/setup_azure_federation.sh).
    state = identities.get("state")
    if state:
        assert re.fullmatch(
            RULES["storage_account"],
            state["storage_account_prefix"] + SUFFIXED["storage_account"],
        ), state
        assert re.fullmatch(RULES["resource_group"], state["resource_group"])


def test_unique_names_differ_between_subscriptions_and_resource_groups(
    infra: Path,
):
    """Two teams that both call their project fraud-model render the same
    prefixes; the suffix comes from the resource group's id (which holds the
    subscription), as Azure's quickstart templates use uniqueString."""
    import hashlib

    main = hcl((infra / "terraform" / "main.tf").read_text())
    local = {k: v for block in main["locals"] for k, v in block.items()}
    assert (
        "sha1(lower(data.azurerm_resource_group.this.id))"
        in (local["unique_suffix"])
    )
    for name in ("storage_name", "key_vault_name", "registry_name",
                 "endpoint_name"):  # fmt: skip
        assert "local.unique_suffix" in local[name], name
    bicep_text = (infra / "bicep" / "main.bicep").read_text()
    assert "uniqueString(resourceGroup().id)" in bicep_text

    def suffix(subscription: str) -> str:
        group = (
            f"/subscriptions/{subscription}/resourceGroups/"
            "rg-fraud-model-staging"
        )
        return hashlib.sha1(group.lower().encode()).hexdigest()[:6]

    assert suffix("0" * 8) != suffix("1" * 8)
    outputs = hcl((infra / "terraform" / "outputs.tf").read_text())["output"]
    published = {k for block in outputs for k in block}
    assert {"endpoint_name", "storage_account_name", "key_vault_name",
            "container_registry_name"} <= published  # fmt: skip


@pytest.mark.e2e  # a project rendered per name
@pytest.mark.parametrize(
    "project_name",
    [
        "A",
        "Model 123",
        "Über Größe Ünïcode Prédiction Modèle",
        "x" * 60,
        "Fraud-Detection v2: the 2026 rewrite (EU)",
        "a1 b2 c3 d4 e5 f6 g7 h8 i9 j10 k11 l12 m13",
    ],
)
def test_names_are_valid_for_awkward_project_names(
    tmp_path: Path, project_name
):
    project = generate(
        tmp_path / "p", git=False, project_name=project_name, iac="both"
    )
    assert_valid_names(project)


@settings(
    max_examples=15,
    deadline=None,
    # Each example renders a project (about a second): report the failing
    # example as found rather than spend minutes shrinking it.
    phases=[Phase.explicit, Phase.reuse, Phase.generate],
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(
    name=st.text(
        alphabet=st.characters(
            categories=("L", "N", "Zs", "P"), exclude_characters="\x85\xa0"
        ),
        min_size=1,
        max_size=60,
    ).filter(lambda s: s[0].isalpha() and s.strip() == s),
    staging=st.from_regex(r"[a-z][a-z0-9]{1,9}", fullmatch=True),
)
@pytest.mark.e2e
def test_names_are_valid_for_any_accepted_name(tmp_path_factory, name, staging):
    from mlops_scaffold.errors import InvalidAnswerError

    destination = tmp_path_factory.mktemp("prop") / "p"
    data = {"project_name": name, "iac": "both", "staging_environment": staging}
    try:
        project = generate(destination, git=False, **data)
    except InvalidAnswerError as error:
        # Refused with a message that names the answer to change (a name in
        # a script without ASCII letters needs a slug; "True" makes a
        # keyword package name), never a traceback.
        assert re.search(r"(project_slug|package_name)", str(error))
        assert error.hint
        return
    assert_valid_names(project)


# ----------------------------------------- the infra script and pipelines

FAKE_TOOL = """#!/usr/bin/env bash
# Logs its command line; `az group exists` answers $FAKE_GROUP_EXISTS.
echo "$(basename "$0") $*" >> "$FAKE_LOG"
if [[ "$1 $2" == "group exists" ]]; then echo "${FAKE_GROUP_EXISTS:-true}"; fi
if [[ "$1 $2" == "account show" ]]; then echo "$FAKE_SUBSCRIPTION"; fi
exit 0
"""


def run_infra(project: Path, tmp_path: Path, *args: str, **env: str):
    """scripts/infra.sh with logging stand-ins for az and terraform; with
    FAKE_TERRAFORM_VERSION, terraform is the strict backend stand-in
    (tests/fake_terraform.py)."""
    import subprocess
    import sys

    bin_dir = tmp_path / "bin"
    bin_dir.mkdir(exist_ok=True)
    for tool in ("az", "terraform"):
        (bin_dir / tool).write_text(FAKE_TOOL)
        (bin_dir / tool).chmod(0o755)
    if "FAKE_TERRAFORM_VERSION" in env:
        strict = Path(__file__).with_name("fake_terraform.py")
        (bin_dir / "terraform").write_text(
            f'#!/bin/sh\nexec "{sys.executable}" "{strict}" "$@"\n'
        )
    log = tmp_path / "calls.log"
    log.write_text("")
    environment = {
        "PATH": f"{bin_dir}:/usr/bin:/bin",
        "HOME": str(tmp_path),
        "FAKE_LOG": str(log),
        "FAKE_SUBSCRIPTION": "00000000-0000-0000-0000-0000000000aa",
        **env,
    }
    result = subprocess.run(
        ["bash", "scripts/infra.sh", *args],
        cwd=project,
        env=environment,
        capture_output=True,
        text=True,
        timeout=60,
    )
    return result, log.read_text().splitlines()


#: What scripts/setup_azure_federation.sh records once it has created the
#: Terraform state account (the name is unique to the subscription).
STATE_RECORD = 'storage_account_name = "sttffraudmodela1b2c3"\n'


@pytest.fixture
def set_up(both_project: Path, tmp_path: Path) -> Path:
    """A copy of the both-languages project after the one-time set-up,
    which recorded the state account in infra/terraform/state.backend.hcl."""
    import shutil

    project = tmp_path / "project"
    shutil.copytree(both_project, project, symlinks=True)
    (project / "infra/terraform/state.backend.hcl").write_text(STATE_RECORD)
    return project


@pytest.mark.parametrize(
    ("deployer", "expected", "absent"),
    [
        ({}, "az deployment group", "terraform"),
        (
            {"INFRA_DEPLOYER": "terraform"},
            "terraform -chdir=infra/terraform apply",
            "az deployment",
        ),
    ],
)
def test_with_both_languages_only_one_deploys(
    set_up: Path, tmp_path: Path, deployer, expected, absent
):
    """Bicep and Terraform applying the same resource group would each fail
    on what the other one owns: exactly one of them plans and applies."""
    for action in ("plan", "apply"):
        result, calls = run_infra(
            set_up, tmp_path, action, "staging", **deployer
        )
        assert result.returncode == 0, result.stderr
        assert not any(call.startswith(absent) for call in calls), calls
    assert any(call.startswith(expected) for call in calls), calls


def test_what_if_needs_no_write_permission(both_project: Path, tmp_path):
    result, calls = run_infra(both_project, tmp_path, "plan", "staging")
    assert result.returncode == 0, result.stderr
    what_if = [c for c in calls if "deployment group what-if" in c]
    assert what_if and "--validation-level ProviderNoRbac" in what_if[0]


def test_apply_refuses_a_missing_resource_group_with_the_fix(
    both_project: Path, tmp_path: Path
):
    """The deployers hold roles on their resource group only, so the group
    comes from the one-time set-up, never from the pipeline."""
    result, calls = run_infra(
        both_project, tmp_path, "apply", "staging", FAKE_GROUP_EXISTS="false"
    )
    assert result.returncode == 1
    assert "setup_azure_federation.sh" in result.stderr
    assert not any("group create" in c for c in calls)
    assert not any("deployment group create" in c for c in calls)


def test_terraform_gets_the_subscription_explicitly(both_project, tmp_path):
    """azurerm 4 no longer falls back to the CLI's default subscription."""

    script = (both_project / "scripts/infra.sh").read_text()
    assert "export ARM_SUBSCRIPTION_ID" in script
    versions = hcl((both_project / "infra/terraform/versions.tf").read_text())
    azurerm = versions["provider"][0]["azurerm"]
    assert azurerm["resource_provider_registrations"] == "none"


@pytest.mark.parametrize("login", ["servicePrincipal", "user"])
@pytest.mark.parametrize("action", ["plan", "apply"])
def test_terraform_reaches_its_state_as_the_pipelines_service_principal(
    set_up: Path, tmp_path: Path, login: str, action: str
):
    """Both CI systems log in as a managed identity (azure/login OIDC,
    AzureCLI@2): the pinned Terraform's backend must accept that CLI
    session (hashicorp/terraform#35915 on 1.9.8, fixed in 1.11)."""
    result, calls = run_infra(
        set_up, tmp_path, action, "staging",
        INFRA_DEPLOYER="terraform",
        FAKE_TERRAFORM_VERSION=_terraform_version(set_up),
        FAKE_AZ_USER_TYPE=login,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    init = next(call for call in calls if " init " in call)
    # The recorded account first, then the environment's own key.
    assert (
        "-backend-config=state.backend.hcl -backend-config=staging.backend.hcl"
        in init
    ), init


@pytest.mark.parametrize("action", ["plan", "apply"])
def test_terraform_without_the_recorded_state_account_names_the_set_up(
    both_project: Path, tmp_path: Path, action: str
):
    """The state account's name is unique to the subscription, so only the
    one-time set-up knows it: before it ran, infra.sh says so instead of
    initialising a backend with no account."""
    result, calls = run_infra(
        both_project, tmp_path, action, "staging",
        INFRA_DEPLOYER="terraform",
        FAKE_TERRAFORM_VERSION=_terraform_version(both_project),
    )  # fmt: skip
    assert result.returncode == 1
    assert "state.backend.hcl is missing" in result.stderr
    assert "setup_azure_federation.sh" in result.stderr
    assert not any(call.startswith("terraform") for call in calls), calls


def test_the_backend_stand_in_needs_the_account_name(
    set_up: Path, tmp_path: Path
):
    """The stand-in refuses an init without storage_account_name, as the
    azurerm backend does (a required argument): it can fail."""
    (set_up / "infra/terraform/state.backend.hcl").write_text("# empty\n")
    result, _ = run_infra(
        set_up, tmp_path, "plan", "staging",
        INFRA_DEPLOYER="terraform",
        FAKE_TERRAFORM_VERSION=_terraform_version(set_up),
    )  # fmt: skip
    assert result.returncode != 0
    assert '"storage_account_name" is required' in result.stderr


@pytest.mark.parametrize(
    ("version", "strip_use_cli", "refusal"),
    [
        ("1.9.8", True, "only supported as a User"),
        ("1.9.8", False, "Unsupported Terraform Core version"),
    ],
)
def test_the_backend_stand_in_refuses_what_terraform_before_1_11_refuses(
    both_project: Path, tmp_path: Path, version, strip_use_cli, refusal
):
    """The old pin (1.9.8, no use_cli) fails at the first infrastructure run,
    and the stand-in says so: it can fail."""
    import shutil

    project = tmp_path / "project"
    shutil.copytree(both_project, project, symlinks=True)
    tf = project / "infra/terraform"
    (tf / "state.backend.hcl").write_text(STATE_RECORD)
    versions = tf / "versions.tf"
    versions.write_text(
        versions.read_text().replace(
            ">= 1.11.0", ">= 1.9.0" if strip_use_cli else ">= 1.11.0"
        )
    )
    if strip_use_cli:
        for backend in tf.glob("*.backend.hcl"):
            backend.write_text(
                "".join(
                    line for line in backend.read_text().splitlines(True)
                    if not line.startswith("use_cli")
                )
            )  # fmt: skip
    result, _ = run_infra(
        project, tmp_path, "plan", "staging",
        INFRA_DEPLOYER="terraform", FAKE_TERRAFORM_VERSION=version,
        FAKE_AZ_USER_TYPE="servicePrincipal",
    )  # fmt: skip
    assert result.returncode != 0
    assert refusal in result.stderr


def test_every_backend_config_lets_the_cli_session_authenticate(infra: Path):
    """use_cli is explicit, so a Terraform older than 1.11 refuses the file
    outright instead of failing later on the service principal."""
    backends = sorted((infra / "terraform").rglob("*.backend.hcl"))
    assert len(backends) == 3
    for backend in backends:
        settings = hcl(backend.read_text())
        assert settings["use_cli"] is True, backend
        assert settings["use_azuread_auth"] is True, backend
        # The account's name is global: only the set-up, which knows the
        # subscription, chooses it (in state.backend.hcl, not rendered).
        assert "storage_account_name" not in settings, backend
    assert not (infra / "terraform" / "state.backend.hcl").exists()


def _terraform_version(project: Path) -> str:
    script = (project / "scripts/install_terraform.sh").read_text()
    return re.search(r'^version="([0-9.]+)"$', script, re.M)[1]


def test_every_infra_job_that_runs_terraform_installs_the_pinned_release(
    both_project: Path, tmp_path: Path
):
    """Ubuntu 24.04 hosted images (ubuntu-latest) no longer ship Terraform."""
    from helpers import load_yaml

    version = _terraform_version(both_project)
    major_minor = tuple(int(p) for p in version.split(".")[:2])
    required = hcl((both_project / "infra/terraform/versions.tf").read_text())
    assert ">= 1.11.0" in required["terraform"][0]["required_version"]
    assert major_minor >= (1, 11)
    workflow = load_yaml(both_project / ".github/workflows/infra.yml")
    # with both CI systems only the CD owner (GitHub, by default) deploys
    assert not (both_project / "azure-pipelines/infra.yml").exists()
    azure = generate(
        tmp_path / "fraud-model", git=False, ci_provider="azure", iac="both"
    )
    for name, job in workflow["jobs"].items():
        runs = " ".join(str(s.get("run", "")) for s in job["steps"])
        if "make infra-" not in runs:
            continue
        setups = [
            s
            for s in job["steps"]
            if str(s.get("uses", "")).startswith("hashicorp/setup-terraform@")
        ]
        assert setups, name
        assert str(setups[0]["with"]["terraform_version"]) == version, name
    pipeline = load_yaml(azure / "azure-pipelines/infra.yml")
    for stage in pipeline["stages"]:
        for job in stage["jobs"]:
            steps = (
                job.get("steps")
                or job["strategy"]["runOnce"]["deploy"]["steps"]
            )
            text = [
                str(s.get("script", "")) + str(s.get("inputs", {}))
                for s in steps
            ]
            uses = [i for i, t in enumerate(text) if "make infra-" in t]
            installs = [
                i for i, t in enumerate(text) if "install_terraform.sh" in t
            ]
            assert uses and installs and installs[0] < uses[0], stage["stage"]


@pytest.mark.e2e
def test_the_terraform_installer_refuses_a_release_not_signed_by_hashicorp(
    both_project: Path, tmp_path: Path, request
):
    """A SHA256SUMS file signed by any key but HashiCorp's is refused, so a
    tampered mirror cannot hand the pipeline another binary."""
    import os
    import subprocess
    import zipfile

    version = _terraform_version(both_project)
    served = tmp_path / "served"
    served.mkdir()
    gnupg = tmp_path / "gnupg"
    gnupg.mkdir(mode=0o700)
    # gpg starts an agent for this keyring: stop it when the test ends.
    request.addfinalizer(
        lambda: subprocess.run(
            ["gpgconf", "--homedir", str(gnupg), "--kill", "all"],
            capture_output=True,
            check=False,
        )
    )
    gpg = ["gpg", "--batch", "--homedir", str(gnupg), "--passphrase", ""]
    subprocess.run(
        [*gpg, "--quick-gen-key", "mallory@example.com", "rsa2048", "sign"],
        check=True,
        capture_output=True,
    )
    name = f"terraform_{version}_linux_amd64.zip"
    with zipfile.ZipFile(served / name, "w") as archive:
        archive.writestr("terraform", "#!/bin/sh\necho evil\n")
    digest = subprocess.run(
        ["sha256sum", name], cwd=served, capture_output=True, text=True
    ).stdout
    sums = served / f"terraform_{version}_SHA256SUMS"
    sums.write_text(digest)
    subprocess.run(
        [*gpg, "--detach-sign", "--output", f"{sums}.sig", str(sums)],
        check=True,
        capture_output=True,
    )
    subprocess.run(
        [*gpg, "--armor", "--export", "--output", str(served / "pgp-key.txt")],
        check=True,
        capture_output=True,
    )
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "curl").write_text(
        "#!/usr/bin/env bash\n"
        "# Serves every URL from $SERVED by its last path part.\n"
        'out=""; url=""\n'
        "while [[ $# -gt 0 ]]; do\n"
        '  case "$1" in -o) out="$2"; shift 2 ;; -*) shift ;;'
        ' *) url="$1"; shift ;; esac\n'
        "done\n"
        'cp "$SERVED/${url##*/}" "$out"\n'
    )
    (bin_dir / "curl").chmod(0o755)
    if not (bin_dir / "uname").exists():
        (bin_dir / "uname").write_text("#!/bin/sh\necho x86_64\n")
        (bin_dir / "uname").chmod(0o755)
    result = subprocess.run(
        ["bash", "scripts/install_terraform.sh", str(tmp_path / "out")],
        cwd=both_project,
        env={
            "PATH": f"{bin_dir}:{os.environ['PATH']}",
            "HOME": str(tmp_path),
            "SERVED": str(served),
        },
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 1, result.stdout + result.stderr
    assert "not signed by HashiCorp" in result.stderr
    assert not (tmp_path / "out" / "terraform").exists()

    # The same files pass once the pinned fingerprint is the signer's: the
    # check refuses for the signer, not for any other reason.
    fingerprint = re.search(
        r"^fpr:+([0-9A-F]{40}):",
        subprocess.run(
            [*gpg, "--with-colons", "--fingerprint", "mallory@example.com"],
            capture_output=True,
            text=True,
        ).stdout,
        re.M,
    )[1]
    script = (both_project / "scripts/install_terraform.sh").read_text()
    trusting = tmp_path / "install_terraform.sh"
    trusting.write_text(
        re.sub(
            r'^fingerprint=".*"$',
            f'fingerprint="{fingerprint}"',
            script,
            flags=re.M,
        )
    )
    result = subprocess.run(
        ["bash", str(trusting), str(tmp_path / "out")],
        env={
            "PATH": f"{bin_dir}:{os.environ['PATH']}",
            "HOME": str(tmp_path),
            "SERVED": str(served),
        },
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert (tmp_path / "out" / "terraform").exists(), result.stderr
