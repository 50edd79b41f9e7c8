#!/usr/bin/env bash
# Shared by the release and set-up scripts: read deploy/project.env and
# deploy/environments/<name>.env (plain KEY=VALUE lines, parsed rather than
# sourced, so a settings file never runs code).

# read_settings FILE KEY...: export the named keys found in FILE.
read_settings() {
  local file="$1" key value wanted
  shift
  while IFS='=' read -r key value; do
    for wanted in "$@"; do
      if [[ "$key" == "$wanted" ]]; then
        printf -v "$key" '%s' "$value"
        export "${key?}"
      fi
    done
  done < "$file"
}

load_project() {
  read_settings deploy/project.env PROJECT_SLUG DEFAULT_BRANCH \
    STAGING_ENVIRONMENT PRODUCTION_ENVIRONMENT AZURE_LOCATION
  : "${PROJECT_SLUG:?missing in deploy/project.env}"
  : "${DEFAULT_BRANCH:?missing in deploy/project.env}"
  : "${STAGING_ENVIRONMENT:?missing in deploy/project.env}"
  : "${PRODUCTION_ENVIRONMENT:?missing in deploy/project.env}"
}

load_settings() {
  local environment="$1" file
  file="deploy/environments/${environment}.env"
  if [[ ! -f "$file" ]]; then
    echo "error: no settings for environment '$environment' ($file)" >&2
    return 2
  fi
  read_settings "$file" RESOURCE_GROUP WORKSPACE ENDPOINT MODEL_NAME
  : "${RESOURCE_GROUP:?missing in $file}" "${WORKSPACE:?missing in $file}"
  : "${ENDPOINT:?missing in $file}" "${MODEL_NAME:?missing in $file}"
  # Every `az ml` call names its workspace: `az configure --defaults` lives
  # in one job's ~/.azure (one task's, in AzureCLI@2) and never carries over.
  ML_WORKSPACE=(--resource-group "$RESOURCE_GROUP"
    --workspace-name "$WORKSPACE")
}

# notice TEXT: a line the CI system shows as a notice on the run.
notice() {
  if [[ -n "${GITHUB_ACTIONS:-}" ]]; then
    echo "::notice::$*"
  elif [[ -n "${TF_BUILD:-}" ]]; then
    echo "##vso[task.logissue type=warning]$*"
  else
    echo "notice: $*"
  fi
}

# workspace_ready: whether the environment's workspace exists. On the first
# push CD runs before the infrastructure pipeline has created it: the
# release steps then skip with a notice instead of failing (docs/deployment.md,
# "The first run"). Any other error (no login, no role) still fails.
workspace_ready() {
  local answer
  if answer="$(az ml workspace show --resource-group "$RESOURCE_GROUP" \
    --name "$WORKSPACE" --query name --output tsv 2>&1)"; then
    return 0
  fi
  if [[ "$answer" == *ResourceNotFound* || "$answer" == *ResourceGroupNotFound* ]]; then
    notice "$WORKSPACE does not exist yet: run the infrastructure pipeline" \
      "for this environment, then this one again (docs/deployment.md)."
    return 1
  fi
  echo "$answer" >&2
  exit 1
}

# refresh_login: log the Azure CLI in again with a fresh OIDC token, for
# steps that outlive the token the job started with. GitHub Actions: a new
# ID token (audience api://AzureADTokenExchange) for AZURE_CLIENT_ID; Azure
# Pipelines (AzureCLI@2 with addSpnToEnvironment and SYSTEM_ACCESSTOKEN): a
# new token for the service connection from the job's OIDC endpoint.
# Elsewhere (a person's own `az login`) it does nothing.
refresh_login() {
  local token
  if [[ -n "${ACTIONS_ID_TOKEN_REQUEST_URL:-}" && -n "${AZURE_CLIENT_ID:-}" ]]; then
    token="$(curl --fail --silent --show-error \
      -H "Authorization: bearer $ACTIONS_ID_TOKEN_REQUEST_TOKEN" \
      "$ACTIONS_ID_TOKEN_REQUEST_URL&audience=api://AzureADTokenExchange" \
      | python3 -c 'import json, sys; print(json.load(sys.stdin)["value"])')"
    az login --service-principal --username "$AZURE_CLIENT_ID" \
      --tenant "$AZURE_TENANT_ID" --federated-token "$token" \
      --allow-no-subscriptions --output none
    if [[ -n "${AZURE_SUBSCRIPTION_ID:-}" ]]; then
      az account set --subscription "$AZURE_SUBSCRIPTION_ID"
    fi
  elif [[ -n "${SYSTEM_OIDCREQUESTURI:-}" && -n "${SYSTEM_ACCESSTOKEN:-}" \
    && -n "${AZURESUBSCRIPTION_SERVICE_CONNECTION_ID:-}" ]]; then
    token="$(curl --fail --silent --show-error -X POST -d '' \
      -H "Authorization: Bearer $SYSTEM_ACCESSTOKEN" \
      -H "Content-Type: application/json" \
      "$SYSTEM_OIDCREQUESTURI?api-version=7.1&serviceConnectionId=$AZURESUBSCRIPTION_SERVICE_CONNECTION_ID" \
      | python3 -c 'import json, sys; print(json.load(sys.stdin)["oidcToken"])')"
    # servicePrincipalId and tenantId: set by AzureCLI@2 (addSpnToEnvironment)
    az login --service-principal --username "${servicePrincipalId:?}" \
      --tenant "${tenantId:?}" --federated-token "$token" \
      --allow-no-subscriptions --output none
  fi
}

