// Parameters for the staging environment. Names follow Azure's rules
// for every resource; the globally unique ones end in a stable hash.
using 'main.bicep'

param environmentName = 'staging'
param location = 'westeurope'
param workspaceName = 'mlw-sampleproject-staging'
param storageAccountName = 'stsampleprojecf92b13'
param keyVaultName = 'kv-sampleprojec-f92b13'
param containerRegistryName = 'crsampleprojecf92b13'
param logAnalyticsName = 'log-sample-project-staging'
param applicationInsightsName = 'appi-sample-project-staging'
param computeClusterName = 'cpu-cluster'
param computeMaxNodes = 2

param publicNetworkAccess = true
param tags = {
  project: 'sample-project'
}
