#!/usr/bin/env bash
# The infrastructure tasks that the infra pipelines run, for Bicep and/or
# Terraform (whichever infra/ holds).
#
#   scripts/infra.sh validate            no cloud access needed
#   scripts/infra.sh plan ENVIRONMENT    what-if / plan, summarised (read-only)
#   scripts/infra.sh apply ENVIRONMENT   create or update the environment
#
# plan and apply need `az login` (the pipelines use OIDC). The summary goes
# to the GitHub job summary or the Azure Pipelines build summary.
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=release_lib.sh source-path=SCRIPTDIR
. scripts/release_lib.sh
load_project

action="${1:?usage: scripts/infra.sh validate|plan|apply [ENVIRONMENT]}"
environment="${2:-}"
summary="$(mktemp)"
tf="infra/terraform"

note() { printf '%s\n' "$@" >> "$summary"; }

publish_summary() {
  if [[ -n "${GITHUB_STEP_SUMMARY:-}" ]]; then
    cat "$summary" >> "$GITHUB_STEP_SUMMARY"
  elif [[ -n "${TF_BUILD:-}" ]]; then
    cp "$summary" "infra-$action.md"
    echo "##vso[task.uploadsummary]$PWD/infra-$action.md"
  fi
  cat "$summary"
}
trap publish_summary EXIT

need() {
  command -v "$1" >/dev/null 2>&1 || {
    echo "error: $1 is not installed; $2" >&2
    exit 2
  }
}

if [[ "$action" != "validate" ]]; then
  [[ -n "$environment" ]] || { echo "error: $action needs an ENVIRONMENT" >&2; exit 2; }
  load_settings "$environment"
fi

if [[ -d infra/bicep ]]; then
  need az "install the Azure CLI (it brings Bicep)"
  case "$action" in
    validate)
      az bicep build --file infra/bicep/main.bicep --stdout >/dev/null
      for params in infra/bicep/*.bicepparam; do
        az bicep build-params --file "$params" --stdout >/dev/null
      done
      note "Bicep: main.bicep and its parameter files build."
      ;;
    plan)
      note "### Bicep what-if: $environment" '' '```'
      if [[ "$(az group exists --name "$RESOURCE_GROUP")" == "true" ]]; then
        az deployment group what-if --resource-group "$RESOURCE_GROUP" \
          --parameters "infra/bicep/$environment.bicepparam" \
          --no-pretty-print --output table >> "$summary" 2>&1
      else
        note "Resource group $RESOURCE_GROUP does not exist yet: everything would be created."
      fi
      note '```'
      ;;
    apply)
      az group create --name "$RESOURCE_GROUP" --location "$AZURE_LOCATION" \
        --output none
      az deployment group create --resource-group "$RESOURCE_GROUP" \
        --name "platform-$(date -u +%Y%m%d%H%M%S)" \
        --parameters "infra/bicep/$environment.bicepparam" --output none
      note "Bicep: applied to $RESOURCE_GROUP."
      ;;
    *) echo "error: unknown action '$action'" >&2; exit 2 ;;
  esac
fi

if [[ -d "$tf" ]]; then
  need terraform "install Terraform 1.9 or newer"
  case "$action" in
    validate)
      terraform -chdir="$tf" fmt -check -recursive
      terraform -chdir="$tf" init -backend=false -input=false >/dev/null
      terraform -chdir="$tf" validate
      note "Terraform: formatted and valid."
      ;;
    plan)
      terraform -chdir="$tf" init -input=false -reconfigure \
        -backend-config="$environment.backend.hcl" >/dev/null
      terraform -chdir="$tf" plan -input=false -lock=false \
        -var-file="$environment.tfvars" -out=tfplan >/dev/null
      note "### Terraform plan: $environment" '' '```'
      terraform -chdir="$tf" show -no-color tfplan | tail -n 200 >> "$summary"
      note '```'
      ;;
    apply)
      terraform -chdir="$tf" init -input=false -reconfigure \
        -backend-config="$environment.backend.hcl" >/dev/null
      terraform -chdir="$tf" apply -input=false -auto-approve \
        -var-file="$environment.tfvars"
      note "Terraform: applied $environment."
      ;;
    *) echo "error: unknown action '$action'" >&2; exit 2 ;;
  esac
fi
