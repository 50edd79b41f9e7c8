// One pipeline identity and the federated subjects it trusts (no secret).
param name string
param location string
param githubSubjectPrefixes array
param githubSubject string
param azureDevOpsIssuer string
param azureDevOpsSubject string

resource identity 'Microsoft.ManagedIdentity/userAssignedIdentities@2023-01-31' = {
  name: name
  location: location
}

// Federated credentials of one identity must be written one at a time.
@batchSize(1)
resource github 'Microsoft.ManagedIdentity/userAssignedIdentities/federatedIdentityCredentials@2023-01-31' = [for (prefix, index) in githubSubjectPrefixes: {
  parent: identity
  name: 'github-${index}'
  properties: {
    issuer: 'https://token.actions.githubusercontent.com'
    subject: '${prefix}:${githubSubject}'
    audiences: [
      'api://AzureADTokenExchange'
    ]
  }
}]

resource azureDevOps 'Microsoft.ManagedIdentity/userAssignedIdentities/federatedIdentityCredentials@2023-01-31' = if (!empty(azureDevOpsSubject)) {
  parent: identity
  name: 'azure-devops'
  properties: {
    issuer: azureDevOpsIssuer
    subject: azureDevOpsSubject
    audiences: [
      'api://AzureADTokenExchange'
    ]
  }
  dependsOn: [
    github
  ]
}

output clientId string = identity.properties.clientId
output principalId string = identity.properties.principalId
