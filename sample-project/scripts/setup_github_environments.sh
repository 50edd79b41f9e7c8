#!/usr/bin/env bash
# One-time set-up, safe to re-run: the GitHub environments that gate CD.
#
#   scripts/setup_github_environments.sh OWNER/REPO REVIEWER [REVIEWER...]
#
# REVIEWER is a GitHub user ("alice") or team ("my-org/ml-leads"). It creates
# the staging and production environments of deploy/project.env, lets only
# the default branch deploy to them, puts the reviewers in front of
# production (a person may not approve
# their own run), and stores the Azure identity's IDs as environment
# variables (not secrets: with OIDC there is no secret). Needs `gh` logged in
# as a repository admin, and AZURE_CLIENT_ID, AZURE_TENANT_ID and
# AZURE_SUBSCRIPTION_ID in the environment (scripts/setup_azure_federation.sh
# prints them).
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
: "${AZURE_CLIENT_ID:?set AZURE_CLIENT_ID}" "${AZURE_TENANT_ID:?set AZURE_TENANT_ID}"
: "${AZURE_SUBSCRIPTION_ID:?set AZURE_SUBSCRIPTION_ID}"
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

configure() {
  local environment="$1" protection="$2"
  echo "environment $environment"
  gh api --method PUT "repos/$repo/environments/$environment" --input - <<JSON
{
  $protection
  "deployment_branch_policy": {
    "protected_branches": false,
    "custom_branch_policies": true
  }
}
JSON
  if ! gh api "repos/$repo/environments/$environment/deployment-branch-policies" \
    --jq '.branch_policies[].name' | grep -qx "$branch"; then
    gh api --method POST \
      "repos/$repo/environments/$environment/deployment-branch-policies" \
      -f name="$branch" -f type=branch >/dev/null
  fi
  gh variable set AZURE_CLIENT_ID --repo "$repo" --env "$environment" \
    --body "$AZURE_CLIENT_ID"
  gh variable set AZURE_TENANT_ID --repo "$repo" --env "$environment" \
    --body "$AZURE_TENANT_ID"
  gh variable set AZURE_SUBSCRIPTION_ID --repo "$repo" --env "$environment" \
    --body "$AZURE_SUBSCRIPTION_ID"
}

configure "$STAGING_ENVIRONMENT" ""
configure monitoring ""
configure "$PRODUCTION_ENVIRONMENT" \
  "\"reviewers\": [$joined], \"prevent_self_review\": true,"
echo "Done: $PRODUCTION_ENVIRONMENT now waits for: $*"
