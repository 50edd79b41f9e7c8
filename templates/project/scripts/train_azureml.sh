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
package="${PACKAGE:?set PACKAGE (make train-azureml does)}"

# What the job trains on: data.source of config/model.yml. A datastore URI
# (the full form, which names its workspace) must be one of this
# workspace's: Azure ML downloads it for the job as the compute cluster's
# managed identity (deploy/train-job.yml). The job names it in the short
# form, resolved in the workspace it runs in. The bundled sample is passed
# to `train --data` as it is; a local file is refused (it is not uploaded).
source="$("${PYTHON:-python3}" -m "$package.data" source)"
if [[ "$source" == azureml://* ]]; then
  pattern='^azureml://subscriptions/[^/]+/resourcegroups/([^/]+)/workspaces/([^/]+)/(datastores/[^/]+/paths/.+)$'
  shopt -s nocasematch
  if [[ ! "$source" =~ $pattern ]]; then
    echo "error: data.source $source is not a full datastore URI" \
      "(azureml://subscriptions/.../datastores/<name>/paths/<file>)" >&2
    exit 2
  fi
  if [[ "${BASH_REMATCH[1]}" != "$RESOURCE_GROUP" \
    || "${BASH_REMATCH[2]}" != "$WORKSPACE" ]]; then
    echo "error: data.source is a datastore of workspace" \
      "${BASH_REMATCH[1]}/${BASH_REMATCH[2]}; the training job runs in" \
      "$RESOURCE_GROUP/$WORKSPACE ($environment), whose datastores it can" \
      "read: register the data there (data/README.md)" >&2
    exit 2
  fi
  shopt -u nocasematch
  data=(--set "inputs.data.path=azureml://${BASH_REMATCH[3]}")
elif [[ "$source" == sklearn:* ]]; then
  data=(--set "inputs.data=$source")
else
  # A local file is not uploaded with the code (data/ is ignored): the job
  # would fail an hour later without it.
  echo "error: data.source $source is a local file, which the Azure ML" \
    "job cannot read; register it as a datastore of $RESOURCE_GROUP/" \
    "$WORKSPACE and name its azureml:// URI (data/README.md)" >&2
  exit 2
fi

ensure_ml_extension
# The job runs on the project's environment (deploy/train-job.yml); on a
# fresh workspace nothing has registered it yet.
ensure_ml_environment

job="$(az ml job create "${ML_WORKSPACE[@]}" --file deploy/train-job.yml \
  "${data[@]}" --query name --output tsv)"
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
