// One role of infra/identities.yml, at this resource group or at the
// Terraform state container in it. A state role is chosen by its container
// (identities.yml); the account is the recorded name the set-up passes in,
// and an empty one fails the deployment instead of widening the grant to
// the resource group.
param identityName string
param identityResourceGroup string
param role string
param customRoleName string
param condition string
param stateAccount string
param stateContainer string

// Built-in roles by name: https://learn.microsoft.com/azure/role-based-access-control/built-in-roles
var builtInRoles = {
  Reader: 'acdd72a7-3385-48ef-bd42-f606fba81ae7'
  Contributor: 'b24988ac-6180-42a0-ab88-20f7382dd24c'
  'Role Based Access Control Administrator': 'f58310d9-a9f6-439a-9e8d-f62e7b41a168'
  'Storage Blob Data Contributor': 'ba92f5b4-2d11-453d-a403-e96b0029c9fe'
  'Storage Blob Data Reader': '2a2b9908-6ea1-4ae2-8e65-a410df84e7d1'
  AcrPull: '7f951dda-4ed3-4680-a7ca-43fe172d538d'
}
var roleId = empty(customRoleName) ? builtInRoles[role] : guid(subscription().id, customRoleName)

resource identity 'Microsoft.ManagedIdentity/userAssignedIdentities@2023-01-31' existing = {
  name: identityName
  scope: resourceGroup(identityResourceGroup)
}

resource account 'Microsoft.Storage/storageAccounts@2023-05-01' existing = if (!empty(stateContainer)) {
  name: stateAccount
}

resource blobService 'Microsoft.Storage/storageAccounts/blobServices@2023-05-01' existing = if (!empty(stateContainer)) {
  parent: account
  name: 'default'
}

resource container 'Microsoft.Storage/storageAccounts/blobServices/containers@2023-05-01' existing = if (!empty(stateContainer)) {
  parent: blobService
  name: empty(stateContainer) ? 'unused' : stateContainer
}

resource onGroup 'Microsoft.Authorization/roleAssignments@2022-04-01' = if (empty(stateContainer)) {
  name: guid(resourceGroup().id, identityName, role)
  properties: {
    principalId: identity.properties.principalId
    principalType: 'ServicePrincipal'
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roleId)
    condition: empty(condition) ? null : condition
    conditionVersion: empty(condition) ? null : '2.0'
  }
}

resource onState 'Microsoft.Authorization/roleAssignments@2022-04-01' = if (!empty(stateContainer)) {
  name: guid(resourceGroup().id, stateAccount, identityName, role)
  scope: container
  properties: {
    principalId: identity.properties.principalId
    principalType: 'ServicePrincipal'
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roleId)
  }
}
