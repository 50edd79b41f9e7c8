// Parameters for the production environment. Names follow Azure's rules
// for every resource; main.bicep appends uniqueString(resourceGroup().id) to the
// globally unique ones.
using 'main.bicep'

param environmentName = 'production'
param location = 'westeurope'
param workspaceName = 'mlw-sampleproject-production'
param storageAccountName = 'stsampleprojecprod'
param keyVaultName = 'kvsampleprojeprod'
param containerRegistryName = 'crsampleprojecprod'
param logAnalyticsName = 'log-sample-project-production'
param applicationInsightsName = 'appi-sample-project-production'
param computeClusterName = 'cpu-cluster'
param endpointName = 'sample-project-production'
param computeMaxNodes = 4

param publicNetworkAccess = true
param tags = {
  project: 'sample-project'
}
