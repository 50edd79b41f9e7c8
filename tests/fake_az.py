"""A strict stand-in for the `az` CLI: `az ml` for the release scripts,
`az rest` / `az devops` / `az pipelines` for the Azure DevOps set-up, with
the argument rules of tests/cli_rules.py (read from the real CLI's command
definitions). Like the real one it refuses:

- an option the command does not define, or a required one left out;
- an `az ml` call with no workspace, unless `az configure --defaults` set
  one in THIS job (the defaults live in $AZURE_CONFIG_DIR or ~/.azure, and
  each test job gets a fresh HOME, as each CI job gets a fresh runner);
- `az ml` before the ml extension is installed in this job;
- a call by an identity ($FAKE_AZ_IDENTITY, the client id the job logged
  in as) that holds no role allowing each permission the command needs
  (cli_rules.COMMANDS) on the resource group or the subscription. Roles
  are the cloud's role assignments: those `az deployment sub create` of
  infra/bicep/identities.bicep made from infra/identities.yml (read the way
  the template reads it, loadYamlContent), and whatever a test seeds for
  the person running the set-up ({"principal", "scope", "role"}); role
  conditions are not modelled;
- an Azure DevOps REST area, method or api-version that does not exist;
- an `az ml job create` whose job (after `--set`, applied as the CLI does)
  reads or writes the workspace's identity-based datastores without a job
  identity, with a compute identity that holds no blob data role, or from
  another workspace's datastore (check_job_data);
- a storage account name another subscription (another team, with
  $FAKE_AZ_SUBSCRIPTION) or resource group already holds: the names are
  global (StorageAccountAlreadyTaken), while `show` sees only the caller's
  own subscription and resource group.

The cloud's state (shared by all jobs) is $FAKE_AZ_STATE (JSON). `invoke`
answers with the project's real scoring code, loaded the way Azure ML loads
it. FAKE_AZ_BROKEN_DEPLOYMENT=<name> makes that deployment answer with an
error, as a broken release would; FAKE_AZ_BROKEN_WHEN_ROUTED=<name> only
when the endpoint routes to it (it passes a test of the deployment alone)."""

from __future__ import annotations

# The modules a few commands need are imported where they are used: `az`
# starts a process per call, and a release makes a hundred calls.
import configparser
import json
import os
import re
import sys
import time
from pathlib import Path

sys.path.insert(0, os.environ.get("FAKE_RULES", str(Path(__file__).parent)))
from cli_rules import (  # noqa: E402
    AZ_CORE,
    AZ_FLAGS,
    AZ_GLOBAL,
    AZ_ML,
    AZ_MULTI,
    AZURE_DEVOPS_APP,
    BUILT_IN_ROLES,
    COMMANDS,
    DEVOPS_REST,
    WORKSPACE,
    Role,
    allows,
)  # fmt: skip

STATE = Path(os.environ["FAKE_AZ_STATE"])
CONFIG_DIR = Path(os.environ.get("AZURE_CONFIG_DIR") or Path.home() / ".azure")
ALIASES = {"-n": "--name", "-g": "--resource-group",
           "-w": "--workspace-name", "-f": "--file", "-o": "--output",
           "-u": "--uri", "--url": "--uri", "-m": "--method",
           "-b": "--body", "-y": "--yes", "-l": "--location",
           "-p": "--parameters", "-s": "--subscription"}  # fmt: skip


class Refused(Exception):
    def __init__(self, message: str, code: int = 2):
        super().__init__(message)
        self.code = code


def stable_id(name: str) -> str:
    """The id the cloud gives what it creates under ``name`` (the same
    name, the same id, so tests can predict it)."""
    import uuid  # imported here: most calls create nothing

    return str(uuid.uuid5(uuid.NAMESPACE_URL, name))


