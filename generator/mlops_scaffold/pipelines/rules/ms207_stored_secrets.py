"""MS207: log in to the cloud with OIDC / workload identity, not a stored
secret. One finding per line."""

import re
from collections.abc import Iterator

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
    rf"secrets\.\w*(?P<a>{_NAMES})|\$\(\w*(?P<b>{_NAMES})\)"
    rf"|^\s*(?P<c>{_NAMES})\s*:\s*.*secrets\.",
    re.IGNORECASE,
)


class StoredSecrets(Rule):
    meta = RuleMeta(
        "MS207", "oidc-not-stored-secrets", "error",
        why="a stored cloud secret can leak and does not expire",
        fix="log in with OIDC / workload identity federation (azure/login "
        "with client-id, tenant-id and subscription-id; an Azure service "
        "connection using workload identity)",
    )  # fmt: skip

    def file(self, pipeline: PipelineFile) -> Iterator[Hit]:
        lines = {}
        for number, line in enumerate(pipeline.text.splitlines(), start=1):
            code = line.split("#", 1)[0]
            match = SECRET_USE.search(code)
            if match:
                name = match["a"] or match["b"] or match["c"]
                lines[number] = f"a stored cloud secret is used: `{name}`"
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
