output "resource_group_name" {
  description = "The environment's resource group."
  value       = data.azurerm_resource_group.this.name
}

output "workspace_name" {
  description = "The Azure ML workspace (deploy/environments/*.env names it too)."
  value       = azapi_resource.workspace.name
}

output "workspace_id" {
  description = "Resource ID of the Azure ML workspace."
  value       = azapi_resource.workspace.id
}

output "storage_account_id" {
  description = "Resource ID of the workspace's storage account."
  value       = azurerm_storage_account.this.id
}

output "key_vault_id" {
  description = "Resource ID of the workspace's key vault."
  value       = azurerm_key_vault.this.id
}

output "container_registry_id" {
  description = "Resource ID of the container registry."
  value       = azurerm_container_registry.this.id
}

output "application_insights_id" {
  description = "Resource ID of Application Insights."
  value       = azurerm_application_insights.this.id
}

output "storage_account_name" {
  description = "The storage account's name (with its unique suffix)."
  value       = azurerm_storage_account.this.name
}

output "key_vault_name" {
  description = "The key vault's name (with its unique suffix)."
  value       = azurerm_key_vault.this.name
}

output "container_registry_name" {
  description = "The container registry's name (with its unique suffix)."
  value       = azurerm_container_registry.this.name
}

output "endpoint_name" {
  description = "The online endpoint's name, also the workspace tag online-endpoint that scripts/deploy.sh reads."
  value       = local.endpoint_name
}
