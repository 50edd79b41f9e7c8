"""A strict stand-in for the `az` CLI: `az ml` for the release scripts,
`az rest` / `az devops` / `az pipelines` for the Azure DevOps set-up, with
the argument rules of tests/cli_rules.py (read from the real CLI's command
definitions). Like the real one it refuses:

- an option the command does not define, or a required one left out;
- an `az ml` call with no workspace, unless `az configure --defaults` set
  one in THIS job (the defaults live in $AZURE_CONFIG_DIR or ~/.azure, and
  each test job gets a fresh HOME, as each CI job gets a fresh runner);
- `az ml` before the ml extension is installed in this job;
- a call by an identity ($FAKE_AZ_IDENTITY, the one the job logged in as)
  without a role allowing it on the resource group ($FAKE_AZ_ROLES: JSON
  {identity: {resource group: [role, ...]}});
- an Azure DevOps REST area, method or api-version that does not exist.

The cloud's state (shared by all jobs) is $FAKE_AZ_STATE (JSON). `invoke`
answers with the project's real scoring code, loaded the way Azure ML loads
it. FAKE_AZ_BROKEN_DEPLOYMENT=<name> makes that deployment answer with an
error, as a broken release would."""

from __future__ import annotations

import configparser
import importlib.util
import json
import os
import sys
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

sys.path.insert(0, os.environ.get("FAKE_RULES", str(Path(__file__).parent)))
from cli_rules import (  # noqa: E402
    AZ_FLAGS,
    AZ_GLOBAL,
    AZ_ML,
    AZURE_DEVOPS_APP,
    DEVOPS_REST,
    ROLE_ACTIONS,
    WORKSPACE,
)  # fmt: skip

STATE = Path(os.environ["FAKE_AZ_STATE"])
CONFIG_DIR = Path(os.environ.get("AZURE_CONFIG_DIR") or Path.home() / ".azure")
ALIASES = {"-n": "--name", "-g": "--resource-group",
           "-w": "--workspace-name", "-f": "--file", "-o": "--output",
           "-u": "--uri", "--url": "--uri", "-m": "--method",
           "-b": "--body", "-y": "--yes"}  # fmt: skip
MULTI = {"--set", "--tags"}  # nargs="+"


class Refused(Exception):
    def __init__(self, message: str, code: int = 2):
        super().__init__(message)
        self.code = code


def load() -> dict:
    if STATE.exists():
        return json.loads(STATE.read_text())
    return {"models": {}, "environments": [], "endpoints": {}, "calls": [],
            "jobs": {}, "devops": {}}  # fmt: skip


def parse(args: list[str], accepted: set[str]) -> dict[str, object]:
    """argparse's rules: unknown options are an error; --set takes many."""
    found: dict[str, object] = {}
    i = 0
    while i < len(args):
        token = args[i]
        if not token.startswith("-"):
            raise Refused(f"unrecognized arguments: {token}")
        if token not in accepted | AZ_GLOBAL:
            raise Refused(f"unrecognized arguments: {token}")
        name = ALIASES.get(token, token)
        if token in AZ_FLAGS:
            found[name] = True
            i += 1
        elif token in MULTI:
            values = []
            i += 1
            while i < len(args) and not args[i].startswith("--"):
                values.append(args[i])
                i += 1
            if not values:
                raise Refused(f"argument {token}: expected at least one")
            found[name] = values
        else:
            if i + 1 >= len(args):
                raise Refused(f"argument {token}: expected one argument")
            found[name] = args[i + 1]
            i += 2
    return found


def config() -> configparser.ConfigParser:
    parser = configparser.ConfigParser()
    parser.read(CONFIG_DIR / "config")
    return parser


def emit(result: object, options: dict) -> str:
    if options.get("--query"):
        import jmespath  # only when asked: it is the CLI's own query engine

        result = jmespath.search(str(options["--query"]), result)
    if options.get("--output") in ("tsv", "table"):
        if result is None:
            return ""
        if isinstance(result, list):
            return "\n".join(str(x) for x in result)
        if isinstance(result, dict):
            return "\t".join(str(x) for x in result.values())
        return str(result)
    return json.dumps(result)


