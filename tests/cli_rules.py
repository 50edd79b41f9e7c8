"""What the real `az`, `gh` and Azure DevOps REST API accept, for exactly
the calls the generated scripts make: the data the stand-ins (fake_az.py,
fake_gh.py) enforce. Read from the tools' published command definitions,
not from what the scripts happen to send:

- `az ml ...`: Azure/azure-cli-extensions,
  src/machinelearningservices/azext_mlv2/manual/_params/
  _common_params.py (884a215d), _online_endpoint_params.py (237035d2),
  _online_deployment_params.py (34fba348), _model_params.py (35556b34),
  _job_params.py (237035d2), _environment_params.py (884a215d); required
  arguments from the custom functions' signatures in custom/
  online_endpoint.py (0ea10d5b): resource_group_name and workspace_name are
  positional (required), filled from `az configure --defaults group=...
  workspace=...` only through the config of the same ~/.azure.
- `gh`: cli/cli at 44ee17760709bedf1cad7e452e61751489b81a33,
  pkg/cmd/{variable/set/set.go, issue/list/list.go, issue/create/create.go,
  issue/comment/comment.go, workflow/run/run.go, label/create.go, api/api.go}.
- `az` core (provider, group, deployment sub, storage, role assignment,
  identity, account): Azure/azure-cli command_modules/*/_params.py (see
  AZ_CORE for files and commits).
- Azure RBAC: the built-in roles' published definitions and the
  permission each command needs (BUILT_IN_ROLES, COMMANDS), shared with
  tests/test_identities.py.
- Azure DevOps REST: learn.microsoft.com/rest/api/azure/devops,
  "Environments - Add/List" (distributedtask/environments, 7.1) and
  "Check Configurations - Add/List" (pipelines/checks/configurations,
  7.1-preview.1); "Identities - Read Identities" (vssps, 7.1).
"""

from __future__ import annotations

import fnmatch
from collections import namedtuple

# Options every `az` command takes (azure-cli core).
AZ_GLOBAL = {"--query", "--output", "-o", "--only-show-errors", "--debug",
             "--verbose", "--subscription"}  # fmt: skip
AZ_FLAGS = {"--only-show-errors", "--debug", "--verbose", "--yes", "-y",
            "--no-wait", "--local", "--web", "--all-traffic", "--stream",
            "--skip-validation", "--all", "--wait",
            "--consent-to-permissions", "--accept-terms", "--what-if",
            "--proceed-if-no-change", "--confirm-with-what-if",
            "--fail-on-exist"}  # fmt: skip
# add_common_params: the workspace each `az ml` command needs.
WORKSPACE = {"--resource-group", "-g", "--workspace-name", "-w"}
OVERRIDE = {"--set"}

