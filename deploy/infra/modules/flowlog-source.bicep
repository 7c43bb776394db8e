// One flow-log storage account (deployed into its own resource group): read access for the app to the
// flow-log containers only, and an Event Grid system topic with a system-assigned identity (it writes
// dead letters into host storage; main.bicep grants that). Flow logs must live in the NSG's / VNet's
// region, so there is one such account per region and this module runs once per account. The BlobCreated
// subscriptions are in flowlog-subscriptions.bicep: they need the deployed function and the dead-letter
// role first.

param storageAccountName string
@description('Region of the storage account (a system topic lives in its source\'s region).')
param location string
param tags object
@description('Object id of the Functions app\'s system-assigned identity.')
param principalId string
param flowLogContainers array

var storageBlobDataReader = '2a2b9908-6ea1-4ae2-8e65-a410df84e7d1'

resource account 'Microsoft.Storage/storageAccounts@2023-05-01' existing = {
  name: storageAccountName
}

resource blobService 'Microsoft.Storage/storageAccounts/blobServices@2023-05-01' existing = {
  parent: account
  name: 'default'
}

// Azure creates these containers when a flow log first writes; declaring them (private, no properties
// beyond that) lets the read role be scoped to them before then. An existing container keeps its blobs.
resource containers 'Microsoft.Storage/storageAccounts/blobServices/containers@2023-05-01' = [
  for container in flowLogContainers: {
    parent: blobService
    name: container
    properties: { publicAccess: 'None' }
  }
]

// Least privilege: the app reads (and lists) the flow-log containers, nothing else of the account.
resource blobReaders 'Microsoft.Authorization/roleAssignments@2022-04-01' = [
  for (container, i) in flowLogContainers: {
    name: guid(containers[i].id, principalId, storageBlobDataReader)
    scope: containers[i]
    properties: {
      roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', storageBlobDataReader)
      principalId: principalId
      principalType: 'ServicePrincipal'
    }
  }
]

// An account can have only one system topic: if it already has one, this fails (docs/deployment.md,
// "An existing system topic").
resource topic 'Microsoft.EventGrid/systemTopics@2022-06-15' = {
  name: 'evgt-flowlog-${storageAccountName}'
  location: location
  tags: tags
  identity: { type: 'SystemAssigned' }
  properties: {
    source: account.id
    topicType: 'Microsoft.Storage.StorageAccounts'
  }
}

output systemTopicName string = topic.name
output topicPrincipalId string = topic.identity.principalId
