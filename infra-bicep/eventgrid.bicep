// Step two, after the code is deployed: subscribe the blob trigger's webhook to BlobCreated events under score-in/.
// The webhook needs the host's 'blobs_extension' system key, which exists only once the app has started.
targetScope = 'resourceGroup'

@description('Function app name (main.bicep output AZURE_FUNCTION_APP_NAME).')
param functionAppName string

@description('Storage account name (AZURE_STORAGE_ACCOUNT_NAME).')
param storageAccountName string

@description('Event Grid system topic name (AZURE_EVENTGRID_TOPIC_NAME).')
param systemTopicName string

@description('Resource id of the identity that writes dead letters (AZURE_IDENTITY_ID).')
param identityId string

@description('The blob-triggered function that receives the events.')
param functionName string = 'ScoreOnBlobDrop'

@description('The container it watches.')
param inputContainerName string = 'score-in'

@description('Where undeliverable events go.')
param deadLetterContainerName string = 'eventgrid-deadletter'

resource site 'Microsoft.Web/sites@2025-03-01' existing = {
  name: functionAppName
}

resource storage 'Microsoft.Storage/storageAccounts@2025-01-01' existing = {
  name: storageAccountName
}

resource topic 'Microsoft.EventGrid/systemTopics@2025-02-15' existing = {
  name: systemTopicName
}

resource subscription 'Microsoft.EventGrid/systemTopics/eventSubscriptions@2025-02-15' = {
  parent: topic
  name: '${toLower(functionName)}-blob-created'
  properties: {
    destination: {
      endpointType: 'WebHook'
      properties: {
        endpointUrl: 'https://${site.properties.defaultHostName}/runtime/webhooks/blobs?functionName=Host.Functions.${functionName}&code=${listKeys('${site.id}/host/default', '2025-03-01').systemKeys.blobs_extension}'
      }
    }
    filter: {
      includedEventTypes: [
        'Microsoft.Storage.BlobCreated'
      ]
      subjectBeginsWith: '/blobServices/default/containers/${inputContainerName}/'
    }
    eventDeliverySchema: 'EventGridSchema'
    retryPolicy: {
      maxDeliveryAttempts: 30
      eventTimeToLiveInMinutes: 1440
    }
    deadLetterWithResourceIdentity: {
      identity: {
        type: 'UserAssigned'
        userAssignedIdentity: identityId
      }
      deadLetterDestination: {
        endpointType: 'StorageBlob'
        properties: {
          resourceId: storage.id
          blobContainerName: deadLetterContainerName
        }
      }
    }
  }
}

output subscriptionName string = subscription.name
