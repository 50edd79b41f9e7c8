"""MS207: log in to the cloud with OIDC / workload identity, not a stored
secret. Read from the document's values, never its text, so a comment
cannot hide a use (``echo "##vso[...]$(ARM_CLIENT_SECRET)"``) or make
one. One finding per line."""

import re
from collections.abc import Iterator
from typing import Any

from ..model import AZURE, PipelineFile
from . import Hit, Rule, RuleMeta

_NAMES = (
    r"AZURE_CREDENTIALS|(?:AZURE|ARM)_CLIENT_SECRET|SERVICE_PRINCIPAL_KEY|"
    r"servicePrincipalKey|AWS_SECRET_ACCESS_KEY|GOOGLE_CREDENTIALS|"
    r"GCP_SA_KEY|ARM_ACCESS_KEY"
)
# A cloud secret read from the secret store: `secrets.NAME` (GitHub),
# `$(NAME)` (Azure), or a cloud login variable set from a secret.
SECRET_USE = re.compile(
    rf"secrets\.\w*(?P<a>{_NAMES})|\$\(\w*(?P<b>{_NAMES})\)",
    re.IGNORECASE,
)
SECRET_NAME = re.compile(rf"^(?:{_NAMES})$", re.IGNORECASE)

# Data flow of a secret, whatever it is called (Azure/mlops-templates
# infra/create-sp-variables.yml and infra/run-terraform-apply.yml do both):
# a password or client secret written on a command line (visible in the
# process list and in logs that echo commands) ...
_ON_COMMAND_LINE = re.compile(
    r"\baz\s+login\b[^\n]*?\s(?:-p|--password)[\s=]+(?!\S*federated)\S"
    r"|\bclient[_-]secret\s*=\s*\S"
    r"|--client-secret[\s=]+\S",
    re.IGNORECASE,
)
# ... a secret-looking variable set without `issecret=true` (it is then
# printed in clear in every later log) ...
_SET_VARIABLE = re.compile(
    r"##vso\[task\.setvariable\b(?P<props>[^\]]*)\]", re.IGNORECASE
)
_SECRET_WORD = re.compile(
    r"secret|password|passwd|token|(?:access|account|client|api|sp)"
    r"_?key|servicePrincipalKey|connection_?string|credential",
    re.IGNORECASE,
)
# ... or a secret echoed to the log.
_ECHO = re.compile(
    r"^\s*(?:echo|printf|write-host|write-output|print)\b(?P<rest>[^\n]*)",
    re.IGNORECASE | re.MULTILINE,
)
_SECRET_REFERENCE = re.compile(
    r"\$\{\{\s*secrets\.(?P<a>\w+)\s*\}\}|\$\((?P<b>[\w.]+)\)"
    r"|\$\{?(?:env:)?(?P<c>servicePrincipalKey|\w*(?:SECRET|PASSWORD)\w*)\b",
    re.IGNORECASE,
)


def _flows(command: str, azure: bool) -> Iterator[str]:
    """What a script does with a secret that it must not."""
    if match := _ON_COMMAND_LINE.search(command):
        yield (
            "a secret is written on a command line "
            f"(`{' '.join(match.group(0).split())[:60]}`): it shows in the "
            "process list and in logs"
        )
    for match in _SET_VARIABLE.finditer(command):
        props = match["props"]
        name = re.search(r"variable\s*=\s*([^;\s]+)", props, re.IGNORECASE)
        if (
            name
            and _SECRET_WORD.search(name.group(1))
            and not re.search(r"issecret\s*=\s*true", props, re.IGNORECASE)
        ):
            yield (
                f"`{name.group(1)}` is set with task.setvariable without "
                "`issecret=true`: later logs print it in clear"
            )
    for match in _ECHO.finditer(command):
        for ref in _SECRET_REFERENCE.finditer(match["rest"]):
            if ref["b"] and not azure:
                continue  # `$( )` is the shell's command substitution here
            secret = str(ref["a"] or ref["b"] or ref["c"] or "")
            if ref["a"] or _SECRET_WORD.search(secret):
                yield f"a secret is echoed to the log: `{secret}`"
                break


