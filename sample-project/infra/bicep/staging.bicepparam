// Parameters for the staging environment. Names follow Azure's rules
// for every resource; main.bicep appends uniqueString(resourceGroup().id) to the
// globally unique ones.
using 'main.bicep'

param environmentName = 'staging'
param location = 'westeurope'
param workspaceName = 'mlw-sampleproject-staging'
param storageAccountName = 'stsampleprojecstag'
param keyVaultName = 'kvsampleprojestag'
param containerRegistryName = 'crsampleprojecstag'
param logAnalyticsName = 'log-sample-project-staging'
param applicationInsightsName = 'appi-sample-project-staging'
param computeClusterName = 'cpu-cluster'
param endpointName = 'sample-project-staging'
param computeMaxNodes = 2

param publicNetworkAccess = true
param tags = {
  project: 'sample-project'
}
