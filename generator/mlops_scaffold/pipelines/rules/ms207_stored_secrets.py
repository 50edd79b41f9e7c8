"""MS207: log in to the cloud with OIDC / workload identity, not a stored
secret. One finding per line."""

import re

from . import Hit, rule

SECRET_NAMES = re.compile(
    r"AZURE_CREDENTIALS|CLIENT_SECRET|SERVICE_PRINCIPAL_KEY|"
    r"servicePrincipalKey|AWS_SECRET_ACCESS_KEY|GOOGLE_CREDENTIALS|"
    r"GCP_SA_KEY|ARM_ACCESS_KEY",
    re.IGNORECASE,
)


@rule(
    "MS207", "oidc-not-stored-secrets", severity="error",
    why="a stored cloud secret can leak and does not expire",
    fix="log in with OIDC / workload identity federation (azure/login "
    "with client-id, tenant-id and subscription-id; an Azure service "
    "connection using workload identity)",
)  # fmt: skip
def stored_secrets(pipeline, repository):
    lines = {}
    for number, line in enumerate(pipeline.text.splitlines(), start=1):
        code = line.split("#", 1)[0]
        match = SECRET_NAMES.search(code)
        if match and ("secrets." in code or "$(" in code or ":" in code):
            lines[number] = f"a stored cloud secret is used: `{match[0]}`"
    for job in pipeline.jobs():
        for step in job.steps:
            if (step.uses or "").lower().startswith("azure/login") and (
                "creds" in step.inputs
            ):
                path = (*step.path, "with", "creds")
                number = pipeline.lines.get(path)
                if number is not None:
                    lines[number] = (
                        "azure/login uses a stored credential (creds)"
                    )
    for number, message in sorted(lines.items()):
        yield Hit(number, message)
