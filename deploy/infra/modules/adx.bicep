// Azure Data Explorer: cluster (streaming ingestion on), database, the generated deploy/adx scripts run in
// order (they create both tables, FlowSummaries for the rows and FlowGroups for the flow-group lines, with
// their mappings, policies and views), and the Event Hubs data connection (MULTIJSON, the generated
// mappings) using the cluster's managed identity with Azure Event Hubs Data Receiver on the hub.

param location string
param tags object
param clusterName string
param skuName string
param skuTier string
param eventHubNamespaceName string
param eventHubName string
param consumerGroupName string
@description('Object id of a user to make database admin; empty to skip.')
param principalId string

@description('Database name (deploy/generate/names.ts ADX.database).')
param databaseName string = 'flowlog'

// Names from deploy/generate/names.ts, which takes them from common/names.ts adxRouting, the names the
// emitter puts on its events (test/deploy/infra.test.ts keeps them equal).
// The rows: the data connection's default table and mapping.
var tableName = 'FlowSummaries'
var mappingName = 'FlowSummariesMapping'
// The flow-group lines: events route themselves here by their properties (see dataConnection).
var groupsTableName = 'FlowGroups'
var groupsMappingName = 'FlowGroupsMapping'

var eventHubsDataReceiver = 'a638d3c7-ab3a-418d-83e6-5f17a39d4fde'

// The generated scripts, in the order they must run (test/deploy/infra.test.ts checks the list).
var scripts = [
  { name: '01-table', content: loadTextContent('../../adx/01-table.kql') }
  { name: '02-ingestion-mapping', content: loadTextContent('../../adx/02-ingestion-mapping.kql') }
  { name: '03-table-policies', content: loadTextContent('../../adx/03-table-policies.kql') }
  { name: '04-dedup-view', content: loadTextContent('../../adx/04-dedup-view.kql') }
  { name: '05-hourly-rollup', content: loadTextContent('../../adx/05-hourly-rollup.kql') }
  { name: '06-base-function', content: loadTextContent('../../adx/06-base-function.kql') }
  { name: '07-analysis-functions', content: loadTextContent('../../adx/07-analysis-functions.kql') }
]

resource cluster 'Microsoft.Kusto/clusters@2023-08-15' = {
  name: clusterName
  location: location
  tags: tags
  sku: { name: skuName, tier: skuTier, capacity: 1 }
  identity: { type: 'SystemAssigned' }
  properties: {
    enableStreamingIngest: true
    enableAutoStop: false
    publicNetworkAccess: 'Enabled'
  }
}

resource database 'Microsoft.Kusto/clusters/databases@2023-08-15' = {
  parent: cluster
  name: databaseName
  location: location
  kind: 'ReadWrite'
  properties: {
    softDeletePeriod: 'P365D'
    hotCachePeriod: 'P31D'
  }
}

@batchSize(1)
resource databaseScripts 'Microsoft.Kusto/clusters/databases/scripts@2023-08-15' = [
  for script in scripts: {
    parent: database
    name: script.name
    properties: {
      scriptContent: script.content
      forceUpdateTag: uniqueString(script.content)
      continueOnErrors: false
    }
  }
]

resource eventHubNamespace 'Microsoft.EventHub/namespaces@2024-01-01' existing = {
  name: eventHubNamespaceName
}

resource eventHub 'Microsoft.EventHub/namespaces/eventhubs@2024-01-01' existing = {
  parent: eventHubNamespace
  name: eventHubName
}

resource hubReceiver 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(eventHub.id, cluster.id, eventHubsDataReceiver)
  scope: eventHub
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', eventHubsDataReceiver)
    principalId: cluster.identity.principalId
    principalType: 'ServicePrincipal'
  }
}

// Per-event routing (docs/azure-reference §7.1): an event's properties `Table`, `Format`,
// `IngestionMappingReference` (and `Compression`) override the connection's defaults below. The emitter
// sends group lines with Table=FlowGroups, IngestionMappingReference=FlowGroupsMapping, Format=multijson
// and rows with Table=FlowSummaries, IngestionMappingReference=FlowSummariesMapping, Format=multijson; an
// event without them lands in the defaults (the rows). Both tables and mappings exist before the
// connection (dependsOn databaseScripts): streaming ingestion needs pre-created mappings (§7.3).
resource dataConnection 'Microsoft.Kusto/clusters/databases/dataConnections@2023-08-15' = {
  parent: database
  name: 'flowlog-eventhub'
  location: location
  kind: 'EventHub'
  properties: {
    eventHubResourceId: eventHub.id
    consumerGroup: consumerGroupName
    tableName: tableName
    mappingRuleName: mappingName
    dataFormat: 'MULTIJSON'
    compression: 'None'
    eventSystemProperties: []
    managedIdentityResourceId: cluster.id
    databaseRouting: 'Single'
  }
  dependsOn: [databaseScripts, hubReceiver]
}

resource admin 'Microsoft.Kusto/clusters/databases/principalAssignments@2023-08-15' = if (!empty(principalId)) {
  parent: database
  name: guid(database.id, principalId, 'Admin')
  properties: {
    principalId: principalId
    principalType: 'User'
    role: 'Admin'
    tenantId: tenant().tenantId
  }
}

output clusterUri string = cluster.properties.uri
output databaseName string = database.name
@description('Where the data connection ingests each kind of event (event properties Table, IngestionMappingReference).')
output eventRouting object = {
  rows: { table: tableName, mapping: mappingName }
  groups: { table: groupsTableName, mapping: groupsMappingName }
}
