/**
 * Enrichment data for the benchmark, at the size of the real thing: a synthetic service tags file shaped
 * like Microsoft's weekly ServiceTags_Public (about 3,000 tags, 130,000 IPv4 and IPv6 prefixes, ~5 MB)
 * that also holds the Azure addresses the simulator talks to, and a labels CSV naming the simulated VNets,
 * an on-premises site, a P2S pool and a few threat blocks (the simulator's scanners among them).
 */
import { writeFileSync } from 'node:fs';
import { seededRandom } from '../domain/simulate/simulate';

const REGIONS = [
  'eastus',
  'eastus2',
  'westus',
  'westus2',
  'westus3',
  'centralus',
  'northcentralus',
  'southcentralus',
  'westeurope',
  'northeurope',
  'uksouth',
  'ukwest',
  'francecentral',
  'germanywestcentral',
  'swedencentral',
  'switzerlandnorth',
  'norwayeast',
  'japaneast',
  'japanwest',
  'koreacentral',
  'southeastasia',
  'eastasia',
  'australiaeast',
  'australiasoutheast',
  'centralindia',
  'southindia',
  'canadacentral',
  'canadaeast',
  'brazilsouth',
  'southafricanorth',
  'uaenorth',
  'qatarcentral',
  'polandcentral',
  'italynorth',
  'israelcentral',
  'mexicocentral',
];
const SERVICES = [
  'AzureCloud',
  'Storage',
  'Sql',
  'AzureCosmosDB',
  'EventHub',
  'ServiceBus',
  'AzureKeyVault',
  'AzureMonitor',
  'AppService',
  'AzureContainerRegistry',
  'AzureActiveDirectory',
  'AzureFrontDoor.Backend',
  'AzureDataLake',
  'AzureMachineLearning',
  'BatchNodeManagement',
  'DataFactory',
  'AzureBackup',
  'ApiManagement',
  'LogicApps',
  'AzureSignalR',
  'HDInsight',
  'AzureDevOps',
  'AzureConnectors',
  'MicrosoftContainerRegistry',
  'GuestAndHybridManagement',
  'AzureArcInfrastructure',
  'AzureSiteRecovery',
  'AzureDatabricks',
  'AzureIoTHub',
  'Dynamics365ForMarketingEmail',
  'PowerBI',
  'PowerPlatformInfra',
  'AzureTrafficManager',
  'AzureResourceManager',
  'AzureBotService',
  'CognitiveServicesManagement',
  'AzureSpringCloud',
  'AzureAttestation',
  'AzureCommunicationServices',
  'AzureOpenDatasets',
  'AzureUpdateDelivery',
  'WindowsAdminCenter',
  'AzureLoadTestingInstanceManagement',
  'AzureSentinel',
  'AzurePortal',
  'AzureAdvancedThreatProtection',
  'AzureAppConfiguration',
  'AzureCognitiveSearch',
  'AzureDigitalTwins',
  'AzureEventGrid',
  'AzureHealthcareAPIs',
  'AzureInformationProtection',
  'AzureManagedGrafana',
  'AzureOpenAI',
  'AzureStack',
  'AzureVideoAnalyzerForMedia',
  'AzureWebPubSub',
  'ElasticAFD',
  'M365ManagementActivityApi',
  'MicrosoftAzureFluidRelay',
  'MicrosoftCloudAppSecurity',
  'MicrosoftDefenderForEndpoint',
  'MicrosoftPurviewPolicyDistribution',
  'OneDsCollector',
  'ServiceFabric',
  'SqlManagement',
  'StorageSyncService',
  'VideoIndexer',
  'WindowsVirtualDesktop',
  'AzurePlaywrightService',
  'AzureMonitorForSAP',
  'ActionGroup',
  'AzureAutomation',
  'AzureDeviceUpdate',
  'AzureDevSpaces',
  'AzureIdentity',
  'AzureTrafficManagerProbes',
  'ChaosStudio',
  'DataFactoryManagement',
  'Grafana',
];