# command -> (accepted options, required options); the permissions each
# needs are in COMMANDS below.
AZ_ML: dict[tuple[str, ...], tuple[set[str], set[str]]] = {
    # _workspace_params.py: show takes --name and --resource-group.
    ("workspace", "show"): (
        {"--name", "-n", "--resource-group", "-g"}, {"--name"}),
    ("environment", "show"): (
        {"--name", "-n", "--version", "-v", "--label", "-l",
         "--registry-name"}, {"--name"}),
    ("environment", "create"): (
        {"--name", "-n", "--registry-name", "--file", "-f", *OVERRIDE,
         "--version", "-v", "--tags", "--description", "--datastore",
         "--image", "-i", "--conda-file", "-c", "--build-context", "-b",
         "--dockerfile-path", "-d", "--os-type", "--path", "-p"},
        set()),
    ("model", "show"): (
        {"--name", "-n", "--version", "-v", "--label", "-l",
         "--registry-name"}, {"--name"}),
    # A generic update command (azure-cli's generic_update_command): the
    # version to change, and --set/--add/--remove/--force-string.
    ("model", "update"): (
        {"--name", "-n", "--version", "-v", "--label", "-l",
         "--registry-name", *OVERRIDE, "--add", "--remove",
         "--force-string"}, {"--name"}),
    ("model", "create"): (
        {*OVERRIDE, "--tags", "--name", "-n", "--version", "-v",
         "--registry-name", "--file", "-f", "--datastore", "--stage", "-s",
         "--path", "-p", "--type", "-t", "--description",
         "--default-deployment-template", "-d"}, set()),
    ("online-endpoint", "show"): (
        {"--name", "-n", "--local", "--web", "-e"}, {"--name"}),
    ("online-endpoint", "create"): (
        {"--name", "-n", "--local", "--no-wait", "--file", "-f",
         "--auth-mode", *OVERRIDE, "--web", "-e"}, set()),
    ("online-endpoint", "update"): (
        {"--name", "-n", "--local", "--no-wait", "--traffic", "-r",
         "--file", "-f", "--mirror-traffic", "--web", "-e", *OVERRIDE,
         "--add", "--remove", "--force-string"}, {"--name"}),
    ("online-endpoint", "invoke"): (
        {"--name", "-n", "--local", *OVERRIDE, "--deployment-name", "-d",
         "--request-file", "-r"}, {"--name"}),
    ("online-deployment", "show"): (
        {"--name", "-n", "--endpoint-name", "-e", "--local", "--web"},
        {"--name", "--endpoint-name"}),
    ("online-deployment", "create"): (
        {"--name", "-n", "--endpoint-name", "-e", "--local", "--file", "-f",
         "--local-enable-gpu", "--all-traffic", "--vscode-debug", *OVERRIDE,
         "--web", "--skip-script-validation", "--package-model",
         "--no-wait"}, {"--file"}),
    ("online-deployment", "delete"): (
        {"--name", "-n", "--endpoint-name", "-e", "--local", "--yes", "-y",
         "--no-wait"}, {"--name", "--endpoint-name"}),
    ("job", "create"): (
        {"--name", "-n", *OVERRIDE, "--skip-validation", "--file", "-f",
         "--save-as", "-a", "--stream", "-s", "--web", "-e"},
        {"--file"}),
    ("job", "show"): ({"--name", "-n", "--web", "-e"}, {"--name"}),
    ("job", "stream"): ({"--name", "-n"}, {"--name"}),
    ("job", "download"): (
        {"--name", "-n", "--download-path", "-p", "--output-name", "--all"},
        {"--name"}),
}  # fmt: skip


# `az` core commands the one-time set-up runs: command -> (accepted
# options, required options). Azure/azure-cli,
# src/azure-cli/azure/cli/command_modules/: resource/_params.py (00f92e81:
# `provider register` --namespace/-n (positional, so required), --wait,
# --management-group-id/-m, --consent-to-permissions/-c, --accept-terms;
# `group create` --name/-n/--resource-group/-g and --location/-l
# (positional: required), --managed-by, --tags; `deployment sub create`
# --location/-l required, --name/-n, --template-file/-f, --template-uri/-u,
# --template-spec/-s, --query-string/-q, --parameters/-p (append, nargs=+),
# --no-prompt, the what-if options, --no-wait); storage/_params.py
# (86294885: `storage account create|show` --name/-n and
# --resource-group/-g (create: required), register_common_storage_account_
# options; `storage container-rm create` --storage-account, --name/-n,
# --resource-group/-g); role/_params.py (e2fb2819: `role assignment create`
# --assignee, --assignee-object-id, --assignee-principal-type, --role,
# --scope, --description, --condition, --condition-version; --role and
# --scope required since azure-cli 2.38); identity/_params.py (98a7820c:
# `identity show` --name/-n, --resource-group/-g, --ids); `ad signed-in-user
# show` and `account show` take only --subscription (account: -s as well).
_NAME_GROUP = {"--name", "-n", "--resource-group", "-g"}
_WHAT_IF = {"--confirm-with-what-if", "-c", "--what-if-result-format", "-r",
            "--what-if-exclude-change-types", "-x", "--what-if", "-w",
            "--proceed-if-no-change"}  # fmt: skip
