#!/usr/bin/env bash
# Fetch the production model (the quality gate scores it on the same
# held-out rows as the candidate; monitoring compares new data with its
# reference.csv) from the model registry: the version of the registered
# model with the alias "production", into models/production/.
#
# The registry is MLflow's at $MLFLOW_TRACKING_URI; when that is unset and
# the Azure CLI is logged in, the production workspace's MLflow URI (so CI
# reads the same registry that releases write to); otherwise the local
# store (sqlite:///mlflow.db). With no production model yet, the gate says
# so and checks the thresholds only. On the default branch a registry that
# cannot be read fails this step; on other branches it is a warning.
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=release_lib.sh source-path=SCRIPTDIR
. scripts/release_lib.sh

package="${PACKAGE:?set PACKAGE (make baseline does)}"
settings="deploy/project.env"
value() { sed -n "s/^$1=//p" "$2" | tail -n 1; }
default_branch="${DEFAULT_BRANCH:-$(value DEFAULT_BRANCH "$settings")}"
production="$(value PRODUCTION_ENVIRONMENT "$settings")"
env_file="deploy/environments/$production.env"
model_name="$(value MODEL_NAME "$env_file")"

branch="${GITHUB_REF_NAME:-${BUILD_SOURCEBRANCH:-}}"
branch="${branch#refs/heads/}"
if [[ -z "$branch" ]]; then
  branch="$(git rev-parse --abbrev-ref HEAD 2>/dev/null || true)"
fi
required=()
# Pull requests (GITHUB_HEAD_REF, SYSTEM_PULLREQUEST_*) are never the
# default branch, whatever the ref says.
if [[ "$branch" == "$default_branch" && -z "${GITHUB_HEAD_REF:-}" \
  && -z "${SYSTEM_PULLREQUEST_PULLREQUESTID:-}" ]]; then
  required=(--required)
fi

if [[ -z "${MLFLOW_TRACKING_URI:-}" ]] && command -v az >/dev/null 2>&1 \
  && az account show >/dev/null 2>&1; then
  ensure_ml_extension
  group="$(value RESOURCE_GROUP "$env_file")"
  workspace="$(value WORKSPACE "$env_file")"
  if uri="$(az ml workspace show --resource-group "$group" \
    --name "$workspace" --query mlflow_tracking_uri --output tsv 2>"$PWD/.az-error")"; then
    export MLFLOW_TRACKING_URI="$uri"
  elif grep -Eq 'Resource(Group)?NotFound' "$PWD/.az-error"; then
    # The first push: CD runs before the infrastructure pipeline has made
    # the production workspace, so there is no production model yet.
    notice "$workspace does not exist yet (first run): the gate checks the" \
      "thresholds only; run the infrastructure pipeline (docs/deployment.md)."
    no_workspace=1
  else
    cat "$PWD/.az-error" >&2
    echo "warning: cannot read the MLflow URI of $workspace" >&2
  fi
  rm -f "$PWD/.az-error"
fi
if [[ -n "${no_workspace:-}" ]]; then
  # No production workspace, so no production model: what fetch writes
  # when none is registered yet.
  mkdir -p models/production
  printf '{\n  "status": "none",\n  "name": "%s"\n}\n' "$model_name" \
    > models/production/baseline.json
  echo "baseline: no production workspace yet; the gate checks the thresholds only"
  exit 0
fi
unreadable=()
if [[ -z "${MLFLOW_TRACKING_URI:-}" && -n "${CI:-}${TF_BUILD:-}" ]]; then
  # A CI job's local store is empty: it is no registry.
  if [[ ${#required[@]} -gt 0 ]]; then
    echo "error: no model registry on the default branch: log in to Azure" \
      "before \`make baseline\` (or set MLFLOW_TRACKING_URI) so that the" \
      "gate compares with the production model." >&2
    exit 1
  fi
  unreadable=(--unreadable "no Azure login in this CI job")
fi

exec "${PYTHON:-python}" -m "$package.tracking" fetch --name "$model_name" \
  --out models/production ${required[@]+"${required[@]}"} \
  ${unreadable[@]+"${unreadable[@]}"}
