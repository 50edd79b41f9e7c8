"""Bicep and Terraform declare the same Azure ML platform, parse with real
parsers, carry secure defaults, and name every resource within Azure's rules
for any project name the validators accept."""

from __future__ import annotations

import re
from pathlib import Path

import hcl2
import pytest
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


def hcl(text: str) -> dict:
    """Parse HCL; the parser checkov pins (a python-hcl2 fork) wraps each
    attribute's value in a one-item list, which is unwrapped here."""
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


def test_terraform_parses_with_a_real_hcl_parser(infra: Path):
    files = sorted(p for p in (infra / "terraform").rglob("*") if p.is_file())
    assert {f.suffix for f in files} == {".tf", ".tfvars", ".hcl"}
    assert (infra / "terraform" / "identities" / "main.tf") in files
    for path in files:
        assert hcl(path.read_text()), path


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
        found["endpoint"] = settings["ENDPOINT"]
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
    found = names_in(project)
    unique = [
        found[e][k]
        for e in found
        for k in ("storage_account", "key_vault", "container_registry")
    ]
    assert len(set(unique)) == len(unique)


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
