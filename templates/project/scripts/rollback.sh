#!/usr/bin/env bash
# Roll back one environment: move all traffic to the idle deployment (the
# previous release, kept at 0% by scripts/deploy.sh) and smoke-test it.
#
#   scripts/rollback.sh ENVIRONMENT
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=release_lib.sh source-path=SCRIPTDIR
. scripts/release_lib.sh

environment="${1:?usage: scripts/rollback.sh ENVIRONMENT}"
load_settings "$environment"
ensure_ml_extension
resolve_endpoint

live="$(live_deployment)"
if [[ "$live" == "blue" ]]; then previous="green"; else previous="blue"; fi
if ! az ml online-deployment show "${ML_WORKSPACE[@]}" \
  --endpoint-name "$ENDPOINT" --name "$previous" >/dev/null 2>&1; then
  echo "error: $ENDPOINT has no previous deployment to roll back to" >&2
  exit 1
fi
python3 scripts/smoke_test.py "${ML_WORKSPACE[@]}" \
  --endpoint "$ENDPOINT" --deployment "$previous"
az ml online-endpoint update "${ML_WORKSPACE[@]}" --name "$ENDPOINT" \
  --traffic "$previous=100 ${live:-blue}=0"
echo "Rolled back $ENDPOINT: $previous takes the traffic, ${live:-none} is idle"
