#!/usr/bin/env bash
# One-time set-up, safe to re-run: the GitHub environments that gate CD.
#
#   scripts/setup_github_environments.sh OWNER/REPO REVIEWER [REVIEWER...]
#
# REVIEWER is a GitHub user ("alice") or team ("my-org/ml-leads"). It creates
# four environments, each with its OWN Azure identity (an environment-scoped
# variable AZURE_CLIENT_ID, so a job gets only the identity of the
# environment it declares):
#   - the staging and production environments of deploy/project.env, which
#     only the default branch may deploy to; production waits for the
#     reviewers (a person may not approve their own run);
#   - monitoring (the scheduled monitor, default branch only);
#   - pull-request (a read-only identity for pull-request plans; any branch).
# Each also gets AZURE_TENANT_ID, AZURE_SUBSCRIPTION_ID, and where it has one,
# AZURE_RESOURCE_GROUP and AZUREML_WORKSPACE (variables, not secrets: with
# OIDC there is no secret). Needs `gh` logged in as a repository admin, and
# in the environment what scripts/setup_azure_federation.sh prints:
# AZURE_CLIENT_ID_<ENVIRONMENT> for each of the four, AZURE_TENANT_ID and
# AZURE_SUBSCRIPTION_ID.
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=release_lib.sh source-path=SCRIPTDIR
. scripts/release_lib.sh
load_project

repo="${1:?usage: $0 OWNER/REPO REVIEWER [REVIEWER...]}"
shift
if [[ $# -lt 1 ]]; then
  echo "error: name at least one reviewer for $PRODUCTION_ENVIRONMENT" >&2
  exit 2
fi
: "${AZURE_TENANT_ID:?set AZURE_TENANT_ID}"
: "${AZURE_SUBSCRIPTION_ID:?set AZURE_SUBSCRIPTION_ID}"
environments=("$STAGING_ENVIRONMENT" "$PRODUCTION_ENVIRONMENT" monitoring
  pull-request)
for environment in "${environments[@]}"; do
  variable="$(client_id_variable "$environment")"
  if [[ -z "${!variable:-}" ]]; then
    echo "error: set $variable (scripts/setup_azure_federation.sh)" >&2
    exit 2
  fi
done
branch="$DEFAULT_BRANCH"

reviewers=()
for reviewer in "$@"; do
  if [[ "$reviewer" == */* ]]; then
    id="$(gh api "orgs/${reviewer%%/*}/teams/${reviewer#*/}" --jq .id)"
    reviewers+=("{\"type\":\"Team\",\"id\":$id}")
  else
    id="$(gh api "users/$reviewer" --jq .id)"
    reviewers+=("{\"type\":\"User\",\"id\":$id}")
  fi
done
joined="$(IFS=,; echo "${reviewers[*]}")"

# configure NAME PROTECTION BRANCH_POLICY [SETTINGS_ENVIRONMENT]
configure() {
  local environment="$1" protection="$2" policy="$3" settings="${4:-}"
  local variable
  echo "environment $environment"
  gh api --method PUT "repos/$repo/environments/$environment" --input - <<JSON
{
  $protection
  "deployment_branch_policy": $policy
}
JSON
  if [[ "$policy" != null ]] && ! gh api \
    "repos/$repo/environments/$environment/deployment-branch-policies" \
    --jq '.branch_policies[].name' | grep -qx "$branch"; then
    gh api --method POST \
      "repos/$repo/environments/$environment/deployment-branch-policies" \
      -f name="$branch" -f type=branch >/dev/null
  fi
  variable="$(client_id_variable "$environment")"
  gh variable set AZURE_CLIENT_ID --repo "$repo" --env "$environment" \
    --body "${!variable}"
  gh variable set AZURE_TENANT_ID --repo "$repo" --env "$environment" \
    --body "$AZURE_TENANT_ID"
  gh variable set AZURE_SUBSCRIPTION_ID --repo "$repo" --env "$environment" \
    --body "$AZURE_SUBSCRIPTION_ID"
  if [[ -n "$settings" ]]; then
    (
      load_settings "$settings"
      gh variable set AZURE_RESOURCE_GROUP --repo "$repo" \
        --env "$environment" --body "$RESOURCE_GROUP"
      gh variable set AZUREML_WORKSPACE --repo "$repo" \
        --env "$environment" --body "$WORKSPACE"
    )
  fi
}

default_branch_only='{"protected_branches": false, "custom_branch_policies": true}'
configure "$STAGING_ENVIRONMENT" "" "$default_branch_only" \
  "$STAGING_ENVIRONMENT"
configure monitoring "" "$default_branch_only" "$PRODUCTION_ENVIRONMENT"
configure pull-request "" null
configure "$PRODUCTION_ENVIRONMENT" \
  "\"reviewers\": [$joined], \"prevent_self_review\": true," \
  "$default_branch_only" "$PRODUCTION_ENVIRONMENT"
echo "Done: $PRODUCTION_ENVIRONMENT now waits for: $*"