def check_role(group: str, action: str) -> None:
    identity = os.environ.get("FAKE_AZ_IDENTITY")
    if not identity:
        raise Refused("Please run 'az login' to setup account.", 1)
    roles = json.loads(os.environ.get("FAKE_AZ_ROLES", "{}"))
    held = roles.get(identity, {}).get(group, [])
    if not any(action in ROLE_ACTIONS.get(role, ()) for role in held):
        raise Refused(
            f"(AuthorizationFailed) The client '{identity}' does not have "
            f"authorization to perform action '{action}' over scope "
            f"'/resourceGroups/{group}'",
            1,
        )


def score(model_path: str, request_file: str) -> dict:
    source = next(Path.cwd().glob("src/*/score.py"))
    os.environ["AZUREML_MODEL_DIR"] = model_path
    spec = importlib.util.spec_from_file_location("score_entry", source)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    module.init()
    return module.run(Path(request_file).read_text())


def ml(state: dict, group: str, verb: str, args: list[str]) -> str:
    rule = AZ_ML.get((group, verb))
    if rule is None:
        raise Refused(f"'{verb}' is misspelled or not recognized by the "
                      f"system (az ml {group})")  # fmt: skip
    accepted, required, action = rule
    if not (CONFIG_DIR / "cliextensions" / "ml").is_dir():
        raise Refused("'ml' is misspelled or not recognized by the system. "
                      "(no tty to install the extension)")  # fmt: skip
    options = parse(args, accepted | WORKSPACE)
    missing = sorted(r for r in required if r not in options)
    defaults = config()["defaults"] if config().has_section("defaults") else {}
    rg = options.get("--resource-group") or defaults.get("group")
    ws = options.get("--workspace-name") or defaults.get("workspace")
    if not rg:
        missing.insert(0, "--resource-group/-g")
    if not ws:
        missing.insert(0, "--workspace-name/-w")
    if missing:
        raise Refused(
            "the following arguments are required: " + ", ".join(missing)
        )
    workspaces = state.get("workspaces", {})
    if workspaces.get(ws) != rg:
        raise Refused(f"(ResourceNotFound) workspace {rg}/{ws} not found", 1)
    check_role(rg, action)
    key = f"{ws}/{options.get('--name')}:{options.get('--version')}"
    if group == "environment":
        if verb == "show":
            if key not in state["environments"]:
                raise Refused("(UserError) environment not found", 1)
        else:
            state["environments"].append("created")
    elif group == "model":
        if verb == "show":
            if key not in state["models"]:
                raise Refused("(UserError) model not found", 1)
        elif verb == "update":
            if key not in state["models"]:
                raise Refused("(UserError) model not found", 1)
            state.setdefault("model_tags", {})[key] = options.get("--set")
        else:
            state["models"][key] = str(Path(options["--path"]).resolve())
    elif group == "online-endpoint":
        name = f"{ws}/{options.get('--name')}"
        endpoint = state["endpoints"].get(name)
        if endpoint is None and verb != "create":
            raise Refused(f"(ResourceNotFound) endpoint {name} not found", 1)
        if verb == "show":
            return emit(endpoint, options)
        if verb == "create":
            state["endpoints"][name] = {"traffic": {}, "deployments": {}}
        elif verb == "update":
            pairs = str(options["--traffic"]).split()
            endpoint["traffic"] = {
                k: int(v) for k, v in (item.split("=") for item in pairs)
            }
        elif verb == "invoke":
            deployment = options.get("--deployment-name") or max(
                endpoint["traffic"], key=endpoint["traffic"].get
            )
            if deployment == os.environ.get("FAKE_AZ_BROKEN_DEPLOYMENT"):
                answer = {"error": "the container crashed"}
            else:
                model = endpoint["deployments"][deployment]
                answer = score(
                    state["models"][f"{ws}/{model}"],
                    str(options["--request-file"]),
                )
            return json.dumps(json.dumps(answer))  # the body as a string
    elif group == "online-deployment":
        endpoint = state["endpoints"].get(f"{ws}/{options['--endpoint-name']}")
        if endpoint is None:
            raise Refused("(ResourceNotFound) endpoint not found", 1)
        name = options.get("--name")
        if verb == "show":
            if name not in endpoint["deployments"]:
                raise Refused("(ResourceNotFound) deployment not found", 1)
        elif verb == "delete":
            endpoint["deployments"].pop(name)
            endpoint["traffic"].pop(name, None)
        elif verb == "create":
            sets = dict(s.split("=", 1) for s in options.get("--set", []))
            endpoint["deployments"][name] = sets["model"].split(":", 1)[1]
            endpoint["traffic"].setdefault(name, 0)
    elif group == "job":
        if verb == "create":
            name = f"job-{len(state['jobs']) + 1}"
            state["jobs"][name] = "Completed"
            return emit({"name": name}, options)
        if options["--name"] not in state["jobs"]:
            raise Refused("(UserError) job not found", 1)
        if verb == "show":
            return emit({"status": state["jobs"][options["--name"]]}, options)
        if verb == "download":
            out = Path(str(options["--download-path"])) / "named-outputs"
            out = out / str(options["--output-name"])
            out.mkdir(parents=True, exist_ok=True)
            (out / "model.joblib").write_text("trained")
    return ""


