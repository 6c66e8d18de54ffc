// The app's storage account: no shared keys, no public blobs, TLS 1.2. Containers for the pipeline's data and the
// deployment package; the registry tables. The Functions runtime creates its own (azure-webjobs-*) on first start.

@description('Location of the account.')
param location string

@description('Tags for the account.')
param tags object

@description('Storage account name (3-24 lowercase letters and digits).')
@minLength(3)
@maxLength(24)
param name string

@description('Container that holds the app\'s deployment package (Flex Consumption).')
param deploymentContainerName string

@description('Containers of the pipeline: datasets and their snapshots, scoring input and output, model artifacts, run outputs (trial models, reports), Event Grid dead letters.')
param containerNames array = [
  'datasets'
  'snapshots'
  'score-in'
  'score-out'
  'models'
  'runs'
  'eventgrid-deadletter'
]

@description('Tables of the model registry and run tracking.')
param tableNames array = [
  'models'
  'modelversions'
  'runs'
]

resource storage 'Microsoft.Storage/storageAccounts@2025-01-01' = {
  name: name
  location: location
  tags: tags
  kind: 'StorageV2'
  sku: { name: 'Standard_LRS' }
  properties: {
    accessTier: 'Hot'
    allowBlobPublicAccess: false
    allowSharedKeyAccess: false
    defaultToOAuthAuthentication: true
    minimumTlsVersion: 'TLS1_2'
    supportsHttpsTrafficOnly: true
    publicNetworkAccess: 'Enabled'
    networkAcls: {
      bypass: 'AzureServices'
      defaultAction: 'Allow'
    }
  }
}

resource blobService 'Microsoft.Storage/storageAccounts/blobServices@2025-01-01' = {
  parent: storage
  name: 'default'
  properties: {
    deleteRetentionPolicy: { enabled: true, days: 7 }
  }
}

resource containers 'Microsoft.Storage/storageAccounts/blobServices/containers@2025-01-01' = [for container in union(containerNames, [deploymentContainerName]): {
  parent: blobService
  name: container
  properties: { publicAccess: 'None' }
}]

resource tableService 'Microsoft.Storage/storageAccounts/tableServices@2025-01-01' = {
  parent: storage
  name: 'default'
}

resource tables 'Microsoft.Storage/storageAccounts/tableServices/tables@2025-01-01' = [for table in tableNames: {
  parent: tableService
  name: table
}]

output id string = storage.id
output name string = storage.name
output blobEndpoint string = storage.properties.primaryEndpoints.blob
output queueEndpoint string = storage.properties.primaryEndpoints.queue
output tableEndpoint string = storage.properties.primaryEndpoints.table
