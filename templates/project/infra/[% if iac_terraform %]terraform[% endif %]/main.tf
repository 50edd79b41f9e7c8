# The Azure ML platform for one environment: workspace, storage, key vault,
# monitoring, container registry, a training cluster that scales to zero,
# and the roles Azure ML's own identities need (infra/identities.yml). The
# same set as infra/bicep. The resource group and the pipeline identities
# come first, from identities/ (scripts/setup_azure_federation.sh).

data "azurerm_client_config" "current" {}

# The environment's resource group exists before this runs: the pipeline
# identities hold their roles on it.
data "azurerm_resource_group" "this" {
  name = var.resource_group_name
}

locals {
  # Storage account, key vault and registry names are global, online
  # endpoint names regional: a suffix from the resource group's id (which
  # holds the subscription) keeps two projects of the same name apart, as
  # uniqueString(resourceGroup().id) does in Azure's quickstart templates.
  unique_suffix  = substr(sha1(lower(data.azurerm_resource_group.this.id)), 0, 6)
  storage_name   = "${var.storage_account_name}${local.unique_suffix}"
  key_vault_name = "${var.key_vault_name}-${local.unique_suffix}"
  registry_name  = "${var.container_registry_name}${local.unique_suffix}"
  endpoint_name  = "${var.endpoint_name}-${local.unique_suffix}"
  tags = merge(var.tags, {
    environment = var.environment_name
    managed-by  = "terraform"
  })
  network_default_action = var.public_network_access ? "Allow" : "Deny"
  identities             = yamldecode(file("${path.module}/../identities.yml"))
  cluster_roles = {
    for role in local.identities.service_identities["training-cluster"] :
    "${role.scope}/${role.role}" => role
  }
  role_scopes = {
    storage  = azurerm_storage_account.this.id
    registry = azurerm_container_registry.this.id
  }
}

resource "azurerm_log_analytics_workspace" "this" {
  name                = var.log_analytics_name
  location            = var.location
  resource_group_name = data.azurerm_resource_group.this.name
  sku                 = "PerGB2018"
  retention_in_days   = 90
  tags                = local.tags
}

resource "azurerm_application_insights" "this" {
  name                          = var.application_insights_name
  location                      = var.location
  resource_group_name           = data.azurerm_resource_group.this.name
  workspace_id                  = azurerm_log_analytics_workspace.this.id
  application_type              = "web"
  local_authentication_disabled = true
  tags                          = local.tags
}

resource "azurerm_storage_account" "this" {
  #checkov:skip=CKV_AZURE_33: queue logging needs shared-key access, which is off; the workspace uses no queues
  #checkov:skip=CKV_AZURE_59: public network access is the public_network_access variable; denying it needs the private endpoints of an enterprise network set-up
  #checkov:skip=CKV_AZURE_35: public network access is the public_network_access variable; denying it needs the private endpoints of an enterprise network set-up
  #checkov:skip=CKV2_AZURE_33: private endpoints belong to an enterprise network set-up
  #checkov:skip=CKV2_AZURE_1: customer-managed keys belong to an enterprise key-management set-up
  name                              = local.storage_name
  location                          = var.location
  resource_group_name               = data.azurerm_resource_group.this.name
  account_tier                      = "Standard"
  account_replication_type          = "GRS"
  account_kind                      = "StorageV2"
  min_tls_version                   = "TLS1_2"
  https_traffic_only_enabled        = true
  allow_nested_items_to_be_public   = false
  shared_access_key_enabled         = false
  default_to_oauth_authentication   = true
  infrastructure_encryption_enabled = true
  public_network_access_enabled     = var.public_network_access
  tags                              = local.tags

  network_rules {
    default_action = local.network_default_action
    bypass         = ["AzureServices"]
  }

  blob_properties {
    delete_retention_policy {
      days = 7
    }
    container_delete_retention_policy {
      days = 7
    }
  }
}