def load() -> dict:
    if STATE.exists():
        return json.loads(STATE.read_text())
    return {"models": {}, "environments": [], "endpoints": {}, "calls": [],
            "jobs": {}, "devops": {}, "role_assignments": []}  # fmt: skip


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
        elif token in AZ_MULTI:
            values = list(found.get(name, []))  # --parameters: append
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


def login() -> str:
    identity = os.environ.get("FAKE_AZ_IDENTITY")
    if not identity:
        raise Refused("Please run 'az login' to setup account.", 1)
    return identity


def subscription() -> str:
    """The subscription the caller's session uses ($FAKE_AZ_SUBSCRIPTION):
    another team is another subscription."""
    return os.environ.get("FAKE_AZ_SUBSCRIPTION", "sub")


def check(state: dict, group: str, command: str) -> None:
    """Azure RBAC: every permission `command` needs must be allowed by a
    role the caller holds on the subscription or on `group`."""
    identity = login()
    custom = state.get("custom_roles", {})
    held = [
        BUILT_IN_ROLES.get(a["role"])
        or Role("custom", tuple(custom.get(a["role"], ())))
        for a in state.get("role_assignments", [])
        if a["principal"] == identity and a["scope"] in ("subscription", group)
    ]
    for _, permission, data in COMMANDS[command]:
        if not any(allows(role, permission, data) for role in held):
            where = "/subscriptions/sub" + (
                f"/resourceGroups/{group}" if group != "subscription" else ""
            )
            raise Refused(
                f"(AuthorizationFailed) The client '{identity}' does not have "
                f"authorization to perform action '{permission}' over scope "
                f"'{where}' or the scope is invalid.",
                1,
            )


def score(model_path: str, request_file: str) -> dict:
    """The answer of the project's real scoring code (src/*/score.py, as
    Azure ML loads it) for the model at ``model_path``. With
    $FAKE_AZ_SCORE_CACHE, an answer already computed for the same package
    code, model files and request (by any job of the test run) is read,
    not computed again: loading the model costs a second per call."""
    source = next(Path.cwd().glob("src/*/score.py"))
    request = Path(request_file).read_bytes()
    cache = os.environ.get("FAKE_AZ_SCORE_CACHE")
    stored = None
    if cache:
        import hashlib

        digest = hashlib.sha256(request)
        model = Path(model_path)
        for root, files in (
            (source.parent, sorted(source.parent.rglob("*.py"))),
            (model, sorted(p for p in model.rglob("*") if p.is_file())),
        ):
            for path in files:
                digest.update(b"\0" + str(path.relative_to(root)).encode())
                digest.update(b"\0" + path.read_bytes())
        stored = Path(cache) / digest.hexdigest()
        if stored.is_file():
            return json.loads(stored.read_text(encoding="utf-8"))
    import importlib.util

    os.environ["AZUREML_MODEL_DIR"] = model_path
    spec = importlib.util.spec_from_file_location("score_entry", source)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    module.init()
    answer = module.run(request.decode())
    if stored is not None:
        stored.parent.mkdir(parents=True, exist_ok=True)
        partial = stored.with_name(f"{stored.name}.{os.getpid()}")
        partial.write_text(json.dumps(answer), encoding="utf-8")
        partial.replace(stored)
    return answer


