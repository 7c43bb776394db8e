// The Functions app (Flex Consumption, Node 20), its host storage, monitoring and the Event Hubs side,
// with the app's role assignments on both. App settings: every one is in app/settings.ts (checked by
// test/deploy/infra.test.ts).

param location string
param tags object
param resourceToken string
param sourceAccountNames array
param flowLogContainers array
param eventHubPartitions int
param windowSeconds int
param enrich bool
param geoIpCityPath string
param asnPath string
param serviceTagsPath string
param labelsPath string
param labelsTable string
@secure()
param sourceConnectionStrings string
param maximumInstanceCount int

@description('Event hub that receives the summaries (app setting FLOWLOG_EVENTHUB_NAME).')
param eventHubName string = 'flow-summaries'

@description('Table of per-blob status rows in host storage (FLOWLOG_LEDGER_TABLE).')
param ledgerTableName string = 'flowlogblobs'

@description('Container of staged partial aggregates in host storage (FLOWLOG_STAGING_CONTAINER).')
param stagingContainerName string = 'flowlog-staging'

@description('Consumer group dedicated to the ADX data connection.')
param adxConsumerGroupName string = 'adx'

var deploymentContainerName = 'app-package'

// Built-in role definition ids.
var roles = {
  storageBlobDataOwner: 'b7e6dc6d-f1e8-4753-8033-0f276bb0955b'
  storageQueueDataContributor: '974c5e8b-45b9-4653-ba55-5f855dd0fb88'
  storageTableDataContributor: '0a9a7e1f-b9d0-4cc4-a60d-0319b160aaa3'
  eventHubsDataSender: '2b629674-e913-4c01-ae53-ef4638d8f975'
}

// ---------------------------------------------------------------------------------------- monitoring

resource logAnalytics 'Microsoft.OperationalInsights/workspaces@2023-09-01' = {
  name: 'log-flowlog-${resourceToken}'
  location: location
  tags: tags
  properties: {
    sku: { name: 'PerGB2018' }
    retentionInDays: 30
  }
}

resource appInsights 'Microsoft.Insights/components@2020-02-02' = {
  name: 'appi-flowlog-${resourceToken}'
  location: location
  tags: tags
  kind: 'web'
  properties: {
    Application_Type: 'web'
    WorkspaceResourceId: logAnalytics.id
  }
}

// ---------------------------------------------------------------------------------------- host storage

// Dedicated to the app: Durable task hub (queues, tables, large messages), ledger table, staging blobs
// and the deployment package. Identity only: shared keys are off.
resource hostStorage 'Microsoft.Storage/storageAccounts@2023-05-01' = {
  name: 'stflowlog${resourceToken}'
  location: location
  tags: tags
  kind: 'StorageV2'
  sku: { name: 'Standard_LRS' }
  properties: {
    minimumTlsVersion: 'TLS1_2'
    allowBlobPublicAccess: false
    allowSharedKeyAccess: false
    supportsHttpsTrafficOnly: true
  }
}

resource blobService 'Microsoft.Storage/storageAccounts/blobServices@2023-05-01' = {
  parent: hostStorage
  name: 'default'
}

resource deploymentContainer 'Microsoft.Storage/storageAccounts/blobServices/containers@2023-05-01' = {
  parent: blobService
  name: deploymentContainerName
}

resource stagingContainer 'Microsoft.Storage/storageAccounts/blobServices/containers@2023-05-01' = {
  parent: blobService
  name: stagingContainerName
}

resource tableService 'Microsoft.Storage/storageAccounts/tableServices@2023-05-01' = {
  parent: hostStorage
  name: 'default'
}

resource ledgerTable 'Microsoft.Storage/storageAccounts/tableServices/tables@2023-05-01' = {
  parent: tableService
  name: ledgerTableName
}

// ---------------------------------------------------------------------------------------- Event Hubs

resource eventHubNamespace 'Microsoft.EventHub/namespaces@2024-01-01' = {
  name: 'evhns-flowlog-${resourceToken}'
  location: location
  tags: tags
  sku: { name: 'Standard', tier: 'Standard', capacity: 1 }
  properties: {
    disableLocalAuth: true
    minimumTlsVersion: '1.2'
  }
}

resource eventHub 'Microsoft.EventHub/namespaces/eventhubs@2024-01-01' = {
  parent: eventHubNamespace
  name: eventHubName
  properties: {
    partitionCount: eventHubPartitions
    messageRetentionInDays: 1
  }
}

resource adxConsumerGroup 'Microsoft.EventHub/namespaces/eventhubs/consumergroups@2024-01-01' = {
  parent: eventHub
  name: adxConsumerGroupName
  properties: {
    userMetadata: 'Azure Data Explorer data connection (one consumer group per connection).'
  }
}

