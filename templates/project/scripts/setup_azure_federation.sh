#!/usr/bin/env bash
# One-time set-up, safe to re-run: the Azure identity that CI/CD logs in as,
# trusted through OIDC / workload identity federation, so that no cloud
# secret is stored anywhere.
#
#   scripts/setup_azure_federation.sh github OWNER/REPO
#   scripts/setup_azure_federation.sh azure-devops ISSUER SUBJECT_PREFIX
#
# For GitHub it trusts tokens for the repository's staging and production
# environments (deploy/project.env); for Azure DevOps, the issuer and subject
# that scripts/setup_azure_devops.sh prints for each service connection. Needs
# `az` logged in with rights to create app registrations and role
# assignments on the two resource groups (deploy/environments/*.env).
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=release_lib.sh source-path=SCRIPTDIR
. scripts/release_lib.sh
load_project

mode="${1:?usage: $0 github OWNER/REPO | azure-devops ISSUER SUBJECT_PREFIX}"
app_name="$PROJECT_SLUG-cicd"

app_id="$(az ad app list --display-name "$app_name" --query '[0].appId' -o tsv)"
if [[ -z "$app_id" ]]; then
  app_id="$(az ad app create --display-name "$app_name" --query appId -o tsv)"
  az ad sp create --id "$app_id" >/dev/null
fi

add_credential() {
  local name="$1" issuer="$2" subject="$3"
  if az ad app federated-credential list --id "$app_id" \
    --query "[?name=='$name'].name" -o tsv | grep -qx "$name"; then
    echo "federated credential $name exists"
    return
  fi
  az ad app federated-credential create --id "$app_id" --parameters "{
    \"name\": \"$name\",
    \"issuer\": \"$issuer\",
    \"subject\": \"$subject\",
    \"audiences\": [\"api://AzureADTokenExchange\"]
  }" >/dev/null
  echo "federated credential $name created"
}

for environment in "$STAGING_ENVIRONMENT" "$PRODUCTION_ENVIRONMENT"; do
  case "$mode" in
    github)
      repo="${2:?usage: $0 github OWNER/REPO}"
      add_credential "github-$environment" \
        "https://token.actions.githubusercontent.com" \
        "repo:$repo:environment:$environment"
      # The monitor workflow's environment, and pull requests' plans.
      add_credential "github-monitoring" \
        "https://token.actions.githubusercontent.com" \
        "repo:$repo:environment:monitoring"
      add_credential "github-pull-requests" \
        "https://token.actions.githubusercontent.com" \
        "repo:$repo:pull_request"
      ;;
    azure-devops)
      issuer="${2:?usage: $0 azure-devops ISSUER SUBJECT_PREFIX}"
      prefix="${3:?usage: $0 azure-devops ISSUER SUBJECT_PREFIX}"
      add_credential "azure-devops-$environment" "$issuer" \
        "$prefix/$PROJECT_SLUG-$environment"
      ;;
    *)
      echo "error: the first argument is 'github' or 'azure-devops'" >&2
      exit 2
      ;;
  esac
  group="$(sed -n 's/^RESOURCE_GROUP=//p' "deploy/environments/$environment.env")"
  scope="$(az group show --name "$group" --query id -o tsv)"
  for role in "AzureML Data Scientist" "Contributor"; do
    az role assignment create --assignee "$app_id" --role "$role" \
      --scope "$scope" >/dev/null
  done
done

echo "AZURE_CLIENT_ID=$app_id"
echo "AZURE_TENANT_ID=$(az account show --query tenantId -o tsv)"
echo "AZURE_SUBSCRIPTION_ID=$(az account show --query id -o tsv)"
