# Inputs, each checked against Azure's naming rules before anything is sent.

variable "environment_name" {
  description = "The environment these resources serve (e.g. staging)."
  type        = string
  validation {
    condition     = can(regex("^[a-z][a-z0-9]{1,9}$", var.environment_name))
    error_message = "environment_name: 2-10 lowercase letters and digits, starting with a letter."
  }
}

variable "location" {
  description = "Azure region of every resource."
  type        = string
  validation {
    condition     = can(regex("^[a-z][a-z0-9]{2,29}$", var.location))
    error_message = "location: an Azure region name such as westeurope."
  }
}

variable "resource_group_name" {
  description = "Name of the resource group that holds the environment."
  type        = string
  validation {
    condition     = can(regex("^[-\\w.()]{1,89}[-\\w()]$", var.resource_group_name))
    error_message = "resource_group_name: 1-90 letters, digits, '-', '_', '.', '(' or ')', not ending in '.'."
  }
}

variable "workspace_name" {
  description = "Name of the Azure ML workspace."
  type        = string
  validation {
    condition     = can(regex("^[a-zA-Z0-9][a-zA-Z0-9_-]{2,32}$", var.workspace_name))
    error_message = "workspace_name: 3-33 letters, digits, '-' or '_', starting with a letter or digit."
  }
}

variable "storage_account_name" {
  description = "Start of the storage account's name; a 6-character suffix unique to the resource group follows."
  type        = string
  validation {
    condition     = can(regex("^[a-z0-9]{1,18}$", var.storage_account_name))
    error_message = "storage_account_name: 1-18 lowercase letters and digits (6 more follow)."
  }
}

variable "key_vault_name" {
  description = "Start of the key vault's name; a hyphen and a 6-character suffix unique to the resource group follow."
  type        = string
  validation {
    condition     = can(regex("^[a-zA-Z](?:[a-zA-Z0-9]|-[a-zA-Z0-9]){0,16}$", var.key_vault_name))
    error_message = "key_vault_name: 1-17 letters, digits and single hyphens, starting with a letter (7 more follow)."
  }
}

variable "container_registry_name" {
  description = "Start of the container registry's name; a 6-character suffix unique to the resource group follows."
  type        = string
  validation {
    condition     = can(regex("^[a-zA-Z0-9]{1,44}$", var.container_registry_name))
    error_message = "container_registry_name: 1-44 letters and digits (6 more follow)."
  }
}

variable "endpoint_name" {
  description = "Start of the online endpoint's name (unique per region); a hyphen and the 6-character suffix follow. Published as the workspace tag online-endpoint."
  type        = string
  validation {
    condition     = can(regex("^[a-zA-Z][a-zA-Z0-9-]{1,23}[a-zA-Z0-9]$", var.endpoint_name))
    error_message = "endpoint_name: 3-25 letters, digits and hyphens (7 more follow)."
  }
}

variable "log_analytics_name" {
  description = "Name of the Log Analytics workspace."
  type        = string
  validation {
    condition     = can(regex("^[a-zA-Z0-9][a-zA-Z0-9-]{2,61}[a-zA-Z0-9]$", var.log_analytics_name))
    error_message = "log_analytics_name: 4-63 letters, digits and hyphens."
  }
}

variable "application_insights_name" {
  description = "Name of the Application Insights component."
  type        = string
  validation {
    condition     = length(var.application_insights_name) <= 260
    error_message = "application_insights_name: at most 260 characters."
  }
}

variable "compute_cluster_name" {
  description = "Name of the training compute cluster."
  type        = string
  default     = "cpu-cluster"
  validation {
    condition     = can(regex("^[a-zA-Z][a-zA-Z0-9-]{1,15}$", var.compute_cluster_name))
    error_message = "compute_cluster_name: 2-16 letters, digits and hyphens, starting with a letter."
  }
}

variable "compute_vm_size" {
  description = "VM size of the training cluster nodes."
  type        = string
  default     = "Standard_DS3_v2"
}

variable "compute_max_nodes" {
  description = "Most nodes the training cluster scales out to (it scales to zero)."
  type        = number
  default     = 2
  validation {
    condition     = var.compute_max_nodes >= 1
    error_message = "compute_max_nodes: at least 1."
  }
}

variable "public_network_access" {
  description = "Allow access from public networks; turn off once private endpoints exist."
  type        = bool
  default     = true
}

variable "tags" {
  description = "Tags on every resource."
  type        = map(string)
  default     = {}
}
