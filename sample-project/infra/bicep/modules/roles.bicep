// The roles Azure ML's own managed identities need in this environment
// (infra/identities.yml, service_identities): with shared keys off, the
// training cluster reads and writes job data as itself, and pulls the
// environment images from the registry as itself.
param principalId string
param storageAccountName string
param containerRegistryName string
param roles array

// Built-in roles by name: https://learn.microsoft.com/azure/role-based-access-control/built-in-roles
var builtInRoles = {
  'Storage Blob Data Contributor': 'ba92f5b4-2d11-453d-a403-e96b0029c9fe'
  'Storage Blob Data Reader': '2a2b9908-6ea1-4ae2-8e65-a410df84e7d1'
  AcrPull: '7f951dda-4ed3-4680-a7ca-43fe172d538d'
}

resource storage 'Microsoft.Storage/storageAccounts@2023-05-01' existing = {
  name: storageAccountName
}

resource registry 'Microsoft.ContainerRegistry/registries@2023-07-01' existing = {
  name: containerRegistryName
}

resource onStorage 'Microsoft.Authorization/roleAssignments@2022-04-01' = [for role in roles: if (role.scope == 'storage') {
  name: guid(storage.id, principalId, role.role)
  scope: storage
  properties: {
    principalId: principalId
    principalType: 'ServicePrincipal'
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', builtInRoles[role.role])
  }
}]

resource onRegistry 'Microsoft.Authorization/roleAssignments@2022-04-01' = [for role in roles: if (role.scope == 'registry') {
  name: guid(registry.id, principalId, role.role)
  scope: registry
  properties: {
    principalId: principalId
    principalType: 'ServicePrincipal'
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', builtInRoles[role.role])
  }
}]
