# Pinned Terraform and provider versions, and remote state in Azure Storage:
# one state key per environment (see <environment>.backend.hcl), reached with
# Microsoft Entra ID, never an access key. Terraform authenticates through
# the Azure CLI session, which the pipelines open with OIDC / workload
# identity federation.
terraform {
  required_version = ">= 1.11.0, < 2.0.0"

  required_providers {
    azurerm = {
      source  = "hashicorp/azurerm"
      version = "~> 4.20"
    }
    azapi = {
      source  = "Azure/azapi"
      version = "~> 2.2"
    }
  }

  backend "azurerm" {}
}

provider "azurerm" {
  features {
    key_vault {
      purge_soft_delete_on_destroy = false
    }
    resource_group {
      prevent_deletion_if_contains_resources = true
    }
  }
  storage_use_azuread = true
  # The deployers hold roles on their resource group only; registering
  # resource providers needs the subscription, so
  # scripts/setup_azure_federation.sh registers them once instead.
  resource_provider_registrations = "none"
}

provider "azapi" {}
