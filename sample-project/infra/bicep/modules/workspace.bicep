// The Azure ML workspace (system-assigned identity) and its training cluster,
// which scales to zero nodes when idle.
param location string
param name string
param storageAccountId string
param keyVaultId string
param applicationInsightsId string
param containerRegistryId string
param publicNetworkAccess bool
param computeClusterName string
param computeVmSize string
param computeMaxNodes int
param tags object

// 2024-07-01-preview: the workspaces change log removes systemDatastoresAuthMode
// from 2024-04-01 and adds it back in 2024-07-01-preview; Azure's own samples
// for keyless storage use this version. Without it the datastores fall back
// to account keys, which the storage account (shared keys off) refuses.
resource workspace 'Microsoft.MachineLearningServices/workspaces@2024-07-01-preview' = {
  // checkov:skip=CKV_AZURE_243: private endpoints belong to an enterprise network set-up; public access is the publicNetworkAccess parameter
  name: name
  location: location
  tags: tags
  identity: {
    type: 'SystemAssigned'
  }
  properties: {
    friendlyName: name
    storageAccount: storageAccountId
    keyVault: keyVaultId
    applicationInsights: applicationInsightsId
    containerRegistry: containerRegistryId
    publicNetworkAccess: publicNetworkAccess ? 'Enabled' : 'Disabled'
    systemDatastoresAuthMode: 'identity'
    hbiWorkspace: false
  }
}

resource cluster 'Microsoft.MachineLearningServices/workspaces/computes@2024-04-01' = {
  parent: workspace
  name: computeClusterName
  location: location
  identity: {
    type: 'SystemAssigned'
  }
  properties: {
    computeType: 'AmlCompute'
    disableLocalAuth: true
    properties: {
      vmSize: computeVmSize
      vmPriority: 'Dedicated'
      scaleSettings: {
        minNodeCount: 0
        maxNodeCount: computeMaxNodes
        nodeIdleTimeBeforeScaleDown: 'PT15M'
      }
      remoteLoginPortPublicAccess: 'Disabled'
    }
  }
}

output id string = workspace.id
output name string = workspace.name
output clusterPrincipalId string = cluster.identity.principalId
