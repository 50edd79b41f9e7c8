#!/usr/bin/env bash
# Release: register the model that CI built and roll it out, blue/green, to
# one environment's managed online endpoint.
#
#   scripts/deploy.sh ENVIRONMENT [MODEL_DIR]     (MODEL_DIR: dist/model)
#
# The new deployment ("blue" or "green", whichever is not live) starts at 0%
# traffic and is smoke-tested on its own; only then does all traffic move to
# it. The previous deployment stays, at 0%, for scripts/rollback.sh.
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=release_lib.sh source-path=SCRIPTDIR
. scripts/release_lib.sh

environment="${1:?usage: scripts/deploy.sh ENVIRONMENT [MODEL_DIR]}"
model_dir="${2:-dist/model}"
load_project
load_settings "$environment"
version="$(model_version)"
if [[ ! -f "$model_dir/model.joblib" ]]; then
  echo "error: no model in $model_dir; run \`make package\` first" >&2
  exit 2
fi

ensure_ml_extension
workspace_ready || exit 0
resolve_endpoint

echo "Registering $MODEL_NAME:$version and its environment"
ensure_ml_environment
commit="$(release_commit)"
if registered="$(az ml model show "${ML_WORKSPACE[@]}" \
  --name "$MODEL_NAME" --version "$version" \
  --query tags.commit --output tsv 2>/dev/null)"; then
  # A version registered by another commit (another CI system, or a
  # re-used number) is not this release: never deploy it in its place.
  if [[ "$registered" != "$commit" ]]; then
    echo "error: $MODEL_NAME:$version is registered for commit" \
      "'$registered', not $commit; refusing to deploy it" >&2
    exit 1
  fi
else
  az ml model create "${ML_WORKSPACE[@]}" \
    --name "$MODEL_NAME" --version "$version" \
    --path "$model_dir" --type custom_model --tags "commit=$commit"
fi

if ! az ml online-endpoint show "${ML_WORKSPACE[@]}" --name "$ENDPOINT" \
  >/dev/null 2>&1; then
  echo "Creating the endpoint $ENDPOINT"
  az ml online-endpoint create "${ML_WORKSPACE[@]}" \
    --file deploy/endpoint.yml --name "$ENDPOINT"
fi

live="$(live_deployment)"
if [[ "$live" == "blue" ]]; then new="green"; else new="blue"; fi
if az ml online-deployment show "${ML_WORKSPACE[@]}" \
  --endpoint-name "$ENDPOINT" --name "$new" >/dev/null 2>&1; then
  echo "Removing the idle deployment $new (the release before last)"
  az ml online-deployment delete "${ML_WORKSPACE[@]}" \
    --endpoint-name "$ENDPOINT" --name "$new" --yes
fi

echo "Deploying $MODEL_NAME:$version as $new at 0% traffic (live: ${live:-none})"
az ml online-deployment create "${ML_WORKSPACE[@]}" \
  --file deploy/deployment.yml --endpoint-name "$ENDPOINT" --name "$new" \
  --set "model=azureml:$MODEL_NAME:$version" \
  "environment=$ML_ENVIRONMENT"

echo "Smoke-testing $new on its own"
python3 scripts/smoke_test.py "${ML_WORKSPACE[@]}" \
  --endpoint "$ENDPOINT" --deployment "$new"

echo "Moving all traffic to $new"
if [[ -n "$live" ]]; then
  traffic="$new=100 $live=0"
else
  traffic="$new=100"
fi
az ml online-endpoint update "${ML_WORKSPACE[@]}" --name "$ENDPOINT" \
  --traffic "$traffic"
if ! python3 scripts/smoke_test.py "${ML_WORKSPACE[@]}" --endpoint "$ENDPOINT"; then
  # Traffic must not stay on a release that fails behind the endpoint:
  # give it back to the previous one (scripts/rollback.sh) and fail the job.
  if [[ -n "$live" ]]; then
    echo "error: the smoke test failed after the switch to $new;" \
      "rolling back to $live" >&2
    bash scripts/rollback.sh "$environment" >&2 || true
  else
    echo "error: the smoke test failed after the switch to $new, the" \
      "first release here: there is no previous deployment to roll back to" >&2
  fi
  exit 1
fi
if [[ "$environment" == "$PRODUCTION_ENVIRONMENT" ]]; then
  # The quality gate's baseline (`make baseline`) is the newest version
  # tagged production=true in the workspace's (MLflow) model registry.
  az ml model update "${ML_WORKSPACE[@]}" --name "$MODEL_NAME" \
    --version "$version" --set tags.production=true >/dev/null
fi
echo "Released $MODEL_NAME:$version to $ENDPOINT ($new); rollback target: ${live:-none}"
