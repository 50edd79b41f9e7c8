#!/usr/bin/env bash
# The infrastructure tasks that the infra pipelines run, for Bicep and/or
# Terraform (whichever infra/ holds).
#
#   scripts/infra.sh validate            no cloud access needed
#   scripts/infra.sh plan ENVIRONMENT    what-if / plan, summarised (read-only)
#   scripts/infra.sh apply ENVIRONMENT   create or update the environment
#
# plan and apply need `az login` (the pipelines use OIDC / workload identity)
# and the environment's resource group, which scripts/setup_azure_federation.sh
# creates once with the pipeline identities; Terraform also needs the state
# account's name, which that script records in infra/terraform/
# state.backend.hcl. The summary goes to the GitHub job summary or the Azure
# Pipelines build summary.
#
# With both languages in infra/, both are validated but only ONE deploys:
# Bicep, unless INFRA_DEPLOYER=terraform. Two tools applying the same
# resource group would each fail on the resources the other one owns.
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

deployer() {
  if [[ -d infra/bicep && -d "$tf" ]]; then
    case "${INFRA_DEPLOYER:-bicep}" in
      bicep | terraform) echo "${INFRA_DEPLOYER:-bicep}" ;;
      *)
        echo "error: INFRA_DEPLOYER is 'bicep' or 'terraform'" >&2
        exit 2
        ;;
    esac
  elif [[ -d infra/bicep ]]; then
    echo bicep
  else
    echo terraform
  fi
}

need_group() {
  if [[ "$(az group exists --name "$RESOURCE_GROUP")" != "true" ]]; then
    echo "error: resource group $RESOURCE_GROUP does not exist; run" \
      "scripts/setup_azure_federation.sh once (docs/deployment.md)" >&2
    exit 1
  fi
}

case "$action" in
  validate)
    if [[ -d infra/bicep ]]; then
      need az "install the Azure CLI (it brings Bicep)"
      for template in infra/bicep/main.bicep infra/bicep/identities.bicep; do
        az bicep build --file "$template" --stdout >/dev/null
      done
      for params in infra/bicep/*.bicepparam; do
        az bicep build-params --file "$params" --stdout >/dev/null
      done
      note "Bicep: main.bicep, identities.bicep and the parameter files build."
    fi
    if [[ -d "$tf" ]]; then
      need terraform "install Terraform (scripts/install_terraform.sh)"
      terraform -chdir="$tf" fmt -check -recursive
      for root in "$tf" "$tf/identities"; do
        terraform -chdir="$root" init -backend=false -input=false >/dev/null
        terraform -chdir="$root" validate
      done
      note "Terraform: formatted and valid (environments and identities)."
    fi
    ;;
  plan | apply)
    [[ -n "$environment" ]] || {
      echo "error: $action needs an ENVIRONMENT" >&2
      exit 2
    }
    load_settings "$environment"
    need az "install the Azure CLI"
    tool="$(deployer)"
    if [[ "$tool" == "terraform" ]]; then
      need terraform "install Terraform (scripts/install_terraform.sh)"
      # azurerm 4 no longer takes the subscription from the CLI session.
      ARM_SUBSCRIPTION_ID="${ARM_SUBSCRIPTION_ID:-$(az account show \
        --query id --output tsv)}"
      export ARM_SUBSCRIPTION_ID
      # The state account's name is unique to the subscription: the
      # one-time set-up records it when it creates the account.
      if [[ ! -f "$tf/state.backend.hcl" ]]; then
        echo "error: $tf/state.backend.hcl is missing: run" \
          "scripts/setup_azure_federation.sh once, which creates the" \
          "Terraform state account and records its name there, and commit" \
          "the file (docs/deployment.md)" >&2
        exit 1
      fi
      terraform -chdir="$tf" init -input=false -reconfigure \
        -backend-config=state.backend.hcl \
        -backend-config="$environment.backend.hcl" >/dev/null
    fi
    case "$action/$tool" in
      plan/bicep)
        note "### Bicep what-if: $environment" '' '```'
        if [[ "$(az group exists --name "$RESOURCE_GROUP")" == "true" ]]; then
          # ProviderNoRbac: preflight checks read permissions only, so the
          # pull-request identity needs no write role.
          az deployment group what-if --resource-group "$RESOURCE_GROUP" \
            --parameters "infra/bicep/$environment.bicepparam" \
            --validation-level ProviderNoRbac \
            --no-pretty-print --output table >> "$summary" 2>&1
        else
          note "Resource group $RESOURCE_GROUP does not exist yet:" \
            "run scripts/setup_azure_federation.sh (docs/deployment.md)."
        fi
        note '```'
        ;;
      plan/terraform)
        note "### Terraform plan: $environment" '' '```'
        if [[ "$(az group exists --name "$RESOURCE_GROUP")" == "true" ]]; then
          terraform -chdir="$tf" plan -input=false -lock=false \
            -var-file="$environment.tfvars" -out=tfplan >/dev/null
          terraform -chdir="$tf" show -no-color tfplan | tail -n 200 >> "$summary"
        else
          note "Resource group $RESOURCE_GROUP does not exist yet:" \
            "run scripts/setup_azure_federation.sh (docs/deployment.md)."
        fi
        note '```'
        ;;
      apply/bicep)
        need_group
        az deployment group create --resource-group "$RESOURCE_GROUP" \
          --name "platform-$(date -u +%Y%m%d%H%M%S)" \
          --parameters "infra/bicep/$environment.bicepparam" --output none
        note "Bicep: applied to $RESOURCE_GROUP."
        ;;
      apply/terraform)
        need_group
        terraform -chdir="$tf" apply -input=false -auto-approve \
          -var-file="$environment.tfvars"
        note "Terraform: applied $environment."
        ;;
    esac
    ;;
  *)
    echo "error: unknown action '$action' (validate, plan or apply)" >&2
    exit 2
    ;;
esac