AZ_CORE: dict[tuple[str, ...], tuple[set[str], set[str]]] = {
    ("provider", "register"): (
        {"--namespace", "-n", "--wait", "--management-group-id", "-m",
         "--consent-to-permissions", "--accept-terms"}, {"--namespace"}),
    ("group", "create"): (
        {*_NAME_GROUP, "--location", "-l", "--managed-by", "--tags"},
        {"--name", "--location"}),
      ("deployment", "sub", "create"): (
        {"--location", "-l", "--name", "-n", "--template-file", "-f",
         "--template-uri", "-u", "--template-spec", "-s", "--query-string",
         "-q", "--parameters", "-p", "--no-prompt", "--no-wait",
         "--handle-extended-json-format", "-j", *_WHAT_IF},
        {"--location"}),
    ("storage", "account", "show"): (_NAME_GROUP, {"--name"}),
    ("storage", "account", "create"): (
        {*_NAME_GROUP, "--location", "-l", "--sku", "--kind", "--tags",
         "--https-only", "--min-tls-version", "--allow-blob-public-access",
         "--allow-shared-key-access", "--access-tier", "--hns",
         "--enable-hierarchical-namespace", "--public-network-access",
         "--default-action", "--bypass", "--encryption-services",
         "--assign-identity", "--custom-domain"},
        {"--name", "--resource-group"}),
    ("storage", "container-rm", "create"): (
        {"--storage-account", *_NAME_GROUP, "--public-access", "--metadata",
         "--fail-on-exist", "--default-encryption-scope", "-d",
         "--deny-encryption-scope-override"},
        {"--storage-account", "--name"}),
    ("role", "assignment", "create"): (
        {"--assignee", "--assignee-object-id", "--assignee-principal-type",
         "--role", "--scope", "--description", "--condition",
         "--condition-version", "--name", "-n"}, {"--role", "--scope"}),
    ("identity", "show"): (
        _NAME_GROUP | {"--ids"}, {"--name", "--resource-group"}),
    ("ad", "signed-in-user", "show"): (set(), set()),
    ("account", "show"): ({"--subscription", "-s"}, set()),
}  # fmt: skip
# Options with many values (argparse nargs="+").
AZ_MULTI = {"--set", "--tags", "--parameters", "-p", "--metadata"}

# The Azure DevOps REST endpoints the set-up script calls:
# (host, path after the organisation / project) -> methods, api-versions.
AZURE_DEVOPS_APP = "499b84ac-1321-427f-aa17-267ca6975798"
DEVOPS_REST = {
    ("dev.azure.com", "_apis/distributedtask/environments"): (
        {"GET", "POST"}, {"7.1", "7.2-preview.1"}),
    ("dev.azure.com", "_apis/pipelines/checks/configurations"): (
        {"GET", "POST"}, {"7.1-preview.1", "7.2-preview.1"}),
    ("vssps.dev.azure.com", "_apis/identities"): ({"GET"}, {"7.1"}),
    # Pipeline Permissions - Get / Update Pipeline Permisions For Resource
    # (approvalsandchecks; resourceType endpoint, environment, queue, ...).
    ("dev.azure.com",
     "_apis/pipelines/pipelinepermissions/{resourceType}/{resourceId}"): (
        {"GET", "PATCH"},
        {"5.1-preview.1", "6.0-preview.1", "7.0-preview.1", "7.1-preview.1",
         "7.2-preview.1"}),
}  # fmt: skip

