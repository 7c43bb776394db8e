// One flow-log storage account (deployed into its own resource group): read access for the app, an Event
// Grid system topic, and one BlobCreated subscription per flow-log container, filtered to committed
// block lists of PT1H.json blobs. Flow logs must live in the NSG's / VNet's region, so there is one such
// account per region and this module runs once per account.

param storageAccountName string
@description('Region of the storage account (a system topic lives in its source\'s region).')
param location string
param tags object
@description('Object id of the Functions app\'s system-assigned identity.')
param principalId string
param functionAppId string
param eventGridFunctionName string
param flowLogContainers array
@description('Subscriptions validate their endpoint, so they can be created only once the function is deployed.')
param enableEventSubscriptions bool

var storageBlobDataReader = '2a2b9908-6ea1-4ae2-8e65-a410df84e7d1'

resource account 'Microsoft.Storage/storageAccounts@2023-05-01' existing = {
  name: storageAccountName
}

resource blobReader 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(account.id, principalId, storageBlobDataReader)
  scope: account
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', storageBlobDataReader)
    principalId: principalId
    principalType: 'ServicePrincipal'
  }
}

// An account can have only one system topic: if it already has one, this fails (docs/deployment.md,
// "An existing system topic").
resource topic 'Microsoft.EventGrid/systemTopics@2022-06-15' = {
  name: 'evgt-flowlog-${storageAccountName}'
  location: location
  tags: tags
  properties: {
    source: account.id
    topicType: 'Microsoft.Storage.StorageAccounts'
  }
}

resource subscriptions 'Microsoft.EventGrid/systemTopics/eventSubscriptions@2022-06-15' = [
  for container in flowLogContainers: if (enableEventSubscriptions) {
    parent: topic
    name: take('flowlog-${replace(container, 'insights-logs-', '')}', 64)
    properties: {
      destination: {
        endpointType: 'AzureFunction'
        properties: {
          resourceId: '${functionAppId}/functions/${eventGridFunctionName}'
          maxEventsPerBatch: 1
          preferredBatchSizeInKilobytes: 64
        }
      }
      eventDeliverySchema: 'EventGridSchema'
      filter: {
        includedEventTypes: ['Microsoft.Storage.BlobCreated']
        // Trailing '/': exactly this container, not one whose name starts the same.
        subjectBeginsWith: '/blobServices/default/containers/${container}/'
        subjectEndsWith: 'PT1H.json'
        isSubjectCaseSensitive: false
        advancedFilters: [
          {
            // Only fully committed block lists: the flow-log writer re-commits the list on every append.
            operatorType: 'StringIn'
            key: 'data.api'
            values: ['PutBlockList']
          }
        ]
      }
      retryPolicy: {
        maxDeliveryAttempts: 30
        eventTimeToLiveInMinutes: 1440
      }
    }
  }
]

output systemTopicName string = topic.name
