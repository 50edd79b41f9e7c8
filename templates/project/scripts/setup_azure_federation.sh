#!/usr/bin/env bash
# One-time set-up, safe to re-run: the Azure identities that the pipelines
# log in as (infra/identities.yml), each trusted only by its own federated
# subjects, so that no cloud secret is stored anywhere.
#
#   scripts/setup_azure_federation.sh identities
#   scripts/setup_azure_federation.sh [github OWNER/REPO] \
#     [azure-devops ORG_URL PROJECT]
#
# Run it with your own `az login` as Owner (or User Access Administrator and
# Contributor) of the subscription. It registers the resource providers the
# platform uses, creates the Terraform state account (when infra/terraform
# exists: its name, unique to the subscription, is recorded in
# infra/terraform/state.backend.hcl, which you commit), then deploys
# identities.yml (with Bicep when infra/bicep exists,
# else Terraform): the resource groups of both environments and the
# identities with their roles and the trust you name. `identities` trusts
# nothing yet: Azure DevOps service connections need the identities first.
# In a second run, `azure-devops ORG_URL PROJECT` reads the exact issuer
# and subject each service connection <slug>-<identity> shows (new
# connections: the Microsoft Entra issuer and an opaque subject; older
# ones: https://vstoken.dev.azure.com/<org id> and sc://ORG/PROJECT/<name>)
# with `az devops` (the azure-devops extension) and trusts those. Name every
# CI system in each later run: a run without one removes its trust. It
# prints AZURE_CLIENT_ID_<IDENTITY> for each identity, AZURE_TENANT_ID and
# AZURE_SUBSCRIPTION_ID: the input of scripts/setup_github_environments.sh
# and scripts/setup_azure_devops.sh. With `gh` logged in, GitHub trust
# covers the repository's immutable subject (owner and repository IDs) as
# well as its name.
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=release_lib.sh source-path=SCRIPTDIR
. scripts/release_lib.sh
load_project

