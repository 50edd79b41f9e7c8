// Parameters for the production environment. Names follow Azure's rules
// for every resource; the globally unique ones end in a stable hash.
using 'main.bicep'

param environmentName = 'production'
param location = 'westeurope'
param workspaceName = 'mlw-sampleproject-production'
param storageAccountName = 'stsampleprojece3189d'
param keyVaultName = 'kv-sampleprojec-e3189d'
param containerRegistryName = 'crsampleprojece3189d'
param logAnalyticsName = 'log-sample-project-production'
param applicationInsightsName = 'appi-sample-project-production'
param computeClusterName = 'cpu-cluster'
param computeMaxNodes = 4

param publicNetworkAccess = true
param tags = {
  project: 'sample-project'
}
