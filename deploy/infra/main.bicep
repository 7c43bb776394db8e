// flowlog on Azure, for `azd up` (subscription scope: creates the resource group, reaches the flow-log
// storage accounts wherever they are).
//
//   - the Functions app (Flex Consumption, Node 22, system-assigned identity) and its host storage
//   - Event Hubs namespace, hub and the ADX consumer group
//   - optional: private endpoints, VNet and NAT gateway (publicNetworkAccess 'Disabled')
//   - optional: ADX cluster, database, the deploy/adx scripts, the Event Hubs data connection
//   - per flow-log storage account: Storage Blob Data Reader for the app on the flow-log containers, an
//     Event Grid system topic with its own identity (dead letters into host storage), and the BlobCreated
//     subscriptions (once the function exists)
//
// Parameters come from main.parameters.json (azd environment values); see docs/deployment.md.
targetScope = 'subscription'

@minLength(1)
@maxLength(64)
@description('azd environment name; seeds resource names.')
param environmentName string

@minLength(1)
@description('Region of the app, Event Hubs and ADX (flow-log accounts keep their own regions).')
@metadata({ azd: { type: 'location' } })
param location string

@description('Object id of the deploying user: made ADX database admin. Empty to skip.')
param principalId string = ''

@minLength(1)
@description('Comma-separated resource ids of the storage accounts that receive flow logs (one per region).')
param flowLogStorageAccountIds string

@description('Flow-log containers to subscribe to (NSG flow logs, VNet flow logs).')
param flowLogContainers array = [
  'insights-logs-networksecuritygroupflowevent'
  'insights-logs-flowlogflowevent'
]

@description('Create the Event Grid subscriptions. Needs the Event Grid function deployed: the postdeploy hook sets it and provisions again.')
param enableEventSubscriptions bool = false

@description('Name of the Event Grid-triggered function that receives BlobCreated events.')
param eventGridFunctionName string = 'blobCreated'

@description('Create an ADX cluster and database, run deploy/adx and connect it to the hub.')
param deployAdx bool = true

@description('ADX SKU. The Dev SKU has no SLA; use a Standard SKU for production.')
param adxSkuName string = 'Dev(No SLA)_Standard_E2a_v4'

@allowed(['Basic', 'Standard'])
param adxSkuTier string = 'Basic'

@minValue(1)
@maxValue(32)
@description('Event hub partitions (fixed for Standard namespaces once created).')
param eventHubPartitions int = 4

@minValue(60)
@maxValue(3600)
param windowSeconds int = 60

param enrich bool = true

@description('Optional enrichment data locations (app settings FLOWLOG_*_PATH / FLOWLOG_LABELS_TABLE).')
param geoIpCityPath string = ''
param asnPath string = ''
param serviceTagsPath string = ''
param labelsPath string = ''
param labelsTable string = ''

@description('Topology labels from Azure Resource Graph (FLOWLOG_TOPOLOGY_SUBSCRIPTIONS): empty = off, \'*\' = every subscription the app identity can read, or comma-separated subscription ids (the app identity gets Reader on each listed one).')
param topologySubscriptions string = ''

@description('Threat feeds (FLOWLOG_THREAT_FEEDS): empty = off, or comma-separated name=https URL items of blocklists (one address or CIDR block per line), fetched by the app every hour as threat labels.')
param threatFeeds string = ''

@description('Refresh service tags weekly from the Service Tag Discovery API under this deployment\'s subscription (FLOWLOG_SERVICE_TAGS_SUBSCRIPTION; the app identity gets Reader on it). Ignored by the app while serviceTagsPath is set.')
param refreshServiceTags bool = false

@description('More subscriptions on which the app identity gets Reader (e.g. those topologySubscriptions \'*\' should see). Empty by default: no subscription-wide role is granted unless a refresh above is turned on.')
param readerSubscriptionIds array = []

@description('Optional Key Vault secret URI (https://<vault>.vault.azure.net/secrets/<name>) whose value is the JSON {accountName: connectionString} for source accounts reached by key; the app setting becomes a Key Vault reference. Grant the app\'s identity Key Vault Secrets User on it.')
param sourceConnectionStringsSecretUri string = ''

@allowed(['Enabled', 'Disabled'])
@description('Disabled: private endpoints for host storage and Event Hubs in a new VNet with the app integrated, and their public endpoints closed to all but trusted Azure services (modules/network.bicep).')
param publicNetworkAccess string = 'Enabled'

@description('Address space of the VNet created when publicNetworkAccess is Disabled.')
param vnetAddressPrefix string = '10.40.0.0/16'

@minValue(1)
@maxValue(1000)
param maximumInstanceCount int = 100

var resourceToken = toLower(uniqueString(subscription().id, environmentName, location))
var tags = { 'azd-env-name': environmentName }

// '/subscriptions/{sub}/resourceGroups/{rg}/providers/Microsoft.Storage/storageAccounts/{name}'
var sourceIds = filter(map(split(flowLogStorageAccountIds, ','), id => trim(id)), id => !empty(id))