_MAX_VALUES = 200_000  # the bounded loader's own limit on a document


class StoredSecrets(Rule):
    meta = RuleMeta(
        "MS207", "oidc-not-stored-secrets", "error",
        why="a stored cloud secret can leak and does not expire",
        fix="log in with OIDC / workload identity federation (azure/login "
        "with client-id, tenant-id and subscription-id; an Azure service "
        "connection using workload identity)",
    )  # fmt: skip

    def file(self, pipeline: PipelineFile) -> Iterator[Hit]:
        lines: dict[int, str] = {}
        for path, key, value in _values(pipeline.data):
            line = pipeline.lines.get(path)
            if line is None:
                continue
            match = SECRET_USE.search(value)
            if match:
                name = match["a"] or match["b"]
                lines[line] = f"a stored cloud secret is used: `{name}`"
            elif SECRET_NAME.match(key) and "secrets." in value:
                lines[line] = f"a stored cloud secret is used: `{key}`"
        for job in pipeline.jobs():
            for step in job.steps:
                if step.command:
                    where = _command_path(pipeline, step)
                    line = pipeline.lines.get(where) if where else None
                    for message in _flows(
                        step.command, pipeline.provider == AZURE
                    ):
                        lines.setdefault(line or 1, message)
                spn = {str(k).lower(): v for k, v in step.inputs.items()}
                if (
                    str(spn.get("addspntoenvironment", "")).lower() == "true"
                    and step.command
                    and re.search(r"servicePrincipalKey", step.command, re.I)
                ):
                    line = pipeline.lines.get((*step.path, "inputs"))
                    lines.setdefault(
                        line or 1,
                        "addSpnToEnvironment hands the script the service "
                        "principal's key ($servicePrincipalKey): use workload "
                        "identity federation ($idToken) instead",
                    )
                if (step.uses or "").lower().startswith("azure/login") and (
                    "creds" in step.inputs
                ):
                    path = (*step.path, "with", "creds")
                    found = pipeline.lines.get(path)
                    if found is not None:
                        lines[found] = (
                            "azure/login uses a stored credential (creds)"
                        )
        permissions = [((), pipeline.mapping.get("permissions"))] + [
            (job.path, job.raw.get("permissions")) for job in pipeline.jobs()
        ]
        for where, value in permissions:
            if isinstance(value, str) and value.strip() == "write-all":
                found = pipeline.lines.get((*where, "permissions"))
                if found is not None:
                    lines.setdefault(
                        found,
                        "`permissions: write-all` hands every step a token "
                        "that can write to the repository, packages and "
                        "deployments: name the scopes the job needs",
                    )
        for number, message in sorted(lines.items()):
            yield Hit(number, message)


def _command_path(pipeline: PipelineFile, step: Any) -> tuple[Any, ...] | None:
    """Where the step's script is written: its run/script key, or the
    task input that holds it."""
    for key in ("run", "script", "bash", "pwsh", "powershell"):
        if key in step.raw:
            return (*step.path, key)
    for key in step.inputs:
        if str(key).lower() in ("script", "inlinescript", "inline"):
            return (*step.path, "inputs", key)
    return None


def _values(data: Any) -> Iterator[tuple[tuple[Any, ...], str, str]]:
    """(path, key, text) of every string value in the document."""
    stack: list[tuple[tuple[Any, ...], Any]] = [((), data)]
    seen = 0
    while stack and seen < _MAX_VALUES:
        seen += 1
        path, node = stack.pop()
        if isinstance(node, dict):
            for key, value in node.items():
                if isinstance(value, str):
                    yield (*path, key), str(key), value
                else:
                    stack.append(((*path, key), value))
        elif isinstance(node, list):
            for index, value in enumerate(node):
                if isinstance(value, str):
                    yield (*path, index), "", value
                else:
                    stack.append(((*path, index), value))
