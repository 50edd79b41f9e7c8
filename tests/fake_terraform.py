"""A strict stand-in for `terraform init` against the azurerm state backend:
it refuses what the real backend refuses for the login the pipelines use.

Rules, from the backend's sources:

- Before 1.11 (hashicorp/terraform internal/backend/remote-state/azure,
  go-azure-helpers authentication/auth_method_azure_cli_token.go): with no
  access key, client secret, MSI or OIDC settings the backend authenticates
  through the Azure CLI, and refuses a CLI session that is not a user:
  "Authenticating using the Azure CLI is only supported as a User (not a
  Service Principal)" (hashicorp/terraform#35915, seen with 1.9.8). Its
  schema has no `use_cli`, so a backend config that sets it is refused.
- From 1.11 (hashicorp/terraform#36258, go-azure-sdk): `use_cli` exists,
  defaults to true (ARM_USE_CLI), and the CLI session may be a service
  principal or managed identity.
- `required_version` must admit the running version ("Unsupported
  Terraform Core version").
- The backend's required arguments (storage_account_name, container_name,
  key) must be set by the -backend-config files together, and each file
  must exist.

Driven by FAKE_TERRAFORM_VERSION and FAKE_AZ_USER_TYPE (what `az account
show --query user.type` says: user or servicePrincipal); every call is
appended to FAKE_LOG.
"""

from __future__ import annotations

import os
import re
import sys
from pathlib import Path

AUTH_SETTINGS_BEFORE_1_11 = {
    "resource_group_name", "storage_account_name", "container_name", "key",
    "environment", "endpoint", "metadata_host", "snapshot", "subscription_id",
    "tenant_id", "client_id", "client_secret", "client_certificate_password",
    "client_certificate_path", "access_key", "sas_token", "use_msi",
    "msi_endpoint", "use_oidc", "oidc_request_url", "oidc_request_token",
    "oidc_token", "oidc_token_file_path", "use_azuread_auth",
}  # fmt: skip
FROM_1_11 = AUTH_SETTINGS_BEFORE_1_11 | {
    "use_cli", "use_aks_workload_identity",
    "ado_pipeline_service_connection_id",
    "lookup_blob_endpoint", "client_id_file_path", "client_secret_file_path",
}  # fmt: skip


def version_tuple(text: str) -> tuple[int, ...]:
    return tuple(int(part) for part in text.split("."))


def admits(constraint: str, version: str) -> bool:
    for clause in constraint.split(","):
        op, wanted = re.fullmatch(
            r"\s*(>=|<=|>|<|=|~>)?\s*([0-9.]+)\s*", clause
        ).groups()
        have, want = version_tuple(version), version_tuple(wanted)
        ok = {
            ">=": have >= want, ">": have > want, "<": have < want,
            "<=": have <= want, "=": have == want, None: have == want,
            "~>": have >= want and have[: len(want) - 1] == want[:-1],
        }[op]  # fmt: skip
        if not ok:
            return False
    return True


def truthy(value: str | None) -> bool:
    return str(value).strip().strip('"').lower() in {"true", "1"}


def backend_settings(path: Path) -> dict[str, str]:
    settings = {}
    for line in path.read_text().splitlines():
        match = re.fullmatch(r"\s*(\w+)\s*=\s*(.+?)\s*", line)
        if match and not line.lstrip().startswith("#"):
            settings[match[1]] = match[2].strip('"')
    return settings


def init(root: Path, args: list[str], version: str) -> str | None:
    """The error the real `terraform init` would print, or None."""
    versions = (root / "versions.tf").read_text()
    required = re.search(r'required_version\s*=\s*"([^"]+)"', versions)
    if required and not admits(required[1], version):
        return (
            f"Error: Unsupported Terraform Core version: this configuration "
            f"requires {required[1]}; this is {version}"
        )
    config = [
        a.split("=", 1)[1] for a in args if a.startswith("-backend-config=")
    ]
    if "-backend=false" in args:
        return None
    settings: dict[str, str] = {}
    for item in config:
        if not (root / item).is_file():
            return (
                f"Error: Failed to read file: The file {item!r} could not "
                "be read."
            )
        settings.update(backend_settings(root / item))
    for name in ("storage_account_name", "container_name", "key"):
        if not settings.get(name):
            return (
                f'Error: Missing required argument: The argument "{name}" '
                "is required, but was not set."
            )
    known = (
        FROM_1_11
        if version_tuple(version) >= (1, 11)
        else AUTH_SETTINGS_BEFORE_1_11
    )
    for name in settings:
        if name not in known:
            return (
                f'Error: Invalid backend configuration argument: "{name}" is '
                f"not expected for the azurerm backend of Terraform {version}"
            )
    env = os.environ
    explicit = (
        settings.get("access_key") or settings.get("sas_token")
        or settings.get("client_secret") or env.get("ARM_CLIENT_SECRET")
        or truthy(settings.get("use_msi") or env.get("ARM_USE_MSI"))
        or truthy(settings.get("use_oidc") or env.get("ARM_USE_OIDC"))
    )  # fmt: skip
    if explicit:
        return None
    user_type = env.get("FAKE_AZ_USER_TYPE", "user")
    if version_tuple(version) < (1, 11):
        if user_type != "user":
            return (
                "Error: Error building ARM Config: Authenticating using the "
                "Azure CLI is only supported as a User (not a Service "
                "Principal)."
            )
        return None
    if not truthy(settings.get("use_cli", env.get("ARM_USE_CLI", "true"))):
        return "Error: no authentication method is enabled for the backend"
    return None


def main(argv: list[str]) -> int:
    with open(os.environ["FAKE_LOG"], "a") as log:
        log.write("terraform " + " ".join(argv) + "\n")
    chdir = Path(".")
    rest = []
    for arg in argv:
        if arg.startswith("-chdir="):
            chdir = Path(arg.split("=", 1)[1])
        else:
            rest.append(arg)
    if rest and rest[0] == "init":
        error = init(chdir, rest[1:], os.environ["FAKE_TERRAFORM_VERSION"])
        if error:
            print(error, file=sys.stderr)
            return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