resource rg 'Microsoft.Resources/resourceGroups@2024-03-01' = {
  name: 'rg-flowlog-${environmentName}'
  location: location
  tags: tags
}

resource sourceAccounts 'Microsoft.Storage/storageAccounts@2023-05-01' existing = [
  for id in sourceIds: {
    name: split(id, '/')[8]
    scope: resourceGroup(split(id, '/')[2], split(id, '/')[4])
  }
]

module app 'modules/app.bicep' = {
  name: 'flowlog-app'
  scope: rg
  params: {
    location: location
    tags: tags
    resourceToken: resourceToken
    sourceAccountNames: map(sourceIds, id => split(id, '/')[8])
    flowLogContainers: flowLogContainers
    eventHubPartitions: eventHubPartitions
    windowSeconds: windowSeconds
    enrich: enrich
    geoIpCityPath: geoIpCityPath
    asnPath: asnPath
    serviceTagsPath: serviceTagsPath
    labelsPath: labelsPath
    labelsTable: labelsTable
    topologySubscriptions: topologySubscriptions
    threatFeeds: threatFeeds
    serviceTagsSubscription: refreshServiceTags ? subscription().subscriptionId : ''
    sourceConnectionStringsSecretUri: sourceConnectionStringsSecretUri
    maximumInstanceCount: maximumInstanceCount
    publicNetworkAccess: publicNetworkAccess
    vnetAddressPrefix: vnetAddressPrefix
  }
}

// Reader for the enrichment refreshes, only on the subscriptions they were asked to read (none by default).
var topologySubscriptionIds = empty(topologySubscriptions) || topologySubscriptions == '*'
  ? []
  : map(split(topologySubscriptions, ','), s => trim(s))
var readerScopes = union(
  readerSubscriptionIds,
  topologySubscriptionIds,
  refreshServiceTags ? [subscription().subscriptionId] : []
)

module readers 'modules/subscription-reader.bicep' = [
  for (sub, i) in readerScopes: {
    name: 'flowlog-reader-${i}-${uniqueString(sub)}'
    scope: subscription(sub)
    params: {
      principalId: app.outputs.principalId
    }
  }
]

module sources 'modules/flowlog-source.bicep' = [
  for (id, i) in sourceIds: {
    name: 'flowlog-source-${i}-${uniqueString(id)}'
    scope: resourceGroup(split(id, '/')[2], split(id, '/')[4])
    params: {
      storageAccountName: split(id, '/')[8]
      location: sourceAccounts[i].location
      tags: tags
      principalId: app.outputs.principalId
      flowLogContainers: flowLogContainers
    }
  }
]

// Each system topic may write dead letters into host storage's dead-letter container, nothing else.
module deadLetterWriters 'modules/deadletter-writer.bicep' = [
  for (id, i) in sourceIds: {
    name: 'flowlog-deadletter-${i}-${uniqueString(id)}'
    scope: rg
    params: {
      storageAccountName: app.outputs.hostStorageName
      containerName: app.outputs.deadLetterContainerName
      principalId: sources[i].outputs.topicPrincipalId
    }
  }
]

module subscriptions 'modules/flowlog-subscriptions.bicep' = [
  for (id, i) in sourceIds: if (enableEventSubscriptions) {
    name: 'flowlog-subscriptions-${i}-${uniqueString(id)}'
    scope: resourceGroup(split(id, '/')[2], split(id, '/')[4])
    params: {
      systemTopicName: sources[i].outputs.systemTopicName
      functionAppId: app.outputs.functionAppId
      eventGridFunctionName: eventGridFunctionName
      flowLogContainers: flowLogContainers
      deadLetterStorageAccountId: app.outputs.hostStorageId
      deadLetterContainerName: app.outputs.deadLetterContainerName
    }
    dependsOn: [deadLetterWriters[i]]
  }
]

module adx 'modules/adx.bicep' = if (deployAdx) {
  name: 'flowlog-adx'
  scope: rg
  params: {
    location: location
    tags: tags
    clusterName: take('adx${resourceToken}', 22)
    skuName: adxSkuName
    skuTier: adxSkuTier
    eventHubNamespaceName: app.outputs.eventHubNamespaceName
    eventHubName: app.outputs.eventHubName
    consumerGroupName: app.outputs.adxConsumerGroupName
    principalId: principalId
  }
}

output AZURE_LOCATION string = location
output AZURE_TENANT_ID string = tenant().tenantId
output AZURE_RESOURCE_GROUP string = rg.name
output AZURE_FUNCTION_APP_NAME string = app.outputs.functionAppName
output EVENTHUB_NAMESPACE string = app.outputs.eventHubNamespaceName
output EVENTHUB_NAME string = app.outputs.eventHubName
output ADX_CLUSTER_URI string = deployAdx ? adx.outputs.clusterUri : ''
output ADX_DATABASE string = deployAdx ? adx.outputs.databaseName : ''
