// One pipeline identity and the federated subjects it trusts (no secret).
param name string
param location string
param githubSubject string
param azureDevOpsIssuer string
param azureDevOpsSubject string

resource identity 'Microsoft.ManagedIdentity/userAssignedIdentities@2023-01-31' = {
  name: name
  location: location
}

// Federated credentials of one identity must be written one at a time.
resource github 'Microsoft.ManagedIdentity/userAssignedIdentities/federatedIdentityCredentials@2023-01-31' = if (!empty(githubSubject)) {
  parent: identity
  name: 'github'
  properties: {
    issuer: 'https://token.actions.githubusercontent.com'
    subject: githubSubject
    audiences: [
      'api://AzureADTokenExchange'
    ]
  }
}

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
