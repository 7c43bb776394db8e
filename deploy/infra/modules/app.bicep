// The Functions app (Flex Consumption, Node 22), its host storage, monitoring and the Event Hubs side,
// with the app's role assignments on them. App settings: every one is in common/settings.ts (checked by
// test/deploy/infra.test.ts). Hardening (docs/security.md): no shared keys or local auth anywhere
// (storage, Event Hubs, Application Insights, Log Analytics), SCM/FTP basic-auth publishing off, no
// connection string as a plain app setting, and optionally private endpoints (publicNetworkAccess).

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
@description('FLOWLOG_TOPOLOGY_SUBSCRIPTIONS: empty (off), \'*\' or subscription ids.')
param topologySubscriptions string
@description('FLOWLOG_THREAT_FEEDS: empty (off) or name=https URL items.')
param threatFeeds string
@description('FLOWLOG_SERVICE_TAGS_SUBSCRIPTION: empty (off) or the subscription id to call the Discovery API under.')
param serviceTagsSubscription string
@description('Key Vault secret URI holding FLOWLOG_SOURCE_CONNECTION_STRINGS; empty: source accounts by identity only.')
param sourceConnectionStringsSecretUri string
param maximumInstanceCount int

@allowed(['Enabled', 'Disabled'])
@description('Disabled: the app reaches host storage and Event Hubs through private endpoints in a new VNet (network.bicep), and their public endpoints admit only trusted Azure services.')
param publicNetworkAccess string

@description('Address space of the VNet created when publicNetworkAccess is Disabled (two /24 subnets are cut from it).')
param vnetAddressPrefix string

@description('Event hub that receives the summaries (app setting FLOWLOG_EVENTHUB_NAME).')
param eventHubName string = 'flow-summaries'

@description('Table of per-blob status rows in host storage (FLOWLOG_LEDGER_TABLE).')
param ledgerTableName string = 'flowlogblobs'

@description('Container of staged partial aggregates in host storage (FLOWLOG_STAGING_CONTAINER).')
param stagingContainerName string = 'flowlog-staging'

@description('Consumer group dedicated to the ADX data connection.')
param adxConsumerGroupName string = 'adx'

@description('Container in host storage receiving Event Grid events that exhausted their retries.')
param deadLetterContainerName string = 'flowlog-deadletter'

var deploymentContainerName = 'app-package'
var privateNetworking = publicNetworkAccess == 'Disabled'

// Built-in role definition ids.
var roles = {
  storageBlobDataOwner: 'b7e6dc6d-f1e8-4753-8033-0f276bb0955b'
  storageQueueDataContributor: '974c5e8b-45b9-4653-ba55-5f855dd0fb88'
  storageTableDataContributor: '0a9a7e1f-b9d0-4cc4-a60d-0319b160aaa3'
  eventHubsDataSender: '2b629674-e913-4c01-ae53-ef4638d8f975'
  monitoringMetricsPublisher: '3913510d-42f4-4e42-8a64-420c390055eb'
}

// ---------------------------------------------------------------------------------------- monitoring

resource logAnalytics 'Microsoft.OperationalInsights/workspaces@2023-09-01' = {
  name: 'log-flowlog-${resourceToken}'
  location: location
  tags: tags
  properties: {
    sku: { name: 'PerGB2018' }
    retentionInDays: 30
    // No workspace keys (data collector API); Application Insights ingests with Entra tokens below.
    features: { disableLocalAuth: true }
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
    // Telemetry is accepted only with a Microsoft Entra token: the instrumentation key in the connection
    // string is an address, not a credential. The app sends with its identity
    // (APPLICATIONINSIGHTS_AUTHENTICATION_STRING + Monitoring Metrics Publisher below).
    DisableLocalAuth: true
  }
}

// ---------------------------------------------------------------------------------------- host storage

// Dedicated to the app: Durable task hub (queues, tables, large messages), ledger table, labels table,
// staging blobs, Event Grid dead letters and the deployment package. Identity only: shared keys are off.
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
    // Private: the app comes in through the private endpoints; the public endpoint stays up only for
    // trusted Azure services (Event Grid writing dead letters with its system topic identity, which still
    // needs the container role below). 'Disabled' here would shut those out too.
    publicNetworkAccess: 'Enabled'
    networkAcls: {
      defaultAction: privateNetworking ? 'Deny' : 'Allow'
      bypass: 'AzureServices'
    }
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

// Event Grid writes events it could not deliver (30 attempts over 24 h) here, one blob per event, with
// the system topics' identities (Storage Blob Data Contributor on this container only: main.bicep).
resource deadLetterContainer 'Microsoft.Storage/storageAccounts/blobServices/containers@2023-05-01' = {
  parent: blobService
  name: deadLetterContainerName
}

