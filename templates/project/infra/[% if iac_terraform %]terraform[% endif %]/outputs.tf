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