def ml(state: dict, group: str, verb: str, args: list[str]) -> str:
    rule = AZ_ML.get((group, verb))
    if rule is None:
        raise Refused(f"'{verb}' is misspelled or not recognized by the "
                      f"system (az ml {group})")  # fmt: skip
    accepted, required = rule
    if not (CONFIG_DIR / "cliextensions" / "ml").is_dir():
        raise Refused("'ml' is misspelled or not recognized by the system. "
                      "(no tty to install the extension)")  # fmt: skip
    if group == "workspace":
        # `az ml workspace show` names the workspace with --name.
        options = parse(args, accepted)
        ws, rg = options.get("--name"), options.get("--resource-group")
        if not ws or not rg:
            raise Refused("the following arguments are required: "
                          "--name/-n, --resource-group/-g")  # fmt: skip
        if state.get("workspaces", {}).get(ws) != rg:
            raise Refused(
                f"(ResourceNotFound) workspace {rg}/{ws} not found", 1
            )
        check(state, rg, "az ml workspace show")
        tags = state.get("workspace_tags", {}).get(ws, {})
        found = {"name": ws, "tags": tags,
                 "mlflow_tracking_uri": f"azureml://{ws}"}  # fmt: skip
        return emit(found, options)
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
    check(state, rg, f"az ml {group} {verb}")
    key = f"{ws}/{options.get('--name')}:{options.get('--version')}"
    if group == "environment":
        if verb == "show":
            if key not in state["environments"]:
                raise Refused("(UserError) environment not found", 1)
        else:
            spec = yaml_fields(str(options["--file"]))
            state["environments"].append(
                f"{ws}/{spec['name']}:{spec['version']}"
            )
    elif group == "model":
        if verb == "show":
            if key not in state["models"]:
                raise Refused("(UserError) model not found", 1)
            tags = state.setdefault("model_created_tags", {}).get(key, {})
            return emit({"name": options["--name"], "tags": tags}, options)
        elif verb == "update":
            if key not in state["models"]:
                raise Refused("(UserError) model not found", 1)
            state.setdefault("model_tags", {})[key] = options.get("--set")
        else:
            if key in state["models"]:
                raise Refused(f"(UserError) model version {key} exists", 1)
            state["models"][key] = str(Path(options["--path"]).resolve())
            raw = options.get("--tags") or []
            tags = raw if isinstance(raw, list) else str(raw).split()
            state.setdefault("model_created_tags", {})[key] = dict(
                tag.split("=", 1) for tag in tags if "=" in tag
            )
    elif group == "online-endpoint":
        name = f"{ws}/{options.get('--name')}"
        endpoint = state["endpoints"].get(name)
        if endpoint is None and verb != "create":
            raise Refused(f"(ResourceNotFound) endpoint {name} not found", 1)
        if verb == "show":
            return emit(endpoint, options)
        if verb == "create":
            # Online endpoint names are unique per Azure region, across
            # subscriptions and tenants (one region here).
            wanted = options.get("--name")
            taken = [key for key in state["endpoints"]
                     if key.split("/", 1)[1] == wanted]  # fmt: skip
            if taken:
                raise Refused(
                    f"(BadRequest) An endpoint named {options.get('--name')} "
                    "already exists in this region; endpoint names must be "
                    "unique per region", 1)  # fmt: skip
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
            routed = not options.get("--deployment-name")
            if deployment == os.environ.get("FAKE_AZ_BROKEN_DEPLOYMENT") or (
                routed
                and deployment == os.environ.get("FAKE_AZ_BROKEN_WHEN_ROUTED")
            ):
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
            # Azure ML resolves the job's environment when it is submitted:
            # azureml:NAME@latest or azureml:NAME:VERSION must be registered.
            wanted = yaml_fields(str(options["--file"]))["environment"]
            env = wanted.removeprefix("azureml:")
            env_name = re.split(r"[@:]", env)[0]
            known = [e for e in state["environments"]
                     if e.startswith(f"{ws}/{env_name}:")]  # fmt: skip
            if not known or ("@" not in env and f"{ws}/{env}" not in known):
                raise Refused(f"(UserError) environment {wanted} not found "
                              f"in workspace {ws}", 1)  # fmt: skip
            spec = job_spec(str(options["--file"]), options.get("--set", []))
            check_job_data(spec, ws)
            name = f"job-{len(state['jobs']) + 1}"
            state["jobs"][name] = "Completed"
            state.setdefault("job_specs", {})[name] = spec
            return emit({"name": name}, options)
        if options["--name"] not in state["jobs"]:
            raise Refused("(UserError) job not found", 1)
        if verb == "show":
            # FAKE_AZ_JOB_POLLS: how many shows answer Running first.
            polls = state.setdefault("job_polls", {})
            polls[options["--name"]] = polls.get(options["--name"], 0) + 1
            running = polls[options["--name"]] <= int(
                os.environ.get("FAKE_AZ_JOB_POLLS", "0")
            )
            status = "Running" if running else state["jobs"][options["--name"]]
            return emit({"status": status}, options)
        if verb == "download":
            out = Path(str(options["--download-path"])) / "named-outputs"
            out = out / str(options["--output-name"])
            out.mkdir(parents=True, exist_ok=True)
            (out / "model.joblib").write_text("trained")
    return ""


