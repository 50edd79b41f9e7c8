// The Azure ML platform for one environment: workspace, storage, key vault,
// monitoring, container registry, a training cluster that scales to zero,
// and the roles Azure ML's own identities need (infra/identities.yml). The
// resource group and the pipeline identities come first, from
// identities.bicep. Deploy with `az deployment group create --resource-group
// <rg> --parameters <environment>.bicepparam` (the infra pipeline does this).
targetScope = 'resourceGroup'

@description('Azure region of every resource.')
param location string = resourceGroup().location

@description('The environment these resources serve (e.g. staging).')
@minLength(2)
@maxLength(10)
param environmentName string

@description('Name of the Azure ML workspace.')
@minLength(3)
@maxLength(33)
param workspaceName string

@description('Name of the storage account (3-24 lowercase letters and digits).')
@minLength(3)
@maxLength(24)
param storageAccountName string

@description('Name of the key vault (3-24 letters, digits and hyphens).')
@minLength(3)
@maxLength(24)
param keyVaultName string

@description('Name of the container registry (5-50 letters and digits).')
@minLength(5)
@maxLength(50)
param containerRegistryName string

@description('Name of the Log Analytics workspace.')
param logAnalyticsName string

@description('Name of the Application Insights component.')
param applicationInsightsName string

@description('Name of the training compute cluster.')
@minLength(2)
@maxLength(16)
param computeClusterName string = 'cpu-cluster'

@description('VM size of the training cluster nodes.')
param computeVmSize string = 'Standard_DS3_v2'

@description('Most nodes the training cluster scales out to (it scales to zero).')
@minValue(1)
param computeMaxNodes int = 2

@description('Allow access from public networks; turn off once private endpoints exist.')
param publicNetworkAccess bool = true

@description('Tags on every resource.')
param tags object = {}

var allTags = union(tags, {
  environment: environmentName
  'managed-by': 'bicep'
})

module monitoring 'modules/monitoring.bicep' = {
  name: 'monitoring'
  params: {
    location: location
    logAnalyticsName: logAnalyticsName
    applicationInsightsName: applicationInsightsName
    tags: allTags
  }
}

module storage 'modules/storage.bicep' = {
  name: 'storage'
  params: {
    location: location
    name: storageAccountName
    publicNetworkAccess: publicNetworkAccess
    tags: allTags
  }
}

module keyVault 'modules/keyvault.bicep' = {
  name: 'keyVault'
  params: {
    location: location
    name: keyVaultName
    publicNetworkAccess: publicNetworkAccess
    tags: allTags
  }
}

module registry 'modules/registry.bicep' = {
  name: 'registry'
  params: {
    location: location
    name: containerRegistryName
    publicNetworkAccess: publicNetworkAccess
    tags: allTags
  }
}

module workspace 'modules/workspace.bicep' = {
  name: 'workspace'
  params: {
    location: location
    name: workspaceName
    storageAccountId: storage.outputs.id
    keyVaultId: keyVault.outputs.id
    applicationInsightsId: monitoring.outputs.applicationInsightsId
    containerRegistryId: registry.outputs.id
    publicNetworkAccess: publicNetworkAccess
    computeClusterName: computeClusterName
    computeVmSize: computeVmSize
    computeMaxNodes: computeMaxNodes
    tags: allTags
  }
}

module roles 'modules/roles.bicep' = {
  name: 'roles'
  params: {
    principalId: workspace.outputs.clusterPrincipalId
    storageAccountName: storageAccountName
    containerRegistryName: containerRegistryName
    roles: loadYamlContent('../identities.yml').service_identities['training-cluster']
  }
  dependsOn: [
    storage
    registry
  ]
}

output workspaceName string = workspace.outputs.name
output workspaceId string = workspace.outputs.id
output storageAccountId string = storage.outputs.id
output keyVaultId string = keyVault.outputs.id
output containerRegistryId string = registry.outputs.id
output applicationInsightsId string = monitoring.outputs.applicationInsightsId
