"""MS207: log in to the cloud with OIDC / workload identity, not a stored
secret. Read from the document's values, never its text, so a comment
cannot hide a use (``echo "##vso[...]$(ARM_CLIENT_SECRET)"``) or make
one. One finding per line."""

import re
from collections.abc import Iterator
from typing import Any

from ..model import PipelineFile
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
                if (step.uses or "").lower().startswith("azure/login") and (
                    "creds" in step.inputs
                ):
                    path = (*step.path, "with", "creds")
                    found = pipeline.lines.get(path)
                    if found is not None:
                        lines[found] = (
                            "azure/login uses a stored credential (creds)"
                        )
        for number, message in sorted(lines.items()):
            yield Hit(number, message)


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