def job_spec(path: str, overrides: list[str]) -> dict:
    """The job YAML with `--set key.path=value` applied the way the CLI
    does (azext_mlv2 OverridePropertiesBySet, then azure-ai-ml's loader):
    values are strings, a missing level is created, and a key below a
    string is refused."""
    import yaml  # the test extra has it

    spec = yaml.safe_load(Path(path).read_text()) or {}
    for item in overrides:
        key, sep, value = item.partition("=")
        if not sep:
            raise Refused("usage error: --set KEY=VALUE [KEY=VALUE ...]")
        node = spec
        parts = key.split(".")
        for part in parts[:-1]:
            child = node.setdefault(part, {})
            if not isinstance(child, dict):
                raise Refused("Cannot use '--set' on properties defined by "
                              f"reference strings: --set {key}", 1)  # fmt: skip
            node = child
        node[parts[-1]] = value
    return spec


def check_job_data(spec: dict, workspace: str) -> None:
    """What Azure ML refuses, or fails at run time, for the data a command
    job reads and writes. The workspace's datastores are identity-based
    (infra/ sets systemDatastoresAuthMode identity: shared keys are off),
    so a job that mounts or downloads their data must run as an identity
    ("Access data in a job": user identity or the compute's managed
    identity; the default AmlToken carries none), and with `managed` the
    compute cluster's identity must hold a blob data role on the storage
    (infra/identities.yml, service_identities). A datastore URI names a
    datastore of the job's own workspace."""
    data = [
        value.get("path", "azureml://datastores/workspaceblobstore")
        for section in ("inputs", "outputs")
        for value in (spec.get(section) or {}).values()
        if isinstance(value, dict)
        and value.get("type", "uri_folder") in ("uri_file", "uri_folder")
    ]
    for path in data:
        long_form = re.match(
            r"azureml://subscriptions/[^/]+/resourcegroups/[^/]+/"
            r"workspaces/([^/]+)/", path, re.I)  # fmt: skip
        if long_form and long_form[1].lower() != workspace.lower():
            raise Refused(f"(UserError) {path}: the datastore is not in "
                          f"workspace {workspace}", 1)  # fmt: skip
    if not any(path.startswith("azureml://") for path in data):
        return
    kind = (spec.get("identity") or {}).get("type", "aml_token")
    if kind not in ("managed", "managed_identity", "user_identity"):
        raise Refused(
            "(UserError) The job reads or writes an identity-based datastore "
            f"with identity {kind}: set identity to user_identity or "
            "managed (the compute's managed identity) and give it a "
            "Storage Blob Data role", 1)  # fmt: skip
    identities = Path("infra/identities.yml")
    if kind.startswith("managed") and identities.is_file():
        import yaml

        roles = yaml.safe_load(identities.read_text())["service_identities"]
        held = [r["role"] for r in roles.get("training-cluster", [])
                if r["scope"] == "storage"]  # fmt: skip
        if not any(role.startswith("Storage Blob Data") for role in held):
            raise Refused(
                "(AuthorizationFailed) the compute cluster's managed identity "
                "does not have authorization to perform action 'Microsoft."
                "Storage/storageAccounts/blobServices/containers/blobs/read'",
                1)  # fmt: skip