// ---------------------------------------------------------------------------------------- the app

resource plan 'Microsoft.Web/serverfarms@2024-04-01' = {
  name: 'plan-flowlog-${resourceToken}'
  location: location
  tags: tags
  kind: 'functionapp'
  sku: { name: 'FC1', tier: 'FlexConsumption' }
  properties: { reserved: true }
}

// app-settings:begin
var appSettings = union(
  {
    AzureWebJobsStorage__accountName: hostStorage.name
    FLOWLOG_SOURCE_ACCOUNTS: join(sourceAccountNames, ',')
    FLOWLOG_CONTAINERS: join(flowLogContainers, ',')
    FLOWLOG_WINDOW_SECONDS: string(windowSeconds)
    EventHubConnection__fullyQualifiedNamespace: '${eventHubNamespace.name}.servicebus.windows.net'
    FLOWLOG_EVENTHUB_NAME: eventHub.name
    FLOWLOG_ENRICH: enrich ? 'true' : 'false'
    FLOWLOG_LEDGER_TABLE: ledgerTable.name
    FLOWLOG_STAGING_CONTAINER: stagingContainer.name
    APPLICATIONINSIGHTS_CONNECTION_STRING: appInsights.properties.ConnectionString
  },
  empty(geoIpCityPath) ? {} : { FLOWLOG_GEOIP_CITY_PATH: geoIpCityPath },
  empty(asnPath) ? {} : { FLOWLOG_ASN_PATH: asnPath },
  empty(serviceTagsPath) ? {} : { FLOWLOG_SERVICE_TAGS_PATH: serviceTagsPath },
  empty(labelsPath) ? {} : { FLOWLOG_LABELS_PATH: labelsPath },
  empty(labelsTable) ? {} : { FLOWLOG_LABELS_TABLE: labelsTable },
  empty(sourceConnectionStrings) ? {} : { FLOWLOG_SOURCE_CONNECTION_STRINGS: sourceConnectionStrings }
)
// app-settings:end

resource functionApp 'Microsoft.Web/sites@2024-04-01' = {
  name: 'func-flowlog-${resourceToken}'
  location: location
  tags: union(tags, { 'azd-service-name': 'api' })
  kind: 'functionapp,linux'
  identity: { type: 'SystemAssigned' }
  properties: {
    serverFarmId: plan.id
    httpsOnly: true
    functionAppConfig: {
      deployment: {
        storage: {
          type: 'blobContainer'
          value: '${hostStorage.properties.primaryEndpoints.blob}${deploymentContainerName}'
          authentication: { type: 'SystemAssignedIdentity' }
        }
      }
      scaleAndConcurrency: {
        maximumInstanceCount: maximumInstanceCount
        instanceMemoryMB: 2048
      }
      runtime: { name: 'node', version: '20' }
    }
    siteConfig: {
      minTlsVersion: '1.2'
      appSettings: [for setting in items(appSettings): { name: setting.key, value: setting.value }]
    }
  }
  dependsOn: [deploymentContainer]
}

// ---------------------------------------------------------------------------------------- roles

// Host storage: the Functions host (leases, deployment package) wants Blob Data Owner; the Durable
// Azure Storage backend needs queues and tables too.
resource hostBlobOwner 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(hostStorage.id, functionApp.id, roles.storageBlobDataOwner)
  scope: hostStorage
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.storageBlobDataOwner)
    principalId: functionApp.identity.principalId
    principalType: 'ServicePrincipal'
  }
}

resource hostQueueContributor 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(hostStorage.id, functionApp.id, roles.storageQueueDataContributor)
  scope: hostStorage
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.storageQueueDataContributor)
    principalId: functionApp.identity.principalId
    principalType: 'ServicePrincipal'
  }
}

resource hostTableContributor 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(hostStorage.id, functionApp.id, roles.storageTableDataContributor)
  scope: hostStorage
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.storageTableDataContributor)
    principalId: functionApp.identity.principalId
    principalType: 'ServicePrincipal'
  }
}

resource hubSender 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(eventHub.id, functionApp.id, roles.eventHubsDataSender)
  scope: eventHub
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.eventHubsDataSender)
    principalId: functionApp.identity.principalId
    principalType: 'ServicePrincipal'
  }
}

output functionAppName string = functionApp.name
output functionAppId string = functionApp.id
output principalId string = functionApp.identity.principalId
output eventHubNamespaceName string = eventHubNamespace.name
output eventHubName string = eventHub.name
output adxConsumerGroupName string = adxConsumerGroup.name
output hostStorageName string = hostStorage.name
