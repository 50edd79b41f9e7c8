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

@description('Start of the storage account name (lowercase letters and digits); a suffix unique to the resource group follows.')
@minLength(1)
@maxLength(18)
param storageAccountName string

@description('Start of the key vault name (letters, digits and hyphens); a hyphen and the suffix follow.')
@minLength(1)
@maxLength(17)
param keyVaultName string

@description('Start of the container registry name (letters and digits); the suffix follows.')
@minLength(1)
@maxLength(44)
param containerRegistryName string

@description('Start of the online endpoint name (unique per region); a hyphen and the suffix follow.')
@minLength(3)
@maxLength(25)
param endpointName string

// Storage, key vault and registry names are global, endpoint names
// regional: the suffix keeps two projects of the same name apart, as
// Azure's quickstart templates do with uniqueString(resourceGroup().id).
var uniqueSuffix = substring(uniqueString(resourceGroup().id), 0, 6)
var storageName = '${storageAccountName}${uniqueSuffix}'
var vaultName = '${keyVaultName}-${uniqueSuffix}'
var registryName = '${containerRegistryName}${uniqueSuffix}'
var onlineEndpointName = '${endpointName}-${uniqueSuffix}'

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
    name: storageName
    publicNetworkAccess: publicNetworkAccess
    tags: allTags
  }
}

module keyVault 'modules/keyvault.bicep' = {
  name: 'keyVault'
  params: {
    location: location
    name: vaultName
    publicNetworkAccess: publicNetworkAccess
    tags: allTags
  }
}

module registry 'modules/registry.bicep' = {
  name: 'registry'
  params: {
    location: location
    name: registryName
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
    // scripts/deploy.sh reads the endpoint's name from this tag
    tags: union(allTags, {
      'online-endpoint': onlineEndpointName
    })
  }
}

module roles 'modules/roles.bicep' = {
  name: 'roles'
  params: {
    principalId: workspace.outputs.clusterPrincipalId
    storageAccountName: storageName
    containerRegistryName: registryName
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
output storageAccountName string = storageName
output keyVaultName string = vaultName
output containerRegistryName string = registryName
output endpointName string = onlineEndpointName