def yaml_fields(path: str) -> dict[str, str]:
    """The top-level scalar fields of an Azure ML YAML file."""
    fields = {}
    for line in Path(path).read_text().splitlines():
        found = re.match(r'([A-Za-z_$]+): *"?([^"]*)"?$', line)
        if found:
            fields[found[1]] = found[2]
    return fields


def rest(state: dict, args: list[str]) -> str:
    options = parse(args, {"--method", "-m", "--uri", "-u", "--url",
                           "--body", "-b", "--headers", "--resource",
                           "--uri-parameters", "--url-parameters",
                           "--output-file",
                           "--skip-authorization-header"})  # fmt: skip
    if "--uri" not in options:
        raise Refused("the following arguments are required: --uri/--url/-u")
    from urllib.parse import parse_qs, urlsplit

    url = urlsplit(str(options["--uri"]))
    method = str(options.get("--method", "get")).upper()
    query = {k: v[0] for k, v in parse_qs(url.query).items()}
    parts = url.path.strip("/").split("/")
    # dev.azure.com/ORG/PROJECT/_apis/... or vssps.dev.azure.com/ORG/_apis/
    start = parts.index("_apis") if "_apis" in parts else len(parts)
    area = "/".join(parts[start:])
    rule, path = None, {}
    for (host, template), found in DEVOPS_REST.items():
        pattern = re.sub(r"\\\{(\w+)\\\}", r"(?P<\1>[^/]+)",
                         re.escape(template))  # fmt: skip
        matched = re.fullmatch(pattern, area)
        if host == url.hostname and matched:
            rule, path = found, matched.groupdict()
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
    if "resourceType" in path:
        return pipeline_permissions(devops, path, method, body, options)
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


ORG_ID = "0f8fad5b-d9cb-469f-a165-70867728950e"


def federation(spec: dict, options: dict) -> dict[str, str]:
    """The issuer and subject Azure DevOps gives a new workload identity
    federation connection. Today: the Microsoft Entra issuer and an opaque
    subject (/eid1/c/pub/t/<tenant>/a/<app>/sc/<org id>/<connection id>);
    FAKE_AZ_CONNECTION_ISSUER=vstoken gives the older kind (the Azure DevOps
    issuer and sc://<org>/<project>/<connection>)."""
    tenant = spec["authorization"]["parameters"]["tenantid"]
    if os.environ.get("FAKE_AZ_CONNECTION_ISSUER") == "vstoken":
        org = (
            str(
                options.get("--organization")
                or config()["devops"]["organization"]
            )
            .rstrip("/")
            .rsplit("/", 1)[-1]
        )
        project = options.get("--project") or config()["devops"]["project"]
        return {
            "workloadIdentityFederationIssuer":
                f"https://vstoken.dev.azure.com/{ORG_ID}",
            "workloadIdentityFederationSubject":
                f"sc://{org}/{project}/{spec['name']}",
        }  # fmt: skip

    def b64(text: str) -> str:
        import base64

        return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")

    return {
        "workloadIdentityFederationIssuer":
            f"https://login.microsoftonline.com/{tenant}/v2.0",
        "workloadIdentityFederationSubject":
            f"/eid1/c/pub/t/{b64(tenant)}/a/{b64(AZURE_DEVOPS_APP)}/sc/"
            f"{ORG_ID}/{spec['id']}",
    }  # fmt: skip


