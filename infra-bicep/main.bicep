// Serverless ML pipeline on Azure Functions Flex Consumption. Deploy with 'azd up' or the Azure CLI
// (docs/DEPLOY.md). After the code is deployed, run eventgrid.bicep (scripts/subscribe-blob-events.sh) to send
// blob-created events under score-in/ to the blob trigger: its webhook key exists only once the code runs.
targetScope = 'resourceGroup'

@description('Environment name (azd); part of every resource name.')
@minLength(1)
@maxLength(32)
param environmentName string

@description('Location of every resource.')
param location string = resourceGroup().location

@description('Memory per instance, in MB (Flex Consumption: 512, 2048 or 4096). Training wants 4096.')
@allowed([
  512
  2048
  4096
])
param instanceMemoryMB int = 2048

@description('Most instances the app scales out to (40-1000).')
@minValue(40)
@maxValue(1000)
param maximumInstanceCount int = 100

@description('Always-ready instances for the Durable group; 0 keeps scale-to-zero (the first orchestration after idle pays a cold start).')
@minValue(0)
@maxValue(20)
param durableAlwaysReadyInstances int = 0

@description('Durable Functions backend: Azure Storage (the app\'s own account) or the Durable Task Scheduler.')
@allowed([
  'AzureStorage'
  'DurableTaskScheduler'
])
param durableBackend string = 'AzureStorage'

@description('Durable Task Scheduler SKU, when that backend is chosen.')
@allowed([
  'Consumption'
  'Dedicated'
])
param durableTaskSchedulerSku string = 'Consumption'

@description('Task hub name (letters and digits).')
param taskHubName string = 'serverlessml'

@description('Retraining schedule: 6-field NCRONTAB, UTC.')
param retrainSchedule string = '0 0 3 * * *'

@description('Object id of a user to give data access to the storage account (azd sets it); empty for none.')
param principalId string = ''

var tags = { 'azd-env-name': environmentName }
var token = toLower(uniqueString(subscription().id, resourceGroup().id, environmentName))
var functionAppName = 'func-${environmentName}-${token}'
var deploymentContainerName = 'app-package-${take(functionAppName, 32)}-${take(token, 7)}'
var identityName = 'id-${environmentName}-${token}'

module identity 'modules/identity.bicep' = {
  name: 'identity'
  params: {
    location: location
    tags: tags
    name: identityName
  }
}

module monitoring 'modules/monitoring.bicep' = {
  name: 'monitoring'
  params: {
    location: location
    tags: tags
    logAnalyticsName: 'log-${environmentName}-${token}'
    applicationInsightsName: 'appi-${environmentName}-${token}'
  }
}

module storage 'modules/storage.bicep' = {
  name: 'storage'
  params: {
    location: location
    tags: tags
    name: 'st${token}'
    deploymentContainerName: deploymentContainerName
  }
}

module roles 'modules/role-assignments.bicep' = {
  name: 'role-assignments'
  params: {
    storageAccountName: storage.outputs.name
    applicationInsightsName: monitoring.outputs.applicationInsightsName
    appPrincipalId: identity.outputs.principalId
    userPrincipalId: principalId
  }
}

module scheduler 'modules/durable-task-scheduler.bicep' = if (durableBackend == 'DurableTaskScheduler') {
  name: 'durable-task-scheduler'
  params: {
    location: location
    tags: tags
    name: 'dts-${environmentName}-${token}'
    taskHubName: taskHubName
    skuName: durableTaskSchedulerSku
    appPrincipalId: identity.outputs.principalId
  }
}

module functionApp 'modules/function-app.bicep' = {
  name: 'function-app'
  params: {
    location: location
    tags: tags
    planName: 'plan-${environmentName}-${token}'
    name: functionAppName
    identityId: identity.outputs.id
    identityClientId: identity.outputs.clientId
    blobEndpoint: storage.outputs.blobEndpoint
    queueEndpoint: storage.outputs.queueEndpoint
    tableEndpoint: storage.outputs.tableEndpoint
    deploymentContainerName: deploymentContainerName
    applicationInsightsConnectionString: monitoring.outputs.connectionString
    instanceMemoryMB: instanceMemoryMB
    maximumInstanceCount: maximumInstanceCount
    durableAlwaysReadyInstances: durableAlwaysReadyInstances
    taskHubName: taskHubName
    retrainSchedule: retrainSchedule
    durableTaskSchedulerEndpoint: durableBackend == 'DurableTaskScheduler' ? scheduler!.outputs.endpoint : ''
  }
  dependsOn: [
    roles
  ]
}

// The topic exists from the start; its webhook subscription comes in the second step (eventgrid.bicep).
resource storageAccount 'Microsoft.Storage/storageAccounts@2025-01-01' existing = {
  name: 'st${token}'
}

resource blobEvents 'Microsoft.EventGrid/systemTopics@2025-02-15' = {
  name: 'evgt-${environmentName}-${token}'
  location: location
  tags: tags
  identity: {
    type: 'UserAssigned'
    userAssignedIdentities: {
      '${resourceId('Microsoft.ManagedIdentity/userAssignedIdentities', identityName)}': {}
    }
  }
  properties: {
    source: storageAccount.id
    topicType: 'Microsoft.Storage.StorageAccounts'
  }
  dependsOn: [
    storage
    identity
  ]
}

output AZURE_LOCATION string = location
output AZURE_FUNCTION_APP_NAME string = functionApp.outputs.name
output AZURE_FUNCTION_APP_URL string = 'https://${functionApp.outputs.defaultHostName}'
output AZURE_STORAGE_ACCOUNT_NAME string = storage.outputs.name
output AZURE_EVENTGRID_TOPIC_NAME string = blobEvents.name
output AZURE_IDENTITY_ID string = identity.outputs.id
output DURABLE_BACKEND string = durableBackend
