/** A hub-and-spoke estate as Resource Graph describes it, for the refresh tests and the fake ARM server. */
import type { FakeArmResource } from '../../../local/fake-arm';

export const SUB_A = '11111111-1111-1111-1111-111111111111';
export const SUB_B = '22222222-2222-2222-2222-222222222222';
const rg = (sub: string) => `/subscriptions/${sub}/resourceGroups/net/providers/Microsoft.Network`;

/** A hub-and-spoke estate in Resource Graph's shapes (properties as ARM returns them). */
export const ESTATE: FakeArmResource[] = [
  {
    id: `${rg(SUB_A)}/virtualNetworks/vnet-hub`,
    name: 'vnet-hub',
    type: 'microsoft.network/virtualnetworks',
    subscriptionId: SUB_A,
    properties: {
      addressSpace: { addressPrefixes: ['10.1.0.0/16'] },
      subnets: [{ name: 'GatewaySubnet', properties: { addressPrefix: '10.1.255.0/27' } }],
      virtualNetworkPeerings: [
        {
          name: 'hub-to-partner',
          properties: {
            // A peering to a VNet the identity cannot see: only the peering tells its address space.
            remoteVirtualNetwork: {
              id: '/subscriptions/99999999-9999-9999-9999-999999999999/resourceGroups/x/providers/Microsoft.Network/virtualNetworks/vnet-partner',
            },
            remoteAddressSpace: { addressPrefixes: ['10.9.0.0/16'] },
          },
        },
      ],
    },
  },
  {
    id: `${rg(SUB_B)}/virtualNetworks/vnet-app`,
    name: 'vnet-app',
    type: 'microsoft.network/virtualnetworks',
    subscriptionId: SUB_B,
    properties: { addressSpace: { addressPrefixes: ['10.2.0.0/16', 'fd00:2::/48'] } },
  },
  {
    id: `${rg(SUB_A)}/localNetworkGateways/onprem-dc`,
    name: 'onprem-dc',
    type: 'microsoft.network/localnetworkgateways',
    subscriptionId: SUB_A,
    properties: {
      localNetworkAddressSpace: { addressPrefixes: ['192.168.10.0/24'] },
      gatewayIpAddress: '203.0.113.7',
    },
  },
  {
    id: `${rg(SUB_A)}/virtualNetworkGateways/vpngw`,
    name: 'vpngw',
    type: 'microsoft.network/virtualnetworkgateways',
    subscriptionId: SUB_A,
    properties: {
      gatewayType: 'Vpn',
      vpnClientConfiguration: { vpnClientAddressPool: { addressPrefixes: ['172.16.200.0/24'] } },
      ipConfigurations: [
        {
          id: `${rg(SUB_A)}/virtualNetworkGateways/vpngw/ipConfigurations/default`,
          properties: { subnet: { id: `${rg(SUB_A)}/virtualNetworks/vnet-hub/subnets/GatewaySubnet` } },
        },
      ],
    },
  },
  {
    id: `${rg(SUB_B)}/networkInterfaces/web-nic`,
    name: 'web-nic',
    type: 'microsoft.network/networkinterfaces',
    subscriptionId: SUB_B,
    properties: {
      ipConfigurations: [
        {
          id: `${rg(SUB_B)}/networkInterfaces/web-nic/ipConfigurations/ipconfig1`,
          properties: {
            privateIPAddress: '10.2.0.4',
            subnet: { id: `${rg(SUB_B)}/virtualNetworks/vnet-app/subnets/web` },
            publicIPAddress: { id: `${rg(SUB_B)}/publicIPAddresses/web-pip` },
          },
        },
      ],
    },
  },
  {
    id: `${rg(SUB_B)}/publicIPAddresses/web-pip`,
    name: 'web-pip',
    type: 'microsoft.network/publicipaddresses',
    subscriptionId: SUB_B,
    properties: {
      ipAddress: '20.50.1.10',
      ipConfiguration: { id: `${rg(SUB_B)}/networkInterfaces/web-nic/ipConfigurations/ipconfig1` },
    },
  },
  {
    id: `${rg(SUB_B)}/publicIPAddresses/lb-pip`,
    name: 'lb-pip',
    type: 'microsoft.network/publicipaddresses',
    subscriptionId: SUB_B,
    properties: {
      ipAddress: '20.50.1.20',
      ipConfiguration: { id: `${rg(SUB_B)}/loadBalancers/lb-web/frontendIPConfigurations/fe` },
    },
  },
  {
    id: `${rg(SUB_B)}/publicIPAddresses/unused-pip`,
    name: 'unused-pip',
    type: 'microsoft.network/publicipaddresses',
    subscriptionId: SUB_B,
    properties: {}, // a dynamic address not allocated: no ipAddress, no row
  },
];
