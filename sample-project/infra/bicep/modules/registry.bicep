// The container registry that holds the images Azure ML builds for its
// environments; no admin user (identities pull with Microsoft Entra ID).
// No content trust (retired: new registries cannot enable it) and no
// quarantine (quarantined images cannot be pulled until a scanner releases
// them, so Azure ML environments would never start).
param location string
param name string
param publicNetworkAccess bool
param tags object

resource registry 'Microsoft.ContainerRegistry/registries@2023-07-01' = {
  // checkov:skip=CKV_AZURE_139: public network access is the publicNetworkAccess parameter; denying it needs the private endpoints of an enterprise network set-up
  // checkov:skip=CKV_AZURE_164: Docker Content Trust is retired and cannot be enabled on new registries
  // checkov:skip=CKV_AZURE_166: quarantine keeps every image unpullable until a scanner releases it, so Azure ML environments never start
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
      quarantinePolicy: {
        status: 'disabled'
      }
    }
  }
}

output id string = registry.id
