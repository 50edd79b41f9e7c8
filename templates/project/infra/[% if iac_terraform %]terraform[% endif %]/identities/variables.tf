variable "github_repository" {
  description = "GitHub repository (owner/name) whose workflows log in; empty: no GitHub trust."
  type        = string
  default     = ""
  validation {
    condition     = var.github_repository == "" || can(regex("^[A-Za-z0-9-]+/[A-Za-z0-9._-]+$", var.github_repository))
    error_message = "github_repository: owner/name, e.g. my-org/fraud-model."
  }
}

variable "azure_devops_organization" {
  description = "Azure DevOps organization name; empty: no Azure DevOps trust."
  type        = string
  default     = ""
}

variable "azure_devops_project" {
  description = "Azure DevOps project name."
  type        = string
  default     = ""
}

variable "azure_devops_organization_id" {
  description = "Azure DevOps organization ID (a GUID), the issuer of its tokens."
  type        = string
  default     = ""
  validation {
    condition     = var.azure_devops_organization_id == "" || can(regex("^[0-9a-fA-F-]{36}$", var.azure_devops_organization_id))
    error_message = "azure_devops_organization_id: empty, or a GUID."
  }
}