/** The public Azure addresses the simulator uses, with the tag that must contain each. */
const KNOWN: readonly [string, string, string][] = [
  ['Storage.EastUS', 'eastus', '20.60.128.0/24'],
  ['Storage.EastUS', 'eastus', '52.239.184.0/24'],
  ['AzureCloud.eastus', 'eastus', '20.60.0.0/16'],
  ['AzureCloud.eastus', 'eastus', '52.239.0.0/17'],
  ['AzureFrontDoor.Backend', '', '13.107.42.0/24'],
  ['AzureCloud', '', '13.107.0.0/16'],
  ['Storage.EastUS', 'eastus', '2603:1030:20e:3::/64'],
  ['AzureCloud.eastus', 'eastus', '2603:1030:20e::/48'],
];

/** ServiceTags_Public-shaped JSON with ~`prefixes` prefixes. */
export function serviceTagsJson(prefixes = 130_000, seed = 11): string {
  const r = seededRandom(seed);
  const byTag = new Map<string, { region: string; prefixes: string[] }>();
  const tag = (name: string, region: string) => {
    let t = byTag.get(name);
    if (t === undefined) {
      t = { region, prefixes: [] };
      byTag.set(name, t);
    }
    return t;
  };
  for (const [name, region, prefix] of KNOWN) tag(name, region).prefixes.push(prefix);
  const names: [string, string][] = [];
  for (const s of SERVICES) {
    names.push([s, '']);
    for (const region of REGIONS) names.push([`${s}.${region[0]!.toUpperCase()}${region.slice(1)}`, region]);
  }
  let made = KNOWN.length;
  while (made < prefixes) {
    const [name, region] = names[Math.floor(r() * names.length)]!;
    const t = tag(name, region);
    if (r() < 0.8) {
      // IPv4 in Microsoft-ish space (4.x, 13.x, 20.x, 40.x, 51.x, 52.x, 104.x, 137.x, 168.x, 191.x)
      const first = [4, 13, 20, 23, 40, 48, 51, 52, 65, 70, 98, 104, 108, 137, 138, 157, 168, 191][
        Math.floor(r() * 18)
      ]!;
      const len = 20 + Math.floor(r() * 13);
      const value = ((first << 24) | Math.floor(r() * 0x1000000)) >>> 0;
      const masked = len === 32 ? value : (value & ~((1 << (32 - len)) - 1)) >>> 0;
      t.prefixes.push(
        `${masked >>> 24}.${(masked >>> 16) & 255}.${(masked >>> 8) & 255}.${masked & 255}/${len}`,
      );
    } else {
      const group = () => Math.floor(r() * 0x10000).toString(16);
      t.prefixes.push(
        `2603:10${Math.floor(r() * 64)
          .toString(16)
          .padStart(2, '0')}:${group()}:${group()}::/${[48, 56, 64, 64, 64][Math.floor(r() * 5)]}`,
      );
    }
    made++;
  }
  const values = [...byTag].map(([name, t], i) => ({
    name,
    id: name,
    properties: {
      changeNumber: 1 + (i % 7),
      region: t.region,
      regionId: t.region === '' ? 0 : 1 + REGIONS.indexOf(t.region),
      platform: 'Azure',
      systemService: name.split('.')[0],
      addressPrefixes: t.prefixes,
      networkFeatures: ['API', 'NSG', 'UDR', 'FW'],
    },
  }));
  return JSON.stringify({ changeNumber: 321, cloud: 'Public', values }, null, 2);
}

/** Labels for the simulated topology (its NICs live in 10.1.0.0/16 – 10.9.0.0/16). */
export function labelsCsv(): string {
  const rows = ['cidr,label,kind'];
  for (let i = 1; i <= 9; i++) rows.push(`10.${i}.0.0/16,vnet-${i},vnet`);
  rows.push('192.168.10.0/24,onprem-dc,s2s', '172.16.200.0/24,vpn-clients,p2s');
  rows.push(
    '45.146.164.0/24,scanner-net,threat',
    '185.224.128.0/24,scanner-net-2,threat',
    '2001:470:1::/48,ipv6-scanners,threat',
  );
  return `${rows.join('\n')}\n`;
}

export function writeBenchEnrichmentData(tagsPath: string, labelsPath: string): { prefixes: number } {
  const json = serviceTagsJson();
  writeFileSync(tagsPath, json);
  writeFileSync(labelsPath, labelsCsv());
  return { prefixes: 130_000 };
}
