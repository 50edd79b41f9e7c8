// The container registry that holds the images Azure ML builds for its
// environments; no admin user (identities pull with Microsoft Entra ID).
param location string
param name string
param publicNetworkAccess bool
param tags object

resource registry 'Microsoft.ContainerRegistry/registries@2023-07-01' = {
  // checkov:skip=CKV_AZURE_139: public network access is the publicNetworkAccess parameter; denying it needs the private endpoints of an enterprise network set-up
  name: name
  location: location
  tags: tags
  sku: {
    name: 'Premium'
  }
  properties: {
    adminUserEnabled: false
    anonymousPullEnabled: false
    publicNetworkAccess: publicNetworkAccess ? 'Enabled' : 'Disabled'
    networkRuleBypassOptions: 'AzureServices'
    dataEndpointEnabled: true
    policies: {
      retentionPolicy: {
        status: 'enabled'
        days: 30
      }
      trustPolicy: {
        status: 'enabled'
        type: 'Notary'
      }
      quarantinePolicy: {
        status: 'enabled'
      }
    }
  }
}

output id string = registry.id