def pipeline_permissions(devops: dict, path: dict, method: str, body,
                         options: dict) -> str:  # fmt: skip
    """Which pipelines may use a protected resource (a service connection is
    resource type `endpoint`). Unknown resources and pipelines are refused,
    as is a body without pipelines."""
    kind, resource = path["resourceType"], path["resourceId"]
    known = {
        "endpoint": [c["id"] for c in devops.get("connections", [])],
        "environment": [str(e["id"]) for e in devops.get("environments", [])],
    }
    if kind not in known:
        raise Refused(f"Bad Request(400): resource type {kind} is not "
                      "supported here", 1)  # fmt: skip
    if resource not in known[kind]:
        raise Refused(f"Not Found(404): {kind} {resource}", 1)
    granted = devops.setdefault("permissions", {}).setdefault(
        f"{kind}/{resource}", []
    )
    if method == "PATCH":
        pipelines = json.loads(body or "{}").get("pipelines")
        if not pipelines:
            raise Refused("Bad Request(400): no pipelines", 1)
        ids = [p["id"] for p in devops.get("pipelines", [])]
        for pipeline in pipelines:
            if pipeline["id"] not in ids:
                raise Refused(f"Not Found(404): pipeline {pipeline['id']}",
                              1)  # fmt: skip
            if pipeline.get("authorized") and pipeline["id"] not in granted:
                granted.append(pipeline["id"])
            elif not pipeline.get("authorized") and pipeline["id"] in granted:
                granted.remove(pipeline["id"])
        if json.loads(body).get("allPipelines", {}).get("authorized"):
            raise Refused("the test refuses opening a resource to every "
                          "pipeline", 1)  # fmt: skip
    return emit({"resource": {"type": kind, "id": resource},
                 "pipelines": [{"id": i, "authorized": True}
                               for i in granted]}, options)  # fmt: skip


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
        spec["id"] = stable_id(spec["name"])
        spec["authorization"]["parameters"].update(federation(spec, options))
        devops.setdefault("connections", []).append(spec)
        return ""
    if not config().has_option("devops", "organization") and not {
        "--organization",
        "--org",
    } & set(args):
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


def resolve_scope(scope: str) -> str:
    """A role assignment's scope as check() sees it: the subscription, a
    resource group's name, or (deeper) the full resource id."""
    match = re.fullmatch(r"/subscriptions/[^/]+(?:/resourceGroups/([^/]+))?",
                         scope)  # fmt: skip
    if match:
        return match[1] or "subscription"
    return scope


def assign(state: dict, principal: str, scope: str, role: str) -> None:
    assignment = {"principal": principal, "scope": resolve_scope(scope),
                  "role": role}  # fmt: skip
    assignments = state.setdefault("role_assignments", [])
    if assignment not in assignments:
        assignments.append(assignment)


def deploy_identities(state: dict, template: Path, parameters: dict) -> None:
    """What infra/bicep/identities.bicep deploys: the file it loads with
    loadYamlContent, its resource groups, identities, federated
    credentials (exactly the ones asked for: a run replaces them) and role
    assignments."""
    text = template.read_text()
    match = re.search(r"loadYamlContent\('([^']+)'\)", text)
    if not match:
        raise Refused(f"(InvalidTemplate) {template}: no loadYamlContent", 1)
    import yaml  # the test extra has it; the Bicep compiler parses YAML too

    config = yaml.safe_load((template.parent / match[1]).read_text())
    groups = state.setdefault("groups", {})
    for group in [*config["resource_groups"].values(),
                  config["identity_resource_group"]]:  # fmt: skip
        groups.setdefault(group, config["location"])
    declared = set(re.findall(r"^param (\w+)", text, re.MULTILINE))
    for name in parameters:
        if name not in declared:
            raise Refused(f"(InvalidTemplate) the parameter '{name}' is not "
                          f"declared in {template.name}", 1)  # fmt: skip
    github = json.loads(parameters.get("githubSubjectPrefixes") or "[]")
    devops = json.loads(parameters.get("azureDevOpsSubjects") or "{}")
    identities = state.setdefault("identities", {})
    client_ids = {}
    for key, identity in config["identities"].items():
        client_id = stable_id(identity["name"])
        client_ids[key] = client_id
        credentials = [
            {"issuer": "https://token.actions.githubusercontent.com",
             "subject": f"{github_prefix}:{identity['github']}"}
            for github_prefix in github
        ]  # fmt: skip
        shown = devops.get(identity["azure_devops"])
        if shown:
            credentials.append({"issuer": shown["issuer"],
                                "subject": shown["subject"]})  # fmt: skip
        identities[identity["name"]] = {
            "clientId": client_id,
            "resourceGroup": config["identity_resource_group"],
            "credentials": credentials,
        }
    for key, custom in config.get("custom_roles", {}).items():
        state.setdefault("custom_roles", {})[key] = custom["actions"]
    # A role on the Terraform state container names the account the set-up
    # recorded (the stateStorageAccount parameter, where the template
    # declares it; identities.yml's name in templates before it): ARM
    # refuses an account that does not exist in this subscription and
    # resource group.
    if "stateStorageAccount" in declared:
        account = parameters.get("stateStorageAccount", "")
    else:
        account = config.get("state", {}).get("storage_account", "")
    for grant in config["role_assignments"]:
        if grant["scope"] == "resource_group":
            scope = config["resource_groups"][grant["environment"]]
        else:
            store = config["state"]
            found = state.get("storage_accounts", {}).get(account)
            if not found or (found["subscription"], found["resourceGroup"]) != (
                subscription(),
                store["resource_group"],
            ):
                raise Refused(
                    "(ResourceNotFound) The Resource 'Microsoft.Storage/"
                    f"storageAccounts/{account}' under resource group "
                    f"'{store['resource_group']}' was not found.",
                    1,
                )
            scope = (f"{found['id']}/blobServices/default/containers/"
                     f"{store['container']}")  # fmt: skip
        assign(state, client_ids[grant["identity"]], scope, grant["role"])