# `gh` subcommand -> (flags, required flags); --repo/-R is persistent on
# repository commands, --json/--jq/--template come from cmdutil.
GH_REPO = {"--repo", "-R"}
GH_JSON = {"--json", "--jq", "-q", "--template", "-t"}
GH: dict[tuple[str, ...], tuple[set[str], set[str]]] = {
    ("variable", "set"): (
        {"--visibility", "-v", "--org", "-o", "--env", "-e", "--repos",
         "-r", "--body", "-b", "--env-file", "-f", *GH_REPO}, set()),
    ("issue", "list"): (
        {"--author", "-A", "--app", "--web", "-w", "--assignee", "-a",
         "--label", "-l", "--limit", "-L", "--mention", "--milestone", "-m",
         "--search", "-S", "--state", "-s", *GH_REPO, *GH_JSON}, set()),
    ("issue", "create"): (
        {"--title", "-t", "--body", "-b", "--body-file", "-F", "--editor",
         "-e", "--web", "-w", "--assignee", "-a", "--label", "-l",
         "--project", "-p", "--milestone", "-m", "--recover", "--template",
         "-T", *GH_REPO}, {"--title"}),
    ("issue", "comment"): (
        {"--body", "-b", "--body-file", "-F", "--editor", "-e", "--web",
         "-w", "--edit-last", "--create-if-none", *GH_REPO}, set()),
    ("workflow", "run"): (
        {"--ref", "-r", "--field", "-F", "--raw-field", "-f", "--json",
         *GH_REPO}, set()),
    ("label", "create"): (
        {"--description", "-d", "--color", "-c", "--force", "-f",
         *GH_REPO}, set()),
    ("api",): (
        {"--method", "-X", "--hostname", "--field", "-F", "--raw-field",
         "-f", "--header", "-H", "--preview", "-p", "--include", "-i",
         "--slurp", "--paginate", "--input", "--silent", "--template", "-t",
         "--jq", "-q", "--cache", "--verbose"}, set()),
}  # fmt: skip
# Boolean flags (no value); the same short letter can mean a valued flag
# in another command (-e is --editor in `issue create`, --env in `variable
# set`), so only long forms are listed.
GH_FLAGS = {"--web", "--editor", "--edit-last", "--create-if-none",
            "--recover", "--force", "--include", "--slurp", "--paginate",
            "--silent", "--verbose"}  # fmt: skip

# `az boards` / `az pipelines` from the azure-devops extension:
# Azure/azure-devops-cli-extension at e547b4a6771d4178fdae7e631eb60b0bbcae0aad,
# azure-devops/azext_devops/dev/boards/{arguments.py, work_item.py,
# iteration.py}, dev/pipelines/pipeline.py (pipeline_run). Every command
# takes --organization/--org and --detect; `project` only where the
# function has that parameter (work-item update has none). Without
# --organization, the default from `az devops configure` in this job's
# ~/.azure is used, or the command fails.
DEVOPS_COMMON = {"--organization", "--org", "--detect"}
PROJECT = {"--project", "-p"}
AZ_DEVOPS: dict[tuple[str, ...], tuple[set[str], set[str]]] = {
    ("boards", "iteration", "project", "list"): (
        {"--depth", "--path", *PROJECT}, set()),
    ("boards", "iteration", "project", "create"): (
        {"--name", "--path", "--start-date", "--finish-date", *PROJECT},
        {"--name"}),
    ("boards", "query"): ({"--wiql", "--id", "--path", *PROJECT}, set()),
    ("boards", "work-item", "create"): (
        {"--type", "--title", "--description", "-d", "--assigned-to",
         "--area", "--iteration", "--reason", "--discussion", "--fields",
         "-f", "--open", *PROJECT}, {"--type", "--title"}),
    ("boards", "work-item", "update"): (
        {"--id", "--title", "--description", "-d", "--assigned-to",
         "--state", "--area", "--iteration", "--reason", "--discussion",
         "--fields", "-f", "--open"}, {"--id"}),
    ("pipelines", "run"): (
        {"--id", "--branch", "--commit-id", "--name", "--open",
         "--variables", "--folder-path", "--parameters", *PROJECT}, set()),
}  # fmt: skip
DEVOPS_FLAGS = {"--open", "--detect"}
DEVOPS_MULTI = {"--fields", "-f", "--variables", "--parameters"}