def rest(state: dict, args: list[str]) -> str:
    options = parse(args, {"--method", "-m", "--uri", "-u", "--url",
                           "--body", "-b", "--headers", "--resource",
                           "--uri-parameters", "--url-parameters",
                           "--output-file",
                           "--skip-authorization-header"})  # fmt: skip
    if "--uri" not in options:
        raise Refused("the following arguments are required: --uri/--url/-u")
    url = urlsplit(str(options["--uri"]))
    method = str(options.get("--method", "get")).upper()
    query = {k: v[0] for k, v in parse_qs(url.query).items()}
    parts = url.path.strip("/").split("/")
    # dev.azure.com/ORG/PROJECT/_apis/... or vssps.dev.azure.com/ORG/_apis/
    start = parts.index("_apis") if "_apis" in parts else len(parts)
    area = "/".join(parts[start:])
    rule = DEVOPS_REST.get((url.hostname, area))
    if rule is None:
        raise Refused(f"Not Found({url.hostname}/{area}): the resource "
                      "area does not exist", 1)  # fmt: skip
    methods, versions = rule
    if options.get("--resource") != AZURE_DEVOPS_APP:
        raise Refused("Unauthorized(401): the token is not for Azure DevOps",
                      1)  # fmt: skip
    if query.get("api-version") not in versions:
        raise Refused(f"Bad Request(400): The requested REST API version of "
                      f"{query.get('api-version')} is out of range for "
                      f"{area}", 1)  # fmt: skip
    if method not in methods:
        raise Refused(f"Method Not Allowed(405): {method} {area}", 1)
    devops = state.setdefault("devops", {})
    body = options.get("--body")
    if isinstance(body, str) and body.startswith("@"):
        body = Path(body[1:]).read_text()
    if area.endswith("environments"):
        environments = devops.setdefault("environments", [])
        if method == "POST":
            created = {"id": len(environments) + 1, **json.loads(body)}
            environments.append(created)
            return emit(created, options)
        named = [e for e in environments if e["name"] == query.get("name")]
        return emit({"count": len(named), "value": named}, options)
    if area.endswith("checks/configurations"):
        checks = devops.setdefault("checks", [])
        if method == "POST":
            check = json.loads(body)
            if not check.get("settings", {}).get("approvers"):
                raise Refused("Bad Request(400): no approvers", 1)
            check["id"] = len(checks) + 1  # the service assigns an id
            checks.append(check)
            return emit(check, options)
        for required in ("resourceType", "resourceId"):
            if required not in query:
                raise Refused(f"Bad Request(400): {required} is required", 1)
        wanted = query["resourceId"]
        found = [c for c in checks if str(c["resource"]["id"]) == wanted]
        return emit({"count": len(found), "value": found}, options)
    value = query.get("filterValue", "")
    return emit({"value": [{"id": f"identity-{value}"}]}, options)


