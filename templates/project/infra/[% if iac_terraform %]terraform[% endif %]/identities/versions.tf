# The pipeline identities of infra/identities.yml, applied once with your
# own login (Owner or User Access Administrator on the subscription) by
# scripts/setup_azure_federation.sh; state in the same account as the
# environments, under its own key (identities.backend.hcl).
terraform {
  required_version = ">= 1.11.0, < 2.0.0"

  required_providers {
    azurerm = {
      source  = "hashicorp/azurerm"
      version = "~> 4.20"
    }
  }

  backend "azurerm" {}
}

provider "azurerm" {
  features {
    resource_group {
      prevent_deletion_if_contains_resources = true
    }
  }
  storage_use_azuread = true
}
