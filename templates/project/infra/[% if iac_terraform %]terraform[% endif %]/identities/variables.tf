variable "github_subject_prefixes" {
  description = "Subject prefixes of the GitHub repository whose workflows log in: repo:<owner>/<repo> and, for repositories with immutable subject claims, repo:<owner>@<owner id>/<repo>@<repo id>. Empty: no GitHub trust."
  type        = list(string)
  default     = []
  validation {
    condition = alltrue([
      for prefix in var.github_subject_prefixes :
      can(regex("^repo:[A-Za-z0-9-]+(@[0-9]+)?/[A-Za-z0-9._-]+(@[0-9]+)?$", prefix))
    ])
    error_message = "github_subject_prefixes: repo:owner/name or repo:owner@id/name@id."
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
