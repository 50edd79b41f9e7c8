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
- Azure DevOps REST: learn.microsoft.com/rest/api/azure/devops,
  "Environments - Add/List" (distributedtask/environments, 7.1) and
  "Check Configurations - Add/List" (pipelines/checks/configurations,
  7.1-preview.1); "Identities - Read Identities" (vssps, 7.1).
"""

from __future__ import annotations

# Options every `az` command takes (azure-cli core).
AZ_GLOBAL = {"--query", "--output", "-o", "--only-show-errors", "--debug",
             "--verbose", "--subscription"}  # fmt: skip
AZ_FLAGS = {"--only-show-errors", "--debug", "--verbose", "--yes", "-y",
            "--no-wait", "--local", "--web", "--all-traffic", "--stream",
            "--skip-validation", "--all"}  # fmt: skip
# add_common_params: the workspace each `az ml` command needs.
WORKSPACE = {"--resource-group", "-g", "--workspace-name", "-w"}
OVERRIDE = {"--set"}

# command -> (accepted options, required options, required action)
AZ_ML: dict[tuple[str, ...], tuple[set[str], set[str], str]] = {
    ("environment", "show"): (
        {"--name", "-n", "--version", "-v", "--label", "-l",
         "--registry-name"}, {"--name"}, "read"),
    ("environment", "create"): (
        {"--name", "-n", "--registry-name", "--file", "-f", *OVERRIDE,
         "--version", "-v", "--tags", "--description", "--datastore",
         "--image", "-i", "--conda-file", "-c", "--build-context", "-b",
         "--dockerfile-path", "-d", "--os-type", "--path", "-p"},
        set(), "write"),
    ("model", "show"): (
        {"--name", "-n", "--version", "-v", "--label", "-l",
         "--registry-name"}, {"--name"}, "read"),
    # A generic update command (azure-cli's generic_update_command): the
    # version to change, and --set/--add/--remove/--force-string.
    ("model", "update"): (
        {"--name", "-n", "--version", "-v", "--label", "-l",
         "--registry-name", *OVERRIDE, "--add", "--remove",
         "--force-string"}, {"--name"}, "write"),
    ("model", "create"): (
        {*OVERRIDE, "--tags", "--name", "-n", "--version", "-v",
         "--registry-name", "--file", "-f", "--datastore", "--stage", "-s",
         "--path", "-p", "--type", "-t", "--description",
         "--default-deployment-template", "-d"}, set(), "write"),
    ("online-endpoint", "show"): (
        {"--name", "-n", "--local", "--web", "-e"}, {"--name"}, "read"),
    ("online-endpoint", "create"): (
        {"--name", "-n", "--local", "--no-wait", "--file", "-f",
         "--auth-mode", *OVERRIDE, "--web", "-e"}, set(), "write"),
    ("online-endpoint", "update"): (
        {"--name", "-n", "--local", "--no-wait", "--traffic", "-r",
         "--file", "-f", "--mirror-traffic", "--web", "-e", *OVERRIDE,
         "--add", "--remove", "--force-string"}, {"--name"}, "write"),
    ("online-endpoint", "invoke"): (
        {"--name", "-n", "--local", *OVERRIDE, "--deployment-name", "-d",
         "--request-file", "-r"}, {"--name"}, "score"),
    ("online-deployment", "show"): (
        {"--name", "-n", "--endpoint-name", "-e", "--local", "--web"},
        {"--name", "--endpoint-name"}, "read"),
    ("online-deployment", "create"): (
        {"--name", "-n", "--endpoint-name", "-e", "--local", "--file", "-f",
         "--local-enable-gpu", "--all-traffic", "--vscode-debug", *OVERRIDE,
         "--web", "--skip-script-validation", "--package-model",
         "--no-wait"}, {"--file"}, "write"),
    ("online-deployment", "delete"): (
        {"--name", "-n", "--endpoint-name", "-e", "--local", "--yes", "-y",
         "--no-wait"}, {"--name", "--endpoint-name"}, "write"),
    ("job", "create"): (
        {"--name", "-n", *OVERRIDE, "--skip-validation", "--file", "-f",
         "--save-as", "-a", "--stream", "-s", "--web", "-e"},
        {"--file"}, "write"),
    ("job", "show"): ({"--name", "-n", "--web", "-e"}, {"--name"}, "read"),
    ("job", "stream"): ({"--name", "-n"}, {"--name"}, "read"),
    ("job", "download"): (
        {"--name", "-n", "--download-path", "-p", "--output-name", "--all"},
        {"--name"}, "read"),
}  # fmt: skip

# Which action each built-in role allows on a resource group's workspace
# (learn.microsoft.com "Azure built-in roles": Reader = */read;
# AzureML Data Scientist = workspace */read, */action, */write, */delete).
ROLE_ACTIONS = {
    "Reader": {"read"},
    "AzureML Data Scientist": {"read", "write", "score"},
    "Contributor": {"read", "write", "score"},
    "Owner": {"read", "write", "score", "assign"},
    "User Access Administrator": {"read", "assign"},
}

# The Azure DevOps REST endpoints the set-up script calls:
# (host, path after the organisation / project) -> methods, api-versions.
AZURE_DEVOPS_APP = "499b84ac-1321-427f-aa17-267ca6975798"
DEVOPS_REST = {
    ("dev.azure.com", "_apis/distributedtask/environments"): (
        {"GET", "POST"}, {"7.1", "7.2-preview.1"}),
    ("dev.azure.com", "_apis/pipelines/checks/configurations"): (
        {"GET", "POST"}, {"7.1-preview.1", "7.2-preview.1"}),
    ("vssps.dev.azure.com", "_apis/identities"): ({"GET"}, {"7.1"}),
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