usage="usage: $0 identities | [github OWNER/REPO] [azure-devops ORG_URL PROJECT]"
github_repository=""
devops_org=""
devops_project=""
if [[ "${1:-}" == identities && $# -eq 1 ]]; then
  shift
elif [[ $# -eq 0 ]]; then
  echo "error: $usage" >&2
  exit 2
fi
# wants N ARGS...: the option in ARGS has N values after it.
wants() {
  local count="$1"
  shift
  if [[ $# -le "$count" ]]; then
    echo "error: '$1' needs $count value(s); $usage" >&2
    exit 2
  fi
}
while [[ $# -gt 0 ]]; do
  case "$1" in
    github)
      wants 1 "$@"
      github_repository="$2"
      [[ "$github_repository" =~ ^[A-Za-z0-9-]+/[A-Za-z0-9._-]+$ ]] || {
        echo "error: '$github_repository' is not OWNER/REPO" >&2
        exit 2
      }
      shift 2
      ;;
    azure-devops)
      wants 2 "$@"
      devops_org="${2%/}"
      devops_project="$3"
      [[ "$devops_org" =~ ^https://dev\.azure\.com/[A-Za-z0-9][A-Za-z0-9_.-]*$ ]] || {
        echo "error: ORG_URL '$devops_org' is not like" \
          "https://dev.azure.com/<org>" >&2
        exit 2
      }
      [[ "$devops_project" =~ ^[A-Za-z0-9][A-Za-z0-9\ ._-]*$ ]] || {
        echo "error: PROJECT '$devops_project' is not an Azure DevOps" \
          "project name" >&2
        exit 2
      }
      shift 3
      ;;
    *)
      echo "error: unknown argument '$1'; $usage" >&2
      exit 2
      ;;
  esac
done

# GitHub's token subject starts repo:<owner>/<repo>, or, for repositories
# with immutable subject claims (the default for repositories created or
# renamed since mid-2026), repo:<owner>@<owner id>/<repo>@<repo id>. Trust
# both: only this repository can present the immutable one.
github_prefixes="[]"
if [[ -n "$github_repository" ]]; then
  github_prefixes="[\"repo:$github_repository\"]"
  if command -v gh >/dev/null 2>&1; then
    immutable="$(gh api "repos/$github_repository" \
      --jq '"repo:\(.owner.login)@\(.owner.id)/\(.name)@\(.id)"')"
    github_prefixes="[\"repo:$github_repository\", \"$immutable\"]"
  else
    echo "warning: without gh, only the name-based subject repo:$github_repository" \
      "is trusted; repositories with immutable subject claims need gh" >&2
  fi
fi

config="infra/identities.yml"
# `yaml_value KEY`: a top-level scalar of identities.yml.
yaml_value() { sed -n "s/^$1: *//p" "$config"; }
# The identities' keys and resource names, in file order.
identity_names() {
  awk '/^identities:/ {inside = 1; next}
    inside && /^[^# ]/ {inside = 0}
    inside && /^  [a-z0-9-]+:$/ {key = substr($1, 1, length($1) - 1)}
    inside && /^    name: / {print key, $2}' "$config"
}
# The Azure DevOps service connection of each identity, in file order.
connection_names() {
  awk '/^identities:/ {inside = 1; next}
    inside && /^[^# ]/ {inside = 0}
    inside && /^    azure_devops: / {print $2}' "$config"
}
identity_group="$(yaml_value identity_resource_group)"

# What each service connection shows it presents: {"<connection>":
# {"issuer": ..., "subject": ...}}. Read, not derived: a connection's
# subject is opaque unless it predates the Microsoft Entra issuer.
devops_subjects="{}"
if [[ -n "$devops_org" ]]; then
  devops_args=(--organization "$devops_org" --project "$devops_project")
  shown="$(mktemp)"
  trap 'rm -f "$shown"' EXIT
  while read -r connection; do
    id="$(az devops service-endpoint list "${devops_args[@]}" \
      --query "[?name=='$connection'].id | [0]" --output tsv)"
    if [[ -z "$id" ]]; then
      echo "error: no service connection '$connection' in" \
        "$devops_org/$devops_project; run scripts/setup_azure_devops.sh" \
        "first" >&2
      exit 1
    fi
    az devops service-endpoint show "${devops_args[@]}" --id "$id" \
      --query "{name: name, issuer: authorization.parameters.workloadIdentityFederationIssuer, subject: authorization.parameters.workloadIdentityFederationSubject}" \
      --output json >> "$shown"
  done < <(connection_names)
  devops_subjects="$(python3 - "$shown" <<'PY'
import json, sys
text = open(sys.argv[1], encoding="utf-8").read()
decoder, found, at = json.JSONDecoder(), {}, 0
while text[at:].strip():
    at += len(text[at:]) - len(text[at:].lstrip())
    shown, at = decoder.raw_decode(text, at)
    issuer, subject = shown.get("issuer") or "", shown.get("subject") or ""
    if not issuer.startswith("https://") or not subject:
        sys.exit(f"error: service connection {shown.get('name')} shows no "
                 "workload identity federation issuer and subject; is it a "
                 "workload identity federation connection?")
    found[shown["name"]] = {"issuer": issuer, "subject": subject}
print(json.dumps(found, separators=(",", ":")))
PY
)"
  echo "Azure DevOps: trusting what each service connection shows:"
  echo "$devops_subjects"
fi
location="$(yaml_value location)"

# The deployers cannot register resource providers (a subscription-wide
# action): register the ones the platform uses, once.
for namespace in Microsoft.MachineLearningServices Microsoft.Storage \
  Microsoft.KeyVault Microsoft.ContainerRegistry Microsoft.Insights \
  Microsoft.OperationalInsights Microsoft.ManagedIdentity; do
  az provider register --namespace "$namespace" --wait --output none
done

# The Terraform state account. Storage account names are global, and two
# teams may call their projects alike: the name is the prefix in
# identities.yml and a suffix derived here, once, from the subscription and
# the state's resource group. It is recorded in state.backend.hcl (commit
# it), where Terraform's backend, scripts/infra.sh and later runs of this
# script read it; nothing derives it again.
state_record="infra/terraform/state.backend.hcl"
# `state_value KEY`: a value of the state section of identities.yml.
state_value() {
  awk -v key="$1:" '/^state:/ {inside = 1; next}
    inside && /^[^# ]/ {inside = 0}
    inside && $1 == key {print $2}' "$config"
}
state_account=""
if [[ -d infra/terraform ]]; then
  state_group="$(state_value resource_group)"
  state_container="$(state_value container)"
  if [[ -f "$state_record" ]]; then
    state_account="$(sed -n 's/^ *storage_account_name *= *"\(.*\)"/\1/p' \
      "$state_record")"
    if [[ -z "$state_account" ]]; then
      echo "error: $state_record names no storage_account_name" >&2
      exit 1
    fi
  else
    subscription="$(az account show --query id --output tsv)"
    suffix="$(python3 -c 'import hashlib, sys
print(hashlib.sha1(sys.argv[1].lower().encode()).hexdigest()[:6])' \
      "/subscriptions/$subscription/resourceGroups/$state_group")"
    state_account="$(state_value storage_account_prefix)$suffix"
  fi
  echo "Terraform state: $state_account/$state_container"
  az group create --name "$state_group" --location "$location" --output none
  if ! az storage account show --name "$state_account" \
    --resource-group "$state_group" --output none 2>/dev/null; then
    if ! az storage account create --name "$state_account" \
      --resource-group "$state_group" --location "$location" \
      --sku Standard_GRS --kind StorageV2 --https-only true \
      --min-tls-version TLS1_2 --allow-blob-public-access false \
      --allow-shared-key-access false --output none; then
      echo "error: cannot create the Terraform state account $state_account" \
        "in $state_group of this subscription. If $state_record came from" \
        "another subscription, remove it and run this script again: it" \
        "derives a name for this one." >&2
      exit 1
    fi
  fi
  az storage container-rm create --storage-account "$state_account" \
    --resource-group "$state_group" --name "$state_container" --output none
  # You reach the state with Microsoft Entra ID too: Owner has no data role.
  az role assignment create --assignee-object-id \
    "$(az ad signed-in-user show --query id --output tsv)" \
    --assignee-principal-type User --role "Storage Blob Data Contributor" \
    --scope "$(az storage account show --name "$state_account" \
      --resource-group "$state_group" --query id --output tsv)/blobServices/default/containers/$state_container" \
    --output none
  # Recorded once the account exists in this subscription, never before.
  if [[ ! -f "$state_record" ]]; then
    cat > "$state_record" <<HCL
# The Terraform state account, chosen by scripts/setup_azure_federation.sh
# when it created the account: the prefix in infra/identities.yml and a
# suffix derived from the subscription and $state_group (storage account
# names are global). Commit this file: Terraform's backend (scripts/infra.sh
# and the identities deployment) reads the name from here.
storage_account_name = "$state_account"
HCL
    echo "Recorded the state account in $state_record: commit it."
  fi
fi

if [[ -d infra/bicep ]]; then
  echo "Identities: deploying infra/bicep/identities.bicep"
  parameters=(githubSubjectPrefixes="$github_prefixes"
    azureDevOpsSubjects="$devops_subjects")
  if [[ -n "$state_account" ]]; then
    parameters+=(stateStorageAccount="$state_account")
  fi
  az deployment sub create --location "$location" \
    --name "identities-$(date -u +%Y%m%d%H%M%S)" \
    --template-file infra/bicep/identities.bicep \
    --parameters "${parameters[@]}" --output none
elif [[ -d infra/terraform ]]; then
  echo "Identities: applying infra/terraform/identities"
  root="infra/terraform/identities"
  # azurerm 4 no longer takes the subscription from the CLI session.
  ARM_SUBSCRIPTION_ID="$(az account show --query id --output tsv)"
  export ARM_SUBSCRIPTION_ID
  # A new data role can take minutes to reach the storage service.
  for attempt in 1 2 3 4 5 6; do
    if terraform -chdir="$root" init -input=false -reconfigure \
      -backend-config=../state.backend.hcl \
      -backend-config=identities.backend.hcl >/dev/null; then
      break
    fi
    [[ "$attempt" -lt 6 ]] || exit 1
    echo "waiting for the state account's role assignment..."
    sleep 30
  done
  # One write at a time: Entra ID refuses concurrent writes of one
  # identity's federated credentials.
  terraform -chdir="$root" apply -input=false -auto-approve -parallelism=1 \
    -var "github_subject_prefixes=$github_prefixes" \
    -var "azure_devops_subjects=$devops_subjects" \
    -var "state_storage_account=$state_account"
else
  echo "error: this project has no infra/ code; create the identities that" \
    "$config lists by hand, or add infra code (docs/deployment.md)" >&2
  exit 1
fi

tenant_id="$(az account show --query tenantId --output tsv)"
subscription_id="$(az account show --query id --output tsv)"
echo
echo "AZURE_TENANT_ID=$tenant_id"
echo "AZURE_SUBSCRIPTION_ID=$subscription_id"
while read -r key name; do
  client_id="$(az identity show --resource-group "$identity_group" \
    --name "$name" --query clientId --output tsv)"
  echo "AZURE_CLIENT_ID_$(printf '%s' "$key" | tr 'a-z-' 'A-Z_')=$client_id"
done < <(identity_names)
