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

variable "azure_devops_subjects" {
  description = "Per Azure DevOps service connection (the azure_devops name of an identity in identities.yml), the exact issuer and subject it shows (authorization.parameters.workloadIdentityFederationIssuer and workloadIdentityFederationSubject). Empty: no Azure DevOps trust."
  type = map(object({
    issuer  = string
    subject = string
  }))
  default = {}
  validation {
    condition = alltrue([
      for connection in values(var.azure_devops_subjects) :
      can(regex("^https://", connection.issuer)) && connection.subject != ""
    ])
    error_message = "azure_devops_subjects: each connection's https issuer and non-empty subject, as the connection shows them."
  }
}

variable "state_storage_account" {
  description = "The Terraform state account: the name infra/terraform/state.backend.hcl records (scripts/setup_azure_federation.sh derives it from the subscription when it creates the account, and passes it here). Empty without roles on the state."
  type        = string
  default     = ""
  validation {
    condition     = can(regex("^([a-z0-9]{3,24})?$", var.state_storage_account))
    error_message = "state_storage_account: a storage account name, 3-24 lowercase letters and digits."
  }
}