# The online endpoint's real name. infra/ appends a suffix unique to the
# resource group (endpoint names are unique per region) and publishes the
# name as the workspace tag online-endpoint: read it, never recompute it.
# Without infra/ (a workspace of your own), ENDPOINT is the name itself.
resolve_endpoint() {
  [[ -d infra/bicep || -d infra/terraform ]] || return 0
  local tagged
  tagged="$(az ml workspace show --resource-group "$RESOURCE_GROUP" \
    --name "$WORKSPACE" --query 'tags."online-endpoint"' --output tsv)"
  if [[ -z "$tagged" || "$tagged" == "None" ]]; then
    echo "error: workspace $WORKSPACE has no online-endpoint tag: run the" \
      "infrastructure pipeline for this environment first (docs/deployment.md)" >&2
    return 1
  fi
  ENDPOINT="$tagged"
  export ENDPOINT
}

# client_id_variable NAME: where the set-up scripts pass NAME's identity,
# AZURE_CLIENT_ID_<NAME in capitals, other characters as _>.
client_id_variable() {
  printf 'AZURE_CLIENT_ID_%s\n' \
    "$(printf '%s' "$1" | tr '[:lower:]' '[:upper:]' | tr -c 'A-Z0-9' '_')"
}

# The model version: derived from the commit (its committer time, a
# number as the MLflow registry needs), so every job, environment and CI
# system that releases one commit names the same version, and two commits
# never share one by accident (deploy.sh checks the version's commit tag).
model_version() {
  printf '%s\n' "${MODEL_VERSION:-$(git log -1 --format=%ct HEAD 2>/dev/null \
    || date -u +%s)}"
}

# The commit being released, as CI names it.
release_commit() {
  printf '%s\n' "${GITHUB_SHA:-${BUILD_SOURCEVERSION:-$(git rev-parse HEAD \
    2>/dev/null || echo local)}}"
}

# The deployment that takes the traffic now ("blue", "green" or empty).
live_deployment() {
  az ml online-endpoint show "${ML_WORKSPACE[@]}" --name "$ENDPOINT" \
    --query traffic --output json \
    | python3 -c 'import json, sys
traffic = json.load(sys.stdin) or {}
live = [name for name, share in traffic.items() if int(share) > 0]
print(max(live, key=lambda name: int(traffic[name])) if live else "")'
}

# The Azure ML commands (`az ml ...`) come from the CLI's ml extension.
ensure_ml_extension() {
  if ! az extension show --name ml >/dev/null 2>&1; then
    az extension add --name ml --yes
  fi
}

# Register deploy/environment.yml in the workspace unless this version is
# there already. Training jobs and deployments both run on it.
ensure_ml_environment() {
  local name version
  name="$(sed -n 's/^name: *//p' deploy/environment.yml)"
  version="$(sed -n 's/^version: *"\{0,1\}\([^"]*\)"\{0,1\}$/\1/p' \
    deploy/environment.yml)"
  if ! az ml environment show "${ML_WORKSPACE[@]}" \
    --name "$name" --version "$version" >/dev/null 2>&1; then
    az ml environment create "${ML_WORKSPACE[@]}" --file deploy/environment.yml
  fi
  export ML_ENVIRONMENT="azureml:$name:$version"
}
