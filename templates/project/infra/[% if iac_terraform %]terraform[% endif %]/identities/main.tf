# Each identity trusts only its own federated subjects and holds only the
# roles that infra/identities.yml lists.

data "azurerm_subscription" "current" {}

locals {
  config       = yamldecode(file("${path.module}/../../identities.yml"))
  custom_roles = try(local.config.custom_roles, {})
  state        = try(local.config.state, null)
  state_container_id = local.state == null ? "" : join("/", [
    data.azurerm_subscription.current.id,
    "resourceGroups", local.state.resource_group,
    "providers/Microsoft.Storage/storageAccounts", var.state_storage_account,
    "blobServices/default/containers", local.state.container,
  ])
  github_subjects = {
    for pair in setproduct(keys(local.config.identities), range(length(var.github_subject_prefixes))) :
    "${pair[0]}/${pair[1]}" => {
      identity = pair[0]
      name     = "github-${pair[1]}"
      subject  = "${var.github_subject_prefixes[pair[1]]}:${local.config.identities[pair[0]].github}"
    }
  }
  # The issuer and subject each service connection shows, by identity.
  azure_devops_subjects = {
    for key, identity in local.config.identities :
    key => var.azure_devops_subjects[identity.azure_devops]
    if contains(keys(var.azure_devops_subjects), identity.azure_devops)
  }
  assignments = {
    for assignment in local.config.role_assignments :
    "${assignment.identity}/${assignment.role}/${assignment.scope}/${try(assignment.environment, "")}" => assignment
  }
}

resource "azurerm_resource_group" "identities" {
  name     = local.config.identity_resource_group
  location = local.config.location
}

resource "azurerm_resource_group" "environments" {
  for_each = local.config.resource_groups
  name     = each.value
  location = local.config.location
}

resource "azurerm_user_assigned_identity" "pipeline" {
  for_each            = local.config.identities
  name                = each.value.name
  location            = azurerm_resource_group.identities.location
  resource_group_name = azurerm_resource_group.identities.name
}

# Federated credentials of one identity must be written one at a time:
# scripts/setup_azure_federation.sh applies with -parallelism=1.
resource "azurerm_federated_identity_credential" "github" {
  for_each            = local.github_subjects
  name                = each.value.name
  resource_group_name = azurerm_resource_group.identities.name
  parent_id           = azurerm_user_assigned_identity.pipeline[each.value.identity].id
  issuer              = "https://token.actions.githubusercontent.com"
  subject             = each.value.subject
  audience            = ["api://AzureADTokenExchange"]
}

resource "azurerm_federated_identity_credential" "azure_devops" {
  for_each            = local.azure_devops_subjects
  name                = "azure-devops"
  resource_group_name = azurerm_resource_group.identities.name
  parent_id           = azurerm_user_assigned_identity.pipeline[each.key].id
  issuer              = each.value.issuer
  subject             = each.value.subject
  audience            = ["api://AzureADTokenExchange"]
  depends_on          = [azurerm_federated_identity_credential.github]
}

# A custom role's name is unique in the whole tenant: another
# subscription's set-up of the same project must not collide.
resource "azurerm_role_definition" "custom" {
  for_each    = local.custom_roles
  name        = "${each.value.name} (${data.azurerm_subscription.current.subscription_id})"
  scope       = data.azurerm_subscription.current.id
  description = "Defined in infra/identities.yml."

  permissions {
    actions = each.value.actions
  }

  assignable_scopes = [data.azurerm_subscription.current.id]
}

resource "azurerm_role_assignment" "pipeline" {
  for_each = local.assignments
  scope = (each.value.scope == "state_container" ? local.state_container_id
  : azurerm_resource_group.environments[each.value.environment].id)
  role_definition_name = contains(keys(local.custom_roles), each.value.role) ? null : each.value.role
  role_definition_id   = contains(keys(local.custom_roles), each.value.role) ? azurerm_role_definition.custom[each.value.role].role_definition_resource_id : null
  principal_id         = azurerm_user_assigned_identity.pipeline[each.value.identity].principal_id
  principal_type       = "ServicePrincipal"
  condition            = try(local.config.conditions[each.value.condition], null)
  condition_version    = can(each.value.condition) ? "2.0" : null

  lifecycle {
    precondition {
      condition     = each.value.scope != "state_container" || var.state_storage_account != ""
      error_message = "A role on the Terraform state needs state_storage_account: the name infra/terraform/state.backend.hcl records (scripts/setup_azure_federation.sh passes it)."
    }
  }
}

output "client_ids" {
  description = "AZURE_CLIENT_ID of each pipeline identity."
  value       = { for key, identity in azurerm_user_assigned_identity.pipeline : key => identity.client_id }
}

output "tenant_id" {
  description = "AZURE_TENANT_ID."
  value       = data.azurerm_subscription.current.tenant_id
}

output "subscription_id" {
  description = "AZURE_SUBSCRIPTION_ID."
  value       = data.azurerm_subscription.current.subscription_id
}
