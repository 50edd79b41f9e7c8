#!/usr/bin/env bash
# One-time set-up, safe to re-run: one Azure identity per CI/CD environment,
# each trusted only through OIDC / workload identity federation (no cloud
# secret stored anywhere) and each holding only the roles its jobs need:
#
#   <slug>-<staging>      AzureML Data Scientist and Storage Blob Data
#   <slug>-<production>   Contributor, each on its own resource group only
#   <slug>-monitoring     Reader + Storage Blob Data Reader on production
#   <slug>-pull-request   Reader on both resource groups (plans, reviews)
#
# Staging and production never share an identity, and nothing a pull request
# can run reaches a write role.
#
#   scripts/setup_azure_federation.sh github OWNER/REPO
#   scripts/setup_azure_federation.sh identities
#   scripts/setup_azure_federation.sh azure-devops ISSUER SUBJECT_PREFIX
#
# GitHub: each identity trusts `repo:OWNER/REPO:environment:<name>` (the jobs
# declare `environment:`); then run scripts/setup_github_environments.sh.
# Azure DevOps, in three steps, because the service connections need the
# identities and the identities need the connections' issuer: `identities`
# (apps and roles, no trust yet), then scripts/setup_azure_devops.sh (which
# prints the issuer and the subjects sc://ORG/PROJECT/<slug>-<name>), then
# `azure-devops ISSUER sc://ORG/PROJECT` (each identity trusts its own
# connection). Needs `az` logged in with rights to create app registrations
# and role assignments on the resource groups (deploy/environments/*.env):
# Owner or User Access Administrator. Prints the client id of each identity
# as AZURE_CLIENT_ID_<NAME>=..., the input of the other set-up scripts.
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=release_lib.sh source-path=SCRIPTDIR
. scripts/release_lib.sh
load_project

usage="usage: $0 github OWNER/REPO | identities | azure-devops ISSUER SUBJECT_PREFIX"
mode="${1:?$usage}"
case "$mode" in
  github) repo="${2:?$usage}" ;;
  identities) ;;
  azure-devops) issuer="${2:?$usage}" prefix="${3:?$usage}" ;;
  *)
    echo "error: the first argument is 'github', 'identities' or" \
      "'azure-devops'" >&2
    exit 2
    ;;
esac

group_scope() {
  local group
  group="$(sed -n 's/^RESOURCE_GROUP=//p' "deploy/environments/$1.env")"
  if ! az group show --name "$group" --query id -o tsv; then
    echo "error: resource group $group ($1) not found: create the" \
      "infrastructure first (docs/deployment.md)" >&2
    return 1
  fi
}

# identity NAME: the app registration (and its service principal) for NAME.
identity() {
  local display="$PROJECT_SLUG-$1" app_id
  app_id="$(az ad app list --display-name "$display" --query '[0].appId' -o tsv)"
  if [[ -z "$app_id" ]]; then
    app_id="$(az ad app create --display-name "$display" --query appId -o tsv)"
    az ad sp create --id "$app_id" >/dev/null
  fi
  printf '%s\n' "$app_id"
}

# trust APP_ID NAME: accept tokens for NAME's environment / service connection.
trust() {
  local app_id="$1" name="$2" credential token_issuer subject
  if [[ "$mode" == github ]]; then
    credential="github-$name"
    token_issuer="https://token.actions.githubusercontent.com"
    subject="repo:$repo:environment:$name"
  else
    credential="azure-devops-$name"
    token_issuer="$issuer"
    subject="$prefix/$PROJECT_SLUG-$name"
  fi
  if az ad app federated-credential list --id "$app_id" \
    --query "[?name=='$credential'].name" -o tsv | grep -qx "$credential"; then
    echo "federated credential $credential exists" >&2
    return
  fi
  az ad app federated-credential create --id "$app_id" --parameters "{
    \"name\": \"$credential\",
    \"issuer\": \"$token_issuer\",
    \"subject\": \"$subject\",
    \"audiences\": [\"api://AzureADTokenExchange\"]
  }" >/dev/null
  echo "federated credential $credential created" >&2
}

# grant APP_ID SCOPE ROLE...: role assignments (re-running changes nothing).
grant() {
  local app_id="$1" scope="$2" role
  shift 2
  for role in "$@"; do
    az role assignment create --assignee "$app_id" --role "$role" \
      --scope "$scope" >/dev/null
  done
}

staging_scope="$(group_scope "$STAGING_ENVIRONMENT")"
production_scope="$(group_scope "$PRODUCTION_ENVIRONMENT")"

for name in "$STAGING_ENVIRONMENT" "$PRODUCTION_ENVIRONMENT" monitoring \
  pull-request; do
  app_id="$(identity "$name")"
  if [[ "$mode" != identities ]]; then
    trust "$app_id" "$name"
  fi
  case "$name" in
    "$STAGING_ENVIRONMENT")
      grant "$app_id" "$staging_scope" "AzureML Data Scientist" \
        "Storage Blob Data Contributor"
      ;;
    "$PRODUCTION_ENVIRONMENT")
      grant "$app_id" "$production_scope" "AzureML Data Scientist" \
        "Storage Blob Data Contributor"
      ;;
    monitoring)
      grant "$app_id" "$production_scope" "Reader" "Storage Blob Data Reader"
      ;;
    pull-request)
      grant "$app_id" "$staging_scope" "Reader"
      grant "$app_id" "$production_scope" "Reader"
      ;;
  esac
  echo "$(client_id_variable "$name")=$app_id"
done
echo "AZURE_TENANT_ID=$(az account show --query tenantId -o tsv)"
echo "AZURE_SUBSCRIPTION_ID=$(az account show --query id -o tsv)"
