/**
 * Every app setting the Functions app reads, in one catalog. The start-up validator, the Bicep template
 * (deploy/infra) and local.settings.example.json are checked against this list by tests, so a setting
 * cannot be read in code without being deployed, or deployed without being read.
 */
export interface AppSettingSpec {
  readonly name: string;
  readonly description: string;
  /** Required unless a listed alternative is set (identity-based vs connection-string forms). */
  readonly required: boolean;
  readonly alternatives?: readonly string[];
  readonly defaultValue?: string;
  /** Never logged, never echoed in errors. */
  readonly secret: boolean;
}

export const APP_SETTINGS: readonly AppSettingSpec[] = [
  {
    name: 'AzureWebJobsStorage',
    description: 'Host storage (Durable task hub, ledger table, staging blobs). Connection string form.',
    required: true,
    alternatives: ['AzureWebJobsStorage__accountName'],
    secret: true,
  },
  {
    name: 'AzureWebJobsStorage__accountName',
    description: 'Host storage account name for identity-based connections.',
    required: false,
    secret: false,
  },
  {
    name: 'FLOWLOG_SOURCE_ACCOUNTS',
    description:
      'Comma-separated names of the storage accounts that receive flow logs (one per region). Only blobs of these accounts are read.',
    required: true,
    secret: false,
  },
  {
    name: 'FLOWLOG_SOURCE_CONNECTION_STRINGS',
    description:
      'Optional JSON object {accountName: connectionString} for source accounts reached by key instead of managed identity (local runs, Azurite).',
    required: false,
    secret: true,
  },
  {
    name: 'FLOWLOG_CONTAINERS',
    description: 'Comma-separated flow-log containers to accept.',
    required: false,
    defaultValue: 'insights-logs-networksecuritygroupflowevent,insights-logs-flowlogflowevent',
    secret: false,
  },
  {
    name: 'FLOWLOG_WINDOW_SECONDS',
    description: 'Summary window length in seconds.',
    required: false,
    defaultValue: '60',
    secret: false,
  },
  {
    name: 'EventHubConnection',
    description: 'Event Hubs connection string (with EntityPath or FLOWLOG_EVENTHUB_NAME).',
    required: true,
    alternatives: ['EventHubConnection__fullyQualifiedNamespace'],
    secret: true,
  },
  {
    name: 'EventHubConnection__fullyQualifiedNamespace',
    description:
      'Event Hubs namespace host (e.g. myns.servicebus.windows.net) for identity-based connections.',
    required: false,
    secret: false,
  },
  {
    name: 'FLOWLOG_EVENTHUB_NAME',
    description: 'Event hub that receives the summaries.',
    required: false,
    defaultValue: 'flow-summaries',
    secret: false,
  },
  {
    name: 'FLOWLOG_EVENT_MAX_BYTES',
    description:
      'Largest Event Hubs event body in bytes: summary rows are packed several to an event (NDJSON, read by the ADX data connection as multijson) up to this size. The default fits every hub tier (Basic allows 256 KB per event).',
    required: false,
    defaultValue: '240000',
    secret: false,
  },
  {
    name: 'FLOWLOG_EVENT_GZIP',
    description:
      'true: gzip every event body (event property Compression=gzip, which the ADX data connection reads); fewer bytes on the hub for a little CPU.',
    required: false,
    defaultValue: 'false',
    secret: false,
  },
  {
    name: 'FLOWLOG_ENRICH',
    description: 'Set to false to emit summaries without enrichment.',
    required: false,
    defaultValue: 'true',
    secret: false,
  },
  {
    name: 'FLOWLOG_GEOIP_CITY_PATH',
    description:
      'Path(s), comma-separated, of City or Country MMDBs (MaxMind GeoLite2/GeoIP2, DB-IP, IPinfo; layout recognised per record); default: the DB-IP lite data installed from npm.',
    required: false,
    secret: false,
  },
  {
    name: 'FLOWLOG_ASN_PATH',
    description:
      'Path(s), comma-separated, of ASN databases: MMDBs (MaxMind GeoLite2-ASN/GeoIP2-ISP, IPinfo ASN or Lite) or @ip-location-db range CSVs; default: the data installed from npm.',
    required: false,
    secret: false,
  },
  {
    name: 'FLOWLOG_SERVICE_TAGS_PATH',
    description: 'Path or blob URL of ServiceTags_Public_*.json.',
    required: false,
    secret: false,
  },
  {
    name: 'FLOWLOG_LABELS_PATH',
    description: 'Path of the topology/threat labels CSV (cidr,label,kind).',
    required: false,
    secret: false,
  },
  {
    name: 'FLOWLOG_LABELS_TABLE',
    description:
      'Azure Table in host storage holding topology/threat labels (entities with cidr, label, kind), editable without redeploying. Reached like host storage: with the managed identity at the table endpoint of AzureWebJobsStorage__accountName (Storage Table Data Reader or Contributor), or with the AzureWebJobsStorage connection string locally.',
    required: false,
    secret: false,
  },
  {
    name: 'FLOWLOG_LEDGER_TABLE',
    description: 'Table of per-blob status rows (failed / lagging queries).',
    required: false,
    defaultValue: 'flowlogblobs',
    secret: false,
  },
  {
    name: 'FLOWLOG_STAGING_CONTAINER',
    description: 'Container in host storage for staged partial aggregates exchanged between activities.',
    required: false,
    defaultValue: 'flowlog-staging',
    secret: false,
  },
  {
    name: 'FLOWLOG_PARSE_CHUNK_BYTES',
    description: 'Upper bound of bytes one parse activity reads.',
    required: false,
    defaultValue: '4194304',
    secret: false,
  },
  {
    name: 'FLOWLOG_BULK_CONCURRENCY',
    description: 'Reruns a bulk job (POST /api/replay, /api/blobs/rerun-failed) runs at once.',
    required: false,
    defaultValue: '16',
    secret: false,
  },
  {
    name: 'FLOWLOG_BULK_MAX_BLOBS',
    description: 'Blobs one bulk job takes at most; the rest is reported as left out (narrow the request).',
    required: false,
    defaultValue: '5000',
    secret: false,
  },
  {
    name: 'FLOWLOG_STUCK_RUN_MINUTES',
    description:
      'A run that made no progress (claim, round start, commit) for this long is replaced by the next event or sweep, and the sweep terminates it.',
    required: false,
    defaultValue: '30',
    secret: false,
  },
  {
    name: 'FLOWLOG_HOUR_GRACE_MINUTES',
    description:
      "A blob's hour is complete once the hour plus this grace is over and everything committed was read (set by the run's commit or the sweep; a later block reopens it). Azure commits an hour's last blocks for a few minutes after the hour ends.",
    required: false,
    defaultValue: '15',
    secret: false,
  },
  // Enrichment data refreshed from Azure with the app's identity (triggers/refreshTopology.ts,
  // triggers/refreshServiceTags.ts; docs/enrichment.md).
  {
    name: 'FLOWLOG_TOPOLOGY_SUBSCRIPTIONS',
    description:
      'Topology labels from Azure Resource Graph (VNets, peerings, gateways, VPN client pools, public IPs) under the CSV/Table labels: "*" for every subscription the app identity can read, or comma-separated subscription ids. Unset: off. The identity needs Reader on them.',
    required: false,
    defaultValue: '',
    secret: false,
  },
  {
    name: 'FLOWLOG_TOPOLOGY_REFRESH_MINUTES',
    description: 'How old the stored topology may get before the timer (every 15 minutes) reads it again.',
    required: false,
    defaultValue: '60',
    secret: false,
  },
  {
    name: 'FLOWLOG_THREAT_FEEDS',
    description:
      'Threat feeds as `threat` labels named after each feed (flows with a listed address get MaliciousFlow): comma-separated name=https URL items of blocklists with one address or CIDR block per line (Spamhaus DROP, FireHOL netsets, Feodo Tracker, …). Fetched by the refreshThreatFeeds timer with If-None-Match; a feed that fails keeps its last entries. Unset: off.',
    required: false,
    defaultValue: '',
    secret: false,
  },
  {
    name: 'FLOWLOG_THREAT_FEEDS_REFRESH_MINUTES',
    description:
      'How old the stored feeds may get before the timer (every 15 minutes) asks the feeds again (a feed that failed is asked at the next tick).',
    required: false,
    defaultValue: '60',
    secret: false,
  },
  {
    name: 'FLOWLOG_SERVICE_TAGS_SUBSCRIPTION',
    description:
      'Subscription id to call the Service Tag Discovery API under (any one the app identity can read); the refreshed document is used unless FLOWLOG_SERVICE_TAGS_PATH is set (the path wins). Unset: off.',
    required: false,
    defaultValue: '',
    secret: false,
  },
  {
    name: 'FLOWLOG_SERVICE_TAGS_LOCATION',
    description:
      "Location passed to the Service Tag Discovery API; it picks the cloud's version, the answer lists every region's tags.",
    required: false,
    defaultValue: 'eastus',
    secret: false,
  },
  {
    name: 'FLOWLOG_SERVICE_TAGS_REFRESH_HOURS',
    description:
      'How old the stored service tags may get before the timer (every 15 minutes) fetches them again.',
    required: false,
    defaultValue: '168',
    secret: false,
  },
  {
    name: 'FLOWLOG_ARM_ENDPOINT',
    description:
      'Azure Resource Manager endpoint for the two refreshes (sovereign clouds: https://management.usgovcloudapi.net, https://management.chinacloudapi.cn).',
    required: false,
    defaultValue: 'https://management.azure.com',
    secret: false,
  },
  {
    name: 'APPLICATIONINSIGHTS_CONNECTION_STRING',
    description: 'Application Insights for logs and custom metrics.',
    required: false,
    secret: true,
  },
];