def devops_cli(state: dict, args: list[str]) -> str:
    """`az devops` / `az pipelines`, from the azure-devops extension
    (Microsoft/azure-devops-cli-extension); options as documented on
    learn.microsoft.com/cli/azure/devops (not read from its source)."""
    devops = state.setdefault("devops", {})
    common = {"--organization", "--org", "--project", "-p", "--detect"}
    command, rest_args = tuple(args[:2]), args[2:]
    if args[:2] == ["devops", "configure"]:
        values = args[args.index("--defaults") + 1 :]
        parser = config()
        if not parser.has_section("devops"):
            parser.add_section("devops")
        for item in values:
            key, _, value = item.partition("=")
            parser["devops"][key] = value
        CONFIG_DIR.mkdir(parents=True, exist_ok=True)
        with open(CONFIG_DIR / "config", "w") as out:
            parser.write(out)
        return ""
    if args[:3] == ["devops", "service-endpoint", "create"]:
        options = parse(args[3:], common | {"--service-endpoint-configuration"})
        spec = json.loads(
            Path(str(options["--service-endpoint-configuration"])).read_text()
        )
        for key in (
            "name",
            "type",
            "url",
            "authorization",
            "data",
            "serviceEndpointProjectReferences",
        ):
            if key not in spec:
                raise Refused(f"Bad Request(400): {key} is required", 1)
        spec["id"] = f"se-{len(devops.get('connections', [])) + 1}"
        spec["authorization"]["parameters"].update(
            workloadIdentityFederationIssuer="https://vstoken.example/o",
            workloadIdentityFederationSubject=f"sc://o/p/{spec['name']}",
        )
        devops.setdefault("connections", []).append(spec)
        return ""
    if not config().has_option("devops", "organization"):
        raise Refused("--organization must be specified (az devops "
                      "configure --defaults organization=...)")  # fmt: skip
    if args[:3] == ["devops", "service-endpoint", "list"]:
        options = parse(args[3:], common)
        return emit(devops.get("connections", []), options)
    if args[:3] == ["devops", "service-endpoint", "show"]:
        options = parse(args[3:], common | {"--id"})
        found = [c for c in devops.get("connections", [])
                 if c["id"] == options.get("--id")]  # fmt: skip
        if not found:
            raise Refused("service endpoint not found", 1)
        return emit(found[0], options)
    if args[:3] == ["devops", "project", "show"]:
        options = parse(args[3:], common)
        return emit({"id": "project-id", "name": options["--project"]},
                    options)  # fmt: skip
    if command == ("pipelines", "list"):
        return emit(devops.get("pipelines", []), parse(rest_args, common))
    if command == ("pipelines", "create"):
        options = parse(
            rest_args,
            common
            | {
                "--name",
                "--yml-path",
                "--skip-first-run",
                "--repository",
                "--branch",
                "--description",
                "--repository-type",
                "--service-connection",
                "--folder-path",
                "--queue-id",
            },
        )
        devops.setdefault("pipelines", []).append(
            {
                "id": len(devops.get("pipelines", [])) + 1,
                "name": options["--name"],
                "yml": options["--yml-path"],
            }
        )
        return ""
    raise Refused(f"'{' '.join(args[:3])}' is not an az command")


