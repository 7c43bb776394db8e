import type { BlobSnapshot, StackSnapshot, SummaryFields } from '../../../local/live/model';

export const NSG_BLOB =
  'resourceId=/SUBSCRIPTIONS/S/RESOURCEGROUPS/RG/PROVIDERS/MICROSOFT.NETWORK/NETWORKSECURITYGROUPS/NSG-WEB/y=2026/m=11/d=30/h=03/m=00/macAddress=000D3A0000A1/PT1H.json';
export const VNET_BLOB =
  'flowLogResourceID=/SUBSCRIPTIONS/S/RESOURCEGROUPS/NETWORKWATCHERRG/PROVIDERS/MICROSOFT.NETWORK/NETWORKWATCHERS/NW/FLOWLOGS/VNET-HUB-FLOWLOG/y=2026/m=11/d=30/h=03/m=00/macAddress=000D3A0000B2/PT1H.json';

/** A summary with everything zero but what the test says. */
export function summary(
  fields: Partial<SummaryFields> & Pick<SummaryFields, 'srcIp' | 'dstIp'>,
): SummaryFields {
  return {
    blob: NSG_BLOB,
    recordOffset: 0,
    windowStart: '2026-11-30T03:00:00Z',
    decision: 'Allow',
    rule: 'DefaultRule_AllowInternetOutBound',
    dstPort: 443,
    tuples: 1,
    flowsDenied: 0,
    packetsSrcToDst: 0,
    bytesSrcToDst: 0,
    packetsDstToSrc: 0,
    bytesDstToSrc: 0,
    ...fields,
  };
}

export function blobSnapshot(fields: Partial<BlobSnapshot> & Pick<BlobSnapshot, 'name'>): BlobSnapshot {
  return {
    key: fields.name,
    container: 'insights-logs-networksecuritygroupflowevent',
    logType: 'nsg',
    committedRecords: 0,
    committedLength: 0,
    current: true,
    entity: null,
    runtimeStatus: null,
    ...fields,
  };
}

export function stackSnapshot(at: number, fields: Partial<StackSnapshot> = {}): StackSnapshot {
  return {
    at,
    phase: 'running',
    writer: {
      blocks: 0,
      blobsCreated: 0,
      eventsSent: 0,
      eventsRedelivered: 0,
      eventsGivenUp: 0,
      lateTicks: 0,
      dataTime: null,
      exhausted: false,
    },
    blobs: [],
    retiredBlobs: 0,
    app: {},
    host: {
      activityExecutions: 0,
      activityFailures: 0,
      orchestratorEpisodes: 0,
      orchestrationsStarted: 0,
      entityOperations: 0,
    },
    instances: { active: 0, failed: 0, completed: 0 },
    runs: { completed: 0, failed: 0 },
    sweeps: 0,
    rssBytes: 100e6,
    ...fields,
  };
}

// biome-ignore lint/suspicious/noControlCharactersInRegex: ANSI escape sequences
const ANSI = /\x1b\[[0-9;?]*[A-Za-z]/g;

/** Visible characters of a terminal line (ANSI codes removed). */
export function visible(line: string): string {
  return line.replace(ANSI, '');
}