resource "azurerm_key_vault" "this" {
  #checkov:skip=CKV_AZURE_109: public network access is the public_network_access variable; denying it needs the private endpoints of an enterprise network set-up
  #checkov:skip=CKV_AZURE_189: public network access is the public_network_access variable; denying it needs the private endpoints of an enterprise network set-up
  #checkov:skip=CKV2_AZURE_32: private endpoints belong to an enterprise network set-up
  name                          = local.key_vault_name
  location                      = var.location
  resource_group_name           = data.azurerm_resource_group.this.name
  tenant_id                     = data.azurerm_client_config.current.tenant_id
  sku_name                      = "standard"
  rbac_authorization_enabled    = true
  purge_protection_enabled      = true
  soft_delete_retention_days    = 90
  public_network_access_enabled = var.public_network_access
  tags                          = local.tags

  network_acls {
    default_action = local.network_default_action
    bypass         = "AzureServices"
  }
}

# No content trust (retired: new registries cannot enable it) and no
# quarantine (quarantined images cannot be pulled until a scanner releases
# them, so Azure ML environments would never start).
resource "azurerm_container_registry" "this" {
  #checkov:skip=CKV_AZURE_164: Docker Content Trust is retired and cannot be enabled on new registries
  #checkov:skip=CKV_AZURE_166: quarantine keeps every image unpullable until a scanner releases it, so Azure ML environments never start
  #checkov:skip=CKV_AZURE_139: public network access is the public_network_access variable; denying it needs the private endpoints of an enterprise network set-up
  #checkov:skip=CKV_AZURE_165: geo-replication belongs to an enterprise multi-region set-up
  #checkov:skip=CKV_AZURE_233: zone redundancy belongs to an enterprise high-availability set-up
  name                          = local.registry_name
  location                      = var.location
  resource_group_name           = data.azurerm_resource_group.this.name
  sku                           = "Premium"
  admin_enabled                 = false
  anonymous_pull_enabled        = false
  public_network_access_enabled = var.public_network_access
  quarantine_policy_enabled     = false
  retention_policy_in_days      = 30
  network_rule_bypass_option    = "AzureServices"
  data_endpoint_enabled         = true
  tags                          = local.tags
}

# azapi, because azurerm's workspace cannot set systemDatastoresAuthMode:
# with shared keys off, the workspace's datastores must use Microsoft Entra
# ID, or every upload is refused. 2024-07-01-preview: the change log removes
# the property from 2024-04-01 and adds it back in 2024-07-01-preview.
resource "azapi_resource" "workspace" {
  type      = "Microsoft.MachineLearningServices/workspaces@2024-07-01-preview"
  name      = var.workspace_name
  location  = var.location
  parent_id = data.azurerm_resource_group.this.id
  # The release scripts read the endpoint's name from this tag.
  tags = merge(local.tags, { online-endpoint = local.endpoint_name })

  identity {
    type = "SystemAssigned"
  }

  body = {
    properties = {
      friendlyName             = var.workspace_name
      storageAccount           = azurerm_storage_account.this.id
      keyVault                 = azurerm_key_vault.this.id
      applicationInsights      = azurerm_application_insights.this.id
      containerRegistry        = azurerm_container_registry.this.id
      publicNetworkAccess      = var.public_network_access ? "Enabled" : "Disabled"
      systemDatastoresAuthMode = "identity"
      hbiWorkspace             = false
    }
  }
}

resource "azurerm_machine_learning_compute_cluster" "training" {
  name                          = var.compute_cluster_name
  location                      = var.location
  machine_learning_workspace_id = azapi_resource.workspace.id
  vm_priority                   = "Dedicated"
  vm_size                       = var.compute_vm_size
  local_auth_enabled            = false
  ssh_public_access_enabled     = false
  tags                          = local.tags

  scale_settings {
    min_node_count                       = 0
    max_node_count                       = var.compute_max_nodes
    scale_down_nodes_after_idle_duration = "PT15M"
  }

  identity {
    type = "SystemAssigned"
  }
}

# The training cluster reads and writes job data, and pulls images, as
# itself (infra/identities.yml, service_identities).
resource "azurerm_role_assignment" "training_cluster" {
  for_each             = local.cluster_roles
  scope                = local.role_scopes[each.value.scope]
  role_definition_name = each.value.role
  principal_id         = azurerm_machine_learning_compute_cluster.training.identity[0].principal_id
  principal_type       = "ServicePrincipal"
}