resource tableService 'Microsoft.Storage/storageAccounts/tableServices@2023-05-01' = {
  parent: hostStorage
  name: 'default'
}

resource ledgerTable 'Microsoft.Storage/storageAccounts/tableServices/tables@2023-05-01' = {
  parent: tableService
  name: ledgerTableName
}

// FLOWLOG_LABELS_TABLE: created empty when set; operators add entities (cidr, label, kind). The app reads it
// with its identity (Table Data Contributor on host storage below), no key.
resource labelsTableResource 'Microsoft.Storage/storageAccounts/tableServices/tables@2023-05-01' = if (!empty(labelsTable)) {
  parent: tableService
  name: empty(labelsTable) ? 'unused' : labelsTable
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
    publicNetworkAccess: 'Enabled'
  }
}

// Private: only the private endpoint and trusted Azure services (the ADX data connection, with the
// cluster's identity and its Data Receiver role) pass; no IP or VNet rules.
resource eventHubNetwork 'Microsoft.EventHub/namespaces/networkRuleSets@2024-01-01' = {
  parent: eventHubNamespace
  name: 'default'
  properties: {
    publicNetworkAccess: 'Enabled'
    defaultAction: privateNetworking ? 'Deny' : 'Allow'
    trustedServiceAccessEnabled: true
    ipRules: []
    virtualNetworkRules: []
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

// ---------------------------------------------------------------------------------------- network

// Only with publicNetworkAccess Disabled: VNet, NAT gateway (the app's outbound to Entra, Application
// Insights and the flow-log accounts), private endpoints and private DNS for host storage and Event Hubs.
module network 'network.bicep' = if (privateNetworking) {
  name: 'flowlog-network'
  params: {
    location: location
    tags: tags
    resourceToken: resourceToken
    vnetAddressPrefix: vnetAddressPrefix
    storageAccountId: hostStorage.id
    eventHubNamespaceId: eventHubNamespace.id
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

// Read by the Functions host itself, not by the app (so not in common/settings.ts): send telemetry with the
// system-assigned identity, which Application Insights requires once local auth is off.
// host-settings:begin
var hostSettings = {
  APPLICATIONINSIGHTS_AUTHENTICATION_STRING: 'Authorization=AAD'
}
// host-settings:end

// No secret is set here as a plain value: connections are identity-based; the one optional secret,
// FLOWLOG_SOURCE_CONNECTION_STRINGS, is a Key Vault reference resolved by the app's identity (grant it
// Key Vault Secrets User on that secret). APPLICATIONINSIGHTS_CONNECTION_STRING carries no credential
// once DisableLocalAuth is on (test/deploy/infra.test.ts checks both).
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
  empty(topologySubscriptions) ? {} : { FLOWLOG_TOPOLOGY_SUBSCRIPTIONS: topologySubscriptions },
  empty(threatFeeds) ? {} : { FLOWLOG_THREAT_FEEDS: threatFeeds },
  empty(serviceTagsSubscription) ? {} : { FLOWLOG_SERVICE_TAGS_SUBSCRIPTION: serviceTagsSubscription },
  empty(sourceConnectionStringsSecretUri)
    ? {}
    : { FLOWLOG_SOURCE_CONNECTION_STRINGS: '@Microsoft.KeyVault(SecretUri=${sourceConnectionStringsSecretUri})' }
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
      // Node 20 is end of life on Azure Functions; 22 is the current LTS the Flex plan runs.
      runtime: { name: 'node', version: '22' }
    }
    // Private: all outbound traffic leaves through the VNet (private endpoints, then the NAT gateway).
    virtualNetworkSubnetId: privateNetworking ? network.outputs.appSubnetId : null
    siteConfig: {
      minTlsVersion: '1.2'
      appSettings: [for setting in items(union(hostSettings, appSettings)): { name: setting.key, value: setting.value }]
    }
  }
  dependsOn: [deploymentContainer]
}

// No basic-auth (user/password) publishing: azd and the portal deploy with Microsoft Entra tokens.
resource scmBasicAuth 'Microsoft.Web/sites/basicPublishingCredentialsPolicies@2024-04-01' = {
  parent: functionApp
  name: 'scm'
  properties: { allow: false }
}

resource ftpBasicAuth 'Microsoft.Web/sites/basicPublishingCredentialsPolicies@2024-04-01' = {
  parent: functionApp
  name: 'ftp'
  properties: { allow: false }
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

// Application Insights with local auth off takes telemetry only from identities holding this role.
resource telemetryPublisher 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(appInsights.id, functionApp.id, roles.monitoringMetricsPublisher)
  scope: appInsights
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.monitoringMetricsPublisher)
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
output hostStorageId string = hostStorage.id
output deadLetterContainerName string = deadLetterContainer.name
