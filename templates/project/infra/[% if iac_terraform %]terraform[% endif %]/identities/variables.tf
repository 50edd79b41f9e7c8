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

variable "azure_devops_issuer" {
  description = "Issuer of the Azure DevOps service connections' tokens, as a connection shows it; empty: no Azure DevOps trust."
  type        = string
  default     = ""
  validation {
    condition     = var.azure_devops_issuer == "" || can(regex("^https://", var.azure_devops_issuer))
    error_message = "azure_devops_issuer: empty, or the https URL a service connection shows."
  }
}

variable "azure_devops_subject_prefix" {
  description = "Subject prefix of the service connections (sc://<organization>/<project>); each identity trusts <prefix>/<its connection>."
  type        = string
  default     = ""
}
