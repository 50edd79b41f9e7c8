// The workspace's key vault: RBAC authorisation, soft delete and purge
// protection on.
param location string
param name string
param publicNetworkAccess bool
param tags object

resource keyVault 'Microsoft.KeyVault/vaults@2023-07-01' = {
  // checkov:skip=CKV_AZURE_109: public network access is the publicNetworkAccess parameter; denying it needs the private endpoints of an enterprise network set-up
  // checkov:skip=CKV_AZURE_189: public network access is the publicNetworkAccess parameter; denying it needs the private endpoints of an enterprise network set-up
  name: name
  location: location
  tags: tags
  properties: {
    tenantId: subscription().tenantId
    sku: {
      family: 'A'
      name: 'standard'
    }
    enableRbacAuthorization: true
    enableSoftDelete: true
    softDeleteRetentionInDays: 90
    enablePurgeProtection: true
    publicNetworkAccess: publicNetworkAccess ? 'Enabled' : 'Disabled'
    networkAcls: {
      bypass: 'AzureServices'
      defaultAction: publicNetworkAccess ? 'Allow' : 'Deny'
    }
  }
}

output id string = keyVault.id