def entra(state: dict, args: list[str]) -> str:
    """`az ad`, `az group`, `az role`, `az account`: azure-cli core (options
    as documented on learn.microsoft.com/cli/azure, not read from source).
    Creating a role assignment needs an Owner / User Access Administrator
    role on the scope, like the real Azure RBAC."""
    ad = state.setdefault("ad", {"apps": [], "assignments": []})
    command = tuple(a for a in args if not a.startswith("-"))[:4]
    if args[:3] == ["ad", "app", "list"]:
        options = parse(args[3:], {"--display-name", "--app-id",
                                   "--filter", "--all"})  # fmt: skip
        found = [
            a
            for a in ad["apps"]
            if a["displayName"] == options.get("--display-name")
        ]
        return emit(found, options)
    if args[:3] == ["ad", "app", "create"]:
        options = parse(args[3:], {"--display-name", "--sign-in-audience"})
        if "--display-name" not in options:
            raise Refused("the following arguments are required: "
                          "--display-name")  # fmt: skip
        created = {"appId": f"app-{len(ad['apps']) + 1}",
               "displayName": options["--display-name"],
               "credentials": [], "sp": False}  # fmt: skip
        ad["apps"].append(created)
        return emit(created, options)
    if args[:3] == ["ad", "sp", "create"]:
        options = parse(args[3:], {"--id"})
        app(ad, options)["sp"] = True
        return ""
    if args[:4] == ["ad", "app", "federated-credential", "list"]:
        options = parse(args[4:], {"--id"})
        return emit(app(ad, options)["credentials"], options)
    if args[:4] == ["ad", "app", "federated-credential", "create"]:
        options = parse(args[4:], {"--id", "--parameters"})
        credential = json.loads(str(options["--parameters"]))
        for key in ("name", "issuer", "subject", "audiences"):
            if key not in credential:
                raise Refused(f"parameters: {key} is required", 1)
        target = app(ad, options)
        if any(c["name"] == credential["name"]
               for c in target["credentials"]):  # fmt: skip
            raise Refused("FederatedIdentityCredential already exists", 1)
        target["credentials"].append(credential)
        return ""
    if args[:2] == ["group", "show"]:
        options = parse(args[2:], {"--name", "-n", "--resource-group", "-g"})
        name = options.get("--name") or options.get("--resource-group")
        if name not in set(state.get("workspaces", {}).values()):
            raise Refused(f"(ResourceGroupNotFound) {name}", 3)
        return emit({"id": f"/subscriptions/sub/resourceGroups/{name}",
                     "name": name}, options)  # fmt: skip
    if args[:3] == ["role", "assignment", "create"]:
        options = parse(args[3:], {"--assignee", "--role", "--scope",
                                   "--assignee-object-id",
                                   "--assignee-principal-type"})  # fmt: skip
        for key in ("--role", "--scope"):
            if key not in options:
                raise Refused(f"the following arguments are required: {key}")
        group = str(options["--scope"]).rsplit("/", 1)[1]
        check_role(group, "assign")
        target = app(ad, {"--id": options["--assignee"]})
        if not target["sp"]:
            raise Refused("Cannot find user or service principal", 1)
        assignment = {"principal": target["appId"], "group": group,
                      "role": options["--role"]}  # fmt: skip
        if assignment not in ad["assignments"]:
            ad["assignments"].append(assignment)
        return ""
    if args[:2] == ["account", "show"]:
        options = parse(args[2:], {"--name", "-n"})
        return emit({"id": "sub", "tenantId": "tenant"}, options)
    raise Refused(f"'{' '.join(command)}' is not in this stand-in")


def app(ad: dict, options: dict) -> dict:
    for candidate in ad["apps"]:
        if candidate["appId"] == options.get("--id"):
            return candidate
    raise Refused(f"Resource '{options.get('--id')}' does not exist", 3)


def main(args: list[str]) -> int:
    state = load()
    state["calls"].append(" ".join(args))
    out = ""
    try:
        if args[:1] == ["configure"]:
            options = args[args.index("--defaults") + 1 :]
            parser = config()
            if not parser.has_section("defaults"):
                parser.add_section("defaults")
            for item in options:
                key, _, value = item.partition("=")
                parser["defaults"][key] = value
            CONFIG_DIR.mkdir(parents=True, exist_ok=True)
            with open(CONFIG_DIR / "config", "w") as file:
                parser.write(file)
        elif args[:1] == ["extension"]:
            options = parse(args[2:], {"--name", "-n", "--yes", "-y"})
            installed = CONFIG_DIR / "cliextensions" / str(options["--name"])
            if args[1] == "show" and not installed.is_dir():
                raise Refused("The extension ml is not installed.", 1)
            if args[1] == "add":
                installed.mkdir(parents=True, exist_ok=True)
        elif args[:1] == ["ml"] and len(args) >= 3:
            out = ml(state, args[1], args[2], args[3:])
        elif args[:1] == ["rest"]:
            out = rest(state, args[1:])
        elif args[:1] in (["devops"], ["pipelines"]):
            out = devops_cli(state, args)
        elif args[:1] in (["ad"], ["group"], ["role"], ["account"]):
            out = entra(state, args)
        else:
            raise Refused(f"'{' '.join(args[:2])}' is not in this stand-in")
    except Refused as refusal:
        state.setdefault("refused", []).append(str(refusal))
        STATE.write_text(json.dumps(state, indent=1))
        print(f"ERROR: {refusal}", file=sys.stderr)
        return refusal.code
    STATE.write_text(json.dumps(state, indent=1))
    if out:
        print(out)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
