// The BlobCreated subscriptions of one flow-log account's system topic (deployed into that account's
// resource group): one per flow-log container, filtered to committed block lists of PT1H.json blobs,
// delivered to the app's Event Grid function with retries, and dead-lettered into host storage with the
// topic's own identity once the retries are exhausted (nothing accepted by Event Grid is dropped).

param systemTopicName string
param functionAppId string
param eventGridFunctionName string
param flowLogContainers array
@description('Resource id of the storage account receiving dead letters (host storage).')
param deadLetterStorageAccountId string
param deadLetterContainerName string

resource topic 'Microsoft.EventGrid/systemTopics@2022-06-15' existing = {
  name: systemTopicName
}

resource subscriptions 'Microsoft.EventGrid/systemTopics/eventSubscriptions@2022-06-15' = [
  for container in flowLogContainers: {
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
      // After 30 attempts or 24 h the event is written as a blob to
      // <deadLetterContainerName>/<topic>/<subscription>/… in host storage (no key: the topic's identity,
      // Storage Blob Data Contributor on that container only). docs/deployment.md: what to do with them.
      deadLetterWithResourceIdentity: {
        identity: { type: 'SystemAssigned' }
        deadLetterDestination: {
          endpointType: 'StorageBlob'
          properties: {
            resourceId: deadLetterStorageAccountId
            blobContainerName: deadLetterContainerName
          }
        }
      }
    }
  }
]
