#!/usr/bin/env bash
# Scale-out training: submit deploy/train-job.yml to Azure ML, wait for it,
# and download the trained model into models/ for `make package`.
#
#   scripts/train_azureml.sh ENVIRONMENT
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=release_lib.sh source-path=SCRIPTDIR
. scripts/release_lib.sh

environment="${1:?usage: scripts/train_azureml.sh ENVIRONMENT}"
load_settings "$environment"
ensure_ml_extension
# The job runs on the project's environment (deploy/train-job.yml); on a
# fresh workspace nothing has registered it yet.
ensure_ml_environment

job="$(az ml job create "${ML_WORKSPACE[@]}" --file deploy/train-job.yml \
  --query name --output tsv)"
echo "Submitted Azure ML job $job; waiting for it (poll every ${POLL_SECONDS:-60}s)"
# Not `az ml job stream`: a job outlives the CI login. The CLI's session
# rests on the CI's OIDC token, which expires (GitHub's within minutes);
# the next token request then fails with AADSTS700024 (Azure/login#180,
# #372). Each poll logs in again with a fresh token (refresh_login).
while :; do
  refresh_login
  status="$(az ml job show "${ML_WORKSPACE[@]}" --name "$job" \
    --query status --output tsv)"
  case "$status" in
    Completed | Failed | Canceled | NotResponding) break ;;
  esac
  sleep "${POLL_SECONDS:-60}"
done
if [[ "$status" != "Completed" ]]; then
  echo "error: training job $job ended as $status" >&2
  exit 1
fi
rm -rf models/azureml && mkdir -p models/azureml
az ml job download "${ML_WORKSPACE[@]}" --name "$job" --output-name model \
  --download-path models/azureml
found="$(find models/azureml -name model.joblib -print -quit)"
if [[ -z "$found" ]]; then
  echo "error: job $job produced no model.joblib" >&2
  exit 1
fi
cp "$(dirname "$found")"/* models/
# `make quality` / `make package` gate this model instead of retraining.
touch models/.trained-on-azureml
echo "Model from job $job is in models/"