# ------------------------------------------------- Azure RBAC (one place)
# The built-in roles' permissions and the permissions each `az` command
# needs: tests/test_identities.py checks the pipelines against them, and
# fake_az.py refuses a call whose caller holds no role allowing it.
BUILT_IN_ROLES_SOURCE = (
    "https://learn.microsoft.com/azure/role-based-access-control/"
    "built-in-roles (each role's JSON definition)"
)


# A built-in role's definition (the stand-ins start a process per call, and
# importing dataclasses costs a tenth of that call).
Role = namedtuple(
    "Role",
    ("id", "actions", "not_actions", "data_actions"),
    defaults=((), (), ()),
)


_BLOBS = "Microsoft.Storage/storageAccounts/blobServices/containers/blobs"
_CONTAINERS = "Microsoft.Storage/storageAccounts/blobServices/containers"

#: Built-in roles by name, with the permissions of their published JSON
#: definitions (BUILT_IN_ROLES_SOURCE).
BUILT_IN_ROLES: dict[str, Role] = {
    "Owner": Role("8e3af657-a8ff-443c-a75c-2fe8c4bcb635", ("*",)),
    "User Access Administrator": Role(
        "18d7d88d-d35e-4fb5-a5c3-7773c20a72d9",
        ("*/read", "Microsoft.Authorization/*", "Microsoft.Support/*"),
    ),
    "Reader": Role("acdd72a7-3385-48ef-bd42-f606fba81ae7", ("*/read",)),
    "Contributor": Role(
        "b24988ac-6180-42a0-ab88-20f7382dd24c",
        ("*",),
        (
            "Microsoft.Authorization/*/Delete",
            "Microsoft.Authorization/*/Write",
            "Microsoft.Authorization/elevateAccess/Action",
            "Microsoft.Blueprint/blueprintAssignments/write",
            "Microsoft.Blueprint/blueprintAssignments/delete",
            "Microsoft.Compute/galleries/share/action",
            "Microsoft.Purview/consents/write",
            "Microsoft.Purview/consents/delete",
            "Microsoft.Resources/deploymentStacks/manageDenySetting/action",
            "Microsoft.Subscription/cancel/action",
            "Microsoft.Subscription/enable/action",
        ),
    ),
    "Role Based Access Control Administrator": Role(
        "f58310d9-a9f6-439a-9e8d-f62e7b41a168",
        (
            "Microsoft.Authorization/roleAssignments/write",
            "Microsoft.Authorization/roleAssignments/delete",
            "*/read",
            "Microsoft.Support/*",
        ),
    ),
    "Storage Blob Data Contributor": Role(
        "ba92f5b4-2d11-453d-a403-e96b0029c9fe",
        (
            f"{_CONTAINERS}/delete",
            f"{_CONTAINERS}/read",
            f"{_CONTAINERS}/write",
            "Microsoft.Storage/storageAccounts/blobServices/"
            "generateUserDelegationKey/action",
        ),
        (),
        (
            f"{_BLOBS}/delete",
            f"{_BLOBS}/read",
            f"{_BLOBS}/write",
            f"{_BLOBS}/move/action",
            f"{_BLOBS}/add/action",
        ),
    ),
    "Storage Blob Data Reader": Role(
        "2a2b9908-6ea1-4ae2-8e65-a410df84e7d1",
        (
            f"{_CONTAINERS}/read",
            "Microsoft.Storage/storageAccounts/blobServices/"
            "generateUserDelegationKey/action",
        ),
        (),
        (f"{_BLOBS}/read",),
    ),
    "AcrPull": Role(
        "7f951dda-4ed3-4680-a7ca-43fe172d538d",
        ("Microsoft.ContainerRegistry/registries/pull/read",),
    ),
}

