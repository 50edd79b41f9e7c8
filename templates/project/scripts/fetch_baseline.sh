#!/usr/bin/env bash
# Fetch the production model (its metrics are the quality gate's baseline,
# its reference.csv what monitoring compares new data with) from the latest
# successful release: the `production-model` artefact of the CD workflow on
# the default branch, into models/production/. Without one (the first
# release, or off CI), the gate checks the thresholds only.
set -euo pipefail

out="models/production"
branch="${DEFAULT_BRANCH:-main}"

if [[ -f "$out/metrics.json" ]]; then
  echo "baseline: $out/metrics.json (already present)"
  exit 0
fi
if ! command -v gh >/dev/null 2>&1 || [[ -z "${GH_TOKEN:-}" ]]; then
  echo "baseline: none (needs the gh CLI and GH_TOKEN); thresholds only"
  exit 0
fi

run_id=$(gh run list --workflow cd.yml --branch "$branch" --status success \
  --limit 1 --json databaseId --jq '.[0].databaseId // empty' || true)
if [[ -z "$run_id" ]]; then
  echo "baseline: no successful release on $branch yet; thresholds only"
  exit 0
fi
mkdir -p "$out"
if gh run download "$run_id" --name production-model --dir "$out"; then
  echo "baseline: production model from CD run $run_id"
else
  echo "baseline: CD run $run_id kept no production-model; thresholds only"
fi
