// Private networking for the app (only when main.bicep's publicNetworkAccess is 'Disabled'):
//
//   - a VNet with two /24 subnets cut from vnetAddressPrefix: 'app' (delegated to Microsoft.App/environments,
//     the Flex Consumption VNet integration) and 'private-endpoints'
//   - a NAT gateway with one static public IP on the 'app' subnet: with VNet integration every outbound call
//     of the app leaves through the VNet, and it still needs Microsoft Entra ID, Application Insights and
//     the flow-log storage accounts (public endpoints, reached with the app's identity)
//   - private endpoints for host storage (blob, queue, table: the Functions host, Durable task hub, ledger,
//     labels, staging, deployment package) and for the Event Hubs namespace
//   - one private DNS zone per endpoint type, linked to the VNet, so the usual host names resolve to the
//     private addresses inside it
//
// Not created: private endpoints to the flow-log accounts (they live in other resource groups and
// regions; add them to the 'private-endpoints' subnet with the same blob zone if those accounts deny
// public access), and any inbound restriction on the app (Event Grid delivers to the function over its
// public endpoint, with the system key).

param location string
param tags object
param resourceToken string
param vnetAddressPrefix string
param storageAccountId string
param eventHubNamespaceId string

var appSubnetName = 'app'
var endpointSubnetName = 'private-endpoints'

var endpoints = [
  {
    name: 'blob'
    targetId: storageAccountId
    groupId: 'blob'
    zone: 'privatelink.blob.${environment().suffixes.storage}'
  }
  {
    name: 'queue'
    targetId: storageAccountId
    groupId: 'queue'
    zone: 'privatelink.queue.${environment().suffixes.storage}'
  }
  {
    name: 'table'
    targetId: storageAccountId
    groupId: 'table'
    zone: 'privatelink.table.${environment().suffixes.storage}'
  }
  {
    name: 'eventhubs'
    targetId: eventHubNamespaceId
    groupId: 'namespace'
    zone: 'privatelink.servicebus.windows.net'
  }
]

resource natIp 'Microsoft.Network/publicIPAddresses@2024-05-01' = {
  name: 'pip-flowlog-nat-${resourceToken}'
  location: location
  tags: tags
  sku: { name: 'Standard' }
  properties: { publicIPAllocationMethod: 'Static' }
}

resource nat 'Microsoft.Network/natGateways@2024-05-01' = {
  name: 'ng-flowlog-${resourceToken}'
  location: location
  tags: tags
  sku: { name: 'Standard' }
  properties: {
    publicIpAddresses: [{ id: natIp.id }]
    idleTimeoutInMinutes: 4
  }
}

resource vnet 'Microsoft.Network/virtualNetworks@2024-05-01' = {
  name: 'vnet-flowlog-${resourceToken}'
  location: location
  tags: tags
  properties: {
    addressSpace: { addressPrefixes: [vnetAddressPrefix] }
    subnets: [
      {
        name: appSubnetName
        properties: {
          addressPrefix: cidrSubnet(vnetAddressPrefix, 24, 0)
          delegations: [{ name: 'flex-consumption', properties: { serviceName: 'Microsoft.App/environments' } }]
          natGateway: { id: nat.id }
          defaultOutboundAccess: false
        }
      }
      {
        name: endpointSubnetName
        properties: {
          addressPrefix: cidrSubnet(vnetAddressPrefix, 24, 1)
          privateEndpointNetworkPolicies: 'Disabled'
          defaultOutboundAccess: false
        }
      }
    ]
  }
}

resource zones 'Microsoft.Network/privateDnsZones@2020-06-01' = [
  for e in endpoints: {
    name: e.zone
    location: 'global'
    tags: tags
  }
]

resource zoneLinks 'Microsoft.Network/privateDnsZones/virtualNetworkLinks@2020-06-01' = [
  for (e, i) in endpoints: {
    parent: zones[i]
    name: vnet.name
    location: 'global'
    tags: tags
    properties: {
      registrationEnabled: false
      virtualNetwork: { id: vnet.id }
    }
  }
]

resource privateEndpoints 'Microsoft.Network/privateEndpoints@2024-05-01' = [
  for e in endpoints: {
    name: 'pe-flowlog-${e.name}-${resourceToken}'
    location: location
    tags: tags
    properties: {
      subnet: { id: resourceId('Microsoft.Network/virtualNetworks/subnets', vnet.name, endpointSubnetName) }
      privateLinkServiceConnections: [
        {
          name: e.name
          properties: {
            privateLinkServiceId: e.targetId
            groupIds: [e.groupId]
          }
        }
      ]
    }
  }
]

resource zoneGroups 'Microsoft.Network/privateEndpoints/privateDnsZoneGroups@2024-05-01' = [
  for (e, i) in endpoints: {
    parent: privateEndpoints[i]
    name: 'default'
    properties: {
      privateDnsZoneConfigs: [
        {
          name: e.name
          properties: { privateDnsZoneId: zones[i].id }
        }
      ]
    }
  }
]

output appSubnetId string = resourceId('Microsoft.Network/virtualNetworks/subnets', vnet.name, appSubnetName)
output vnetName string = vnet.name
output natPublicIpId string = natIp.id
