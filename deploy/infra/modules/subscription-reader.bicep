// Reader on one subscription for the app's identity: what the enrichment refreshes need to read VNets,
// gateways and public IPs through Resource Graph (FLOWLOG_TOPOLOGY_SUBSCRIPTIONS) and to call the
// Service Tag Discovery API (FLOWLOG_SERVICE_TAGS_SUBSCRIPTION). Reader, not Network Contributor: the
// app only reads. Deployed once per subscription listed (main.bicep, readerSubscriptionIds and the
// subscriptions the two settings name); none by default.
targetScope = 'subscription'

param principalId string

// Built-in Reader.
var reader = 'acdd72a7-3385-48ef-bd42-f606fba81ae7'

resource readerAssignment 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(subscription().id, principalId, reader)
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', reader)
    principalId: principalId
    principalType: 'ServicePrincipal'
  }
}