def core(state: dict, args: list[str]) -> str:
    """The azure-cli core commands of the one-time set-up (cli_rules.
    AZ_CORE): unknown options and missing required ones are refused, and
    each call needs the caller's roles (cli_rules.COMMANDS)."""
    command = next(
        (key for key in sorted(AZ_CORE, key=len, reverse=True)
         if tuple(args[: len(key)]) == key),
        None,
    )  # fmt: skip
    if command is None:
        raise Refused(f"'{' '.join(args[:3])}' is not in this stand-in")
    accepted, required = AZ_CORE[command]
    options = parse(args[len(command) :], accepted)
    missing = sorted(r for r in required if r not in options)
    if missing:
        raise Refused("the following arguments are required: "
                      + ", ".join(missing))  # fmt: skip
    name = f"az {' '.join(command)}"
    groups = state.setdefault("groups", {})
    accounts = state.setdefault("storage_accounts", {})
    if command == ("account", "show"):
        login()
        return emit({"id": subscription(), "tenantId": "tenant"}, options)
    if command == ("ad", "signed-in-user", "show"):
        return emit({"id": f"object-of-{login()}"}, options)
    if command == ("provider", "register"):
        check(state, "subscription", name)
        state.setdefault("providers", []).append(options["--namespace"])
        return ""
    if command == ("group", "create"):
        check(state, "subscription", name)
        groups.setdefault(str(options["--name"]), options["--location"])
        return ""
    if command == ("deployment", "sub", "create"):
        check(state, "subscription", name)
        template = Path(str(options.get("--template-file", "")))
        if not template.is_file():
            raise Refused(f"(InvalidTemplate) {template} not found", 1)
        parameters = dict(
            item.split("=", 1)
            for values in [options.get("--parameters", [])]
            for item in values
        )
        deploy_identities(state, template, parameters)
        return ""
    if command == ("identity", "show"):
        check(state, "subscription", name)
        found = state.get("identities", {}).get(str(options["--name"]))
        if not found or found["resourceGroup"] != options["--resource-group"]:
            raise Refused("(ResourceNotFound) The Resource 'Microsoft."
                          "ManagedIdentity/userAssignedIdentities/"
                          f"{options['--name']}' was not found.",
                          3)  # fmt: skip
        return emit(found, options)
    group = str(options.get("--resource-group", ""))
    if command[:2] == ("storage", "account"):
        check(state, "subscription", name)
        wanted = str(options["--name"])
        account = accounts.get(wanted)
        # Names are global, but `show` and an update see only the caller's
        # subscription and the resource group named (an ARM resource id).
        own = account is not None and (
            account["subscription"],
            account["resourceGroup"],
        ) == (subscription(), group or account["resourceGroup"])
        if command[2] == "show":
            if not own:
                raise Refused("(ResourceNotFound) The Resource 'Microsoft."
                              f"Storage/storageAccounts/{wanted}' under "
                              f"resource group '{group}' was not found.",
                              3)  # fmt: skip
            return emit(account, options)
        if group not in groups:
            raise Refused(f"(ResourceGroupNotFound) Resource group '{group}' "
                          "could not be found.", 3)  # fmt: skip
        if account is not None and not own:
            # Another subscription (another team) or resource group holds it.
            raise Refused(f"(StorageAccountAlreadyTaken) The storage account "
                          f"named {wanted} is already taken.", 1)  # fmt: skip
        if not re.fullmatch(r"[a-z0-9]{3,24}", wanted):
            raise Refused(f"(AccountNameInvalid) {wanted} is not a valid "
                          "storage account name.", 1)  # fmt: skip
        accounts[wanted] = {
            "id": f"/subscriptions/{subscription()}/resourceGroups/{group}/"
            f"providers/Microsoft.Storage/storageAccounts/{wanted}",
            "subscription": subscription(),
            "resourceGroup": group,
            "allowSharedKeyAccess": options.get("--allow-shared-key-access"),
            "containers": account["containers"] if account else [],
        }
        return ""
    if command == ("storage", "container-rm", "create"):
        check(state, "subscription", name)
        account = accounts.get(str(options["--storage-account"]))
        if account is None or (account["subscription"],
                               account["resourceGroup"]) != (
                subscription(), group):  # fmt: skip
            raise Refused("(ResourceNotFound) storage account not found", 3)
        if options["--name"] not in account["containers"]:
            account["containers"].append(options["--name"])
        return ""
    if command == ("role", "assignment", "create"):
        scope = str(options["--scope"])
        group_match = re.search(r"/resourceGroups/([^/]+)", scope)
        check(state, group_match[1] if group_match else "subscription", name)
        principal = options.get("--assignee-object-id") or options.get(
            "--assignee"
        )
        if not principal:
            raise Refused("usage error: --assignee STRING | "
                          "--assignee-object-id GUID")  # fmt: skip
        assign(state, str(principal), scope, str(options["--role"]))
        return ""
    raise Refused(f"'{name}' is not in this stand-in")


def main(args: list[str]) -> int:
    state = load()
    state["calls"].append(" ".join(args))
    out = ""
    try:
        # FAKE_AZ_TOKEN_LIFETIME (seconds): the CI's OIDC token behind the
        # session expires; a call after that is refused as Microsoft Entra
        # refuses the stale client assertion, until `az login` with a new
        # --federated-token.
        lifetime = os.environ.get("FAKE_AZ_TOKEN_LIFETIME")
        if args[:1] == ["login"]:
            if (
                "--federated-token" not in args
                or "--service-principal" not in args
            ):
                raise Refused("a CI login is --service-principal with "
                              "--federated-token")  # fmt: skip
            state["login_at"] = time.time()
            STATE.write_text(json.dumps(state, indent=1))
            return 0
        if (
            lifetime
            and args[:1] not in (["extension"], ["configure"])
            and time.time() - state.get("login_at", 0) > float(lifetime)
        ):
            raise Refused("AADSTS700024: Client assertion is not within its "
                          "valid time range.", 1)  # fmt: skip
        if args[:2] == ["account", "set"]:
            STATE.write_text(json.dumps(state, indent=1))
            return 0
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
        else:
            out = core(state, args)
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