_ML = "Microsoft.MachineLearningServices/workspaces"
_ENV, _STATE, _SUB = "environment", "state", "subscription"
_DEPLOY_WRITES = (
    "Microsoft.Resources/deployments/write",
    f"{_ML}/write",
    f"{_ML}/computes/write",
    "Microsoft.Storage/storageAccounts/write",
    "Microsoft.KeyVault/vaults/write",
    "Microsoft.ContainerRegistry/registries/write",
    "Microsoft.Insights/components/write",
    "Microsoft.OperationalInsights/workspaces/write",
    "Microsoft.Authorization/roleAssignments/write",
)

#: Each Azure command the pipelines run -> (scope, permission, is data
#: action) it needs. Sources: the Azure ML CLI reference and "Manage access
#: to Azure Machine Learning workspaces" (operations -> actions,
#: learn.microsoft.com/azure/machine-learning/how-to-assign-roles), "Access
#: Azure resources from an online endpoint" (a system-assigned endpoint
#: identity gets its roles on the caller's behalf: roleAssignments/write),
#: "Disable shared key access for your workspace's storage account" (with
#: identity-based datastores the caller's identity reads and writes the
#: blobs it uploads or downloads), "ARM template deployment what-if
#: operation" (what-if and ValidationLevel ProviderNoRbac), and Terraform's
#: azurerm backend (use_azuread_auth: blob data roles; `plan -lock=false`
#: only reads the state, `apply` writes it and takes a lease).
COMMANDS: dict[str, tuple[tuple[str, str, bool], ...]] = {
    "az group exists": (
        (_ENV, "Microsoft.Resources/subscriptions/resourceGroups/read", False),
    ),
    "az deployment group what-if": (
        (_ENV, "Microsoft.Resources/deployments/whatIf/action", False),
        (_ENV, "Microsoft.Resources/deployments/validate/action", False),
        (_ENV, f"{_ML}/read", False),
    ),
    "az deployment group create": tuple(
        (_ENV, action, False) for action in _DEPLOY_WRITES
    ),
    "terraform init": ((_STATE, f"{_BLOBS}/read", True),),
    "terraform init -backend=false": (),
    "terraform plan": (
        (_STATE, f"{_BLOBS}/read", True),
        (_ENV, f"{_ML}/read", False),
        (_ENV, "Microsoft.Storage/storageAccounts/read", False),
    ),
    "terraform show": (),
    "terraform apply": (
        (_STATE, f"{_BLOBS}/write", True),
        *((_ENV, a, False) for a in _DEPLOY_WRITES if "deployments" not in a),
    ),
    "az ml environment show": ((_ENV, f"{_ML}/environments/read", False),),
    "az ml environment create": (
        (_ENV, f"{_ML}/environments/versions/write", False),
    ),
    "az ml model show": ((_ENV, f"{_ML}/models/versions/read", False),),
    # The workspace's MLflow tracking URI (`make baseline`, tracking.py).
    "az ml workspace show": ((_ENV, f"{_ML}/read", False),),
    # Tagging the production model (the quality gate's baseline).
    "az ml model update": ((_ENV, f"{_ML}/models/versions/write", False),),
    "az ml model create": (
        (_ENV, f"{_ML}/models/versions/write", False),
        (_ENV, f"{_BLOBS}/write", True),
    ),
    "az ml online-endpoint show": (
        (_ENV, f"{_ML}/onlineEndpoints/read", False),
    ),
    "az ml online-endpoint create": (
        (_ENV, f"{_ML}/onlineEndpoints/write", False),
        (_ENV, "Microsoft.Authorization/roleAssignments/write", False),
    ),
    "az ml online-endpoint update": (
        (_ENV, f"{_ML}/onlineEndpoints/write", False),
    ),
    # aml_token endpoints: the CLI first asks for a token (token/action);
    # "Authenticate clients for online endpoints" (aad_token: score/action).
    "az ml online-endpoint invoke": (
        (_ENV, f"{_ML}/onlineEndpoints/token/action", False),
        (_ENV, f"{_ML}/onlineEndpoints/score/action", False),
        (_ENV, f"{_ML}/onlineEndpoints/listKeys/action", False),
    ),
    "az ml online-deployment show": (
        (_ENV, f"{_ML}/onlineEndpoints/deployments/read", False),
    ),
    "az ml online-deployment create": (
        (_ENV, f"{_ML}/onlineEndpoints/deployments/write", False),
        (_ENV, f"{_BLOBS}/write", True),
    ),
    "az ml online-deployment delete": (
        (_ENV, f"{_ML}/onlineEndpoints/deployments/delete", False),
    ),
    "az ml job create": (
        (_ENV, f"{_ML}/jobs/write", False),
        (_ENV, f"{_BLOBS}/write", True),
    ),
    "az ml job show": ((_ENV, f"{_ML}/jobs/read", False),),
    "az ml job stream": ((_ENV, f"{_ML}/jobs/read", False),),
    "az ml job download": (
        (_ENV, f"{_ML}/jobs/read", False),
        (_ENV, f"{_BLOBS}/read", True),
    ),
    # The one-time set-up (scripts/setup_azure_federation.sh), run by a
    # person: subscription-wide provider registration ("Azure resource
    # providers and types": register/action), the Terraform state account,
    # and the identities deployment (a subscription deployment that creates
    # resource groups, identities, federated credentials and role
    # assignments: "Deploy resources to subscription", "Create user-assigned
    # managed identities" and "Assign Azure roles using ARM templates").
    "az provider register": (
        (_SUB, "Microsoft.MachineLearningServices/register/action", False),
    ),
    "az group create": (
        (_SUB, "Microsoft.Resources/subscriptions/resourceGroups/write", False),
    ),
    "az storage account show": (
        (_SUB, "Microsoft.Storage/storageAccounts/read", False),
    ),
    "az storage account create": (
        (_SUB, "Microsoft.Storage/storageAccounts/write", False),
    ),
    "az storage container-rm create": ((_SUB, f"{_CONTAINERS}/write", False),),
    "az role assignment create": (
        (_SUB, "Microsoft.Authorization/roleAssignments/write", False),
    ),
    "az deployment sub create": (
        (_SUB, "Microsoft.Resources/deployments/write", False),
        (_SUB, "Microsoft.Resources/subscriptions/resourceGroups/write", False),
        (_SUB, "Microsoft.ManagedIdentity/userAssignedIdentities/write", False),
        (
            _SUB,
            "Microsoft.ManagedIdentity/userAssignedIdentities/"
            "federatedIdentityCredentials/write",
            False,
        ),
        (_SUB, "Microsoft.Authorization/roleAssignments/write", False),
    ),
    "az identity show": (
        (_SUB, "Microsoft.ManagedIdentity/userAssignedIdentities/read", False),
    ),
    "az group show": (
        (_ENV, "Microsoft.Resources/subscriptions/resourceGroups/read", False),
    ),
    "az ad signed-in-user show": (),
    # Local configuration, no Azure call.
    "az configure": (),
    "az extension show": (),
    "az extension add": (),
    "az account show": (),
    "az bicep build": (),
    "az bicep build-params": (),
    "terraform fmt": (),
    "terraform validate": (),
    "terraform version": (),
}


def _matches(patterns, permission: str) -> bool:
    return any(
        fnmatch.fnmatchcase(permission.lower(), p.lower()) for p in patterns
    )


def allows(granted: Role, permission: str, data: bool) -> bool:
    if data:
        return _matches(granted.data_actions, permission)
    return _matches(granted.actions, permission) and not _matches(
        granted.not_actions, permission
    )
