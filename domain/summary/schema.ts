/**
 * The summary contract: one definition of every field of a flow summary.
 *
 * Everything that names a summary field derives from SUMMARY_FIELDS: the TypeScript type, the NDJSON /
 * Event Hubs serializer, the ADX table and ingestion mapping (deploy/adx), and the field reference in
 * docs/summary-schema.md. Adding a field here is the only way to add a field anywhere.
 */

/**
 * 2: ids from the record's byte offset (final where the record is read), `recordOffset` instead of
 * `recordOrdinal`, `blob` as a 16-hex blob id, null fields left out of the row, VNet `flowsEncrypted`.
 * 3: what is the same for every row of a blob's flow group (blob, log type, resource id, ACL id, MAC,
 * rule, window length, version) is sent once per group as a `FlowGroups` line and named in each row by
 * `group`; the ids are those of version 2.
 */
export const SUMMARY_SCHEMA_VERSION = 3;

/** Value kinds of the contract; each maps to one ADX column type. */
export type FieldKind = 'string' | 'int' | 'long' | 'real' | 'datetime';

export type FieldGroup = 'identity' | 'key' | 'measure' | 'enrichment';

export interface FieldSpec {
  readonly name: string;
  readonly kind: FieldKind;
  readonly group: FieldGroup;
  /**
   * Null is allowed (enrichment fields and fields that only one log type has). A null field is left out
   * of the serialized row (ADX maps a missing path to null): rows carry only what they know.
   */
  readonly nullable: boolean;
  readonly description: string;
  /**
   * Same value in every summary of one record's flow group (group, record offset and time). These fields
   * are contiguous after `id` among the row's fields, so the serializer renders them once per group.
   */
  readonly repeats?: boolean;
  /**
   * `group`: the field is not in the row but in the flow group's `FlowGroups` line (one per blob and
   * flow group, content-addressed by `group`); ADX's `Flows()` joins it back onto every row.
   */
  readonly table?: 'group';
}

/** ADX column type for each value kind. datetime values travel as ISO-8601 UTC strings. */
export const KUSTO_TYPE: Readonly<Record<FieldKind, string>> = {
  string: 'string',
  int: 'int',
  long: 'long',
  real: 'real',
  datetime: 'datetime',
};

const side = (prefix: 'src' | 'dst', who: string) =>
  [
    {
      name: `${prefix}Country`,
      kind: 'string',
      group: 'enrichment',
      nullable: true,
      description: `ISO 3166-1 alpha-2 country of the ${who} address (GeoIP); null for private or unknown addresses.`,
    },
    {
      name: `${prefix}City`,
      kind: 'string',
      group: 'enrichment',
      nullable: true,
      description: `City of the ${who} address (GeoIP).`,
    },
    {
      name: `${prefix}Lat`,
      kind: 'real',
      group: 'enrichment',
      nullable: true,
      description: `Latitude of the ${who} address (GeoIP).`,
    },
    {
      name: `${prefix}Lon`,
      kind: 'real',
      group: 'enrichment',
      nullable: true,
      description: `Longitude of the ${who} address (GeoIP).`,
    },
    {
      name: `${prefix}Asn`,
      kind: 'long',
      group: 'enrichment',
      nullable: true,
      description: `Autonomous system number announcing the ${who} address.`,
    },
    {
      name: `${prefix}AsOrg`,
      kind: 'string',
      group: 'enrichment',
      nullable: true,
      description: `Organisation of that autonomous system.`,
    },
    {
      name: `${prefix}ServiceTag`,
      kind: 'string',
      group: 'enrichment',
      nullable: true,
      description: `Most specific Azure service tag containing the ${who} address (longest prefix wins).`,
    },
    {
      name: `${prefix}AzureRegion`,
      kind: 'string',
      group: 'enrichment',
      nullable: true,
      description: `Azure region of that service tag, when it has one.`,
    },
    {
      name: `${prefix}Label`,
      kind: 'string',
      group: 'enrichment',
      nullable: true,
      description: `The user's topology label for the ${who} address (labels CSV / table).`,
    },
  ] as const;

export const SUMMARY_FIELDS = [
  {
    name: 'id',
    kind: 'string',
    group: 'identity',
    nullable: false,
    description:
      'Deterministic id of this summary: a 128-bit hash of (blob identity, recordOffset, window, key), final where the record is read. Reprocessing, any chunking of the blob, `flowlog process` and the app give the same id; dedup on it.',
  },
  {
    name: 'group',
    repeats: true,
    kind: 'string',
    group: 'identity',
    nullable: false,
    description:
      "Flow group id: 16 hex characters, the first 64 bits of MurmurHash3 x86 128 of the group's fields (`schemaVersion`, `blob`, `windowSeconds`, `logType`, `resourceId`, `aclId`, `macAddress`, `rule`). Rows carry it instead of those fields; the `FlowGroups` line with this `group` carries them (sent with the rows, before them), and `Flows()` joins them back.",
  },
  {
    name: 'recordOffset',
    repeats: true,
    kind: 'long',
    group: 'identity',
    nullable: false,
    description:
      'Byte offset of the source record in the blob (where its `{` is). `POST /api/blobs/rerun {from: {offset}}` reads the blob again from there.',
  },
  {
    name: 'recordTime',
    repeats: true,
    kind: 'datetime',
    group: 'identity',
    nullable: false,
    description: "The source record's `time` (when Azure logged it), as written.",
  },
  {
    name: 'schemaVersion',
    table: 'group',
    kind: 'int',
    group: 'identity',
    nullable: false,
    description: `Version of this contract (${SUMMARY_SCHEMA_VERSION}).`,
  },
  {
    name: 'blob',
    table: 'group',
    kind: 'string',
    group: 'identity',
    nullable: false,
    description:
      "Blob id: 16 hex characters, the first 64 bits of MurmurHash3 x86 128 of the blob identity (the blob name from `resourceId=` / `flowLogResourceID=` on; outside the Azure layout the path relative to the folder given; `#gN` appended for a blob rewritten from byte 0 within its hour, generation N ≥ 1). Carried by the flow group's `FlowGroups` line; `Flows()` joins it onto the rows. `GET /api/blobs`, `GET /api/blobs/{key}` and `flowlog blob-id <name>` show it next to the blob's name.",
  },
  {
    name: 'windowSeconds',
    table: 'group',
    kind: 'int',
    group: 'key',
    nullable: false,
    description: 'Window length in seconds (default 60).',
  },
  {
    name: 'logType',
    table: 'group',
    kind: 'string',
    group: 'key',
    nullable: false,
    description: '`nsg` (NSG flow logs v1/v2) or `vnet` (VNet flow logs).',
  },
  {
    name: 'resourceId',
    table: 'group',
    kind: 'string',
    group: 'key',
    nullable: false,
    description: "NSG: the record's `resourceId`; VNet: the record's `targetResourceID`; as written.",
  },
  {
    name: 'aclId',
    table: 'group',
    kind: 'string',
    group: 'key',
    nullable: true,
    description: 'VNet only: `flowRecords.flows[].aclID` (a GUID, the zero GUID, or an NSG resource id).',
  },
  {
    name: 'macAddress',
    table: 'group',
    kind: 'string',
    group: 'key',
    nullable: false,
    description:
      "NIC MAC, upper case, no separators (NSG: the flow's `mac`; VNet: the record's `macAddress`).",
  },
  {
    name: 'rule',
    table: 'group',
    kind: 'string',
    group: 'key',
    nullable: false,
    description: 'NSG or security admin rule that logged the flow.',
  },
  {
    name: 'windowStart',
    kind: 'datetime',
    group: 'key',
    nullable: false,
    description: 'Start of the window: floor(tuple time in seconds / windowSeconds) × windowSeconds, UTC.',
  },
  {
    name: 'direction',
    kind: 'string',
    group: 'key',
    nullable: false,
    description: '`Inbound` or `Outbound`, relative to the NIC / target where the flow was captured.',
  },
  {
    name: 'decision',
    kind: 'string',
    group: 'key',
    nullable: false,
    description: '`Allow` or `Deny` (VNet: state D means Deny).',
  },
  {
    name: 'protocol',
    kind: 'string',
    group: 'key',
    nullable: false,
    description: '`TCP`, `UDP`, else the IANA protocol number as a string.',
  },
  { name: 'srcIp', kind: 'string', group: 'key', nullable: false, description: 'Source address as logged.' },
  {
    name: 'dstIp',
    kind: 'string',
    group: 'key',
    nullable: false,
    description: 'Destination address as logged.',
  },
  {
    name: 'dstPort',
    kind: 'int',
    group: 'key',
    nullable: false,
    description: 'Destination port. The source port is not part of the key.',
  },
  {
    name: 'tuples',
    kind: 'long',
    group: 'measure',
    nullable: false,
    description: 'Flow tuples summed into this row.',
  },
  {
    name: 'flowsStarted',
    kind: 'long',
    group: 'measure',
    nullable: false,
    description: 'Tuples with state B (flow began).',
  },
  {
    name: 'flowsEnded',
    kind: 'long',
    group: 'measure',
    nullable: false,
    description: 'Tuples with state E (flow ended).',
  },
  {
    name: 'flowsDenied',
    kind: 'long',
    group: 'measure',
    nullable: false,
    description: 'Tuples whose decision is Deny.',
  },
  {
    name: 'packetsSrcToDst',
    kind: 'long',
    group: 'measure',
    nullable: false,
    description:
      'Packets source → destination (C and E counters are deltas, so the sum is exact; empty = 0).',
  },
  {
    name: 'bytesSrcToDst',
    kind: 'long',
    group: 'measure',
    nullable: false,
    description: 'Bytes source → destination.',
  },
  {
    name: 'packetsDstToSrc',
    kind: 'long',
    group: 'measure',
    nullable: false,
    description: 'Packets destination → source.',
  },
  {
    name: 'bytesDstToSrc',
    kind: 'long',
    group: 'measure',
    nullable: false,
    description: 'Bytes destination → source.',
  },
  {
    name: 'flowsEncrypted',
    kind: 'long',
    group: 'measure',
    nullable: true,
    description:
      'VNet only: tuples whose encryption state is `X` (encrypted by virtual network encryption); the others (`NX`, `NX_HW_NOT_SUPPORTED`, `NX_SW_NOT_READY`, `NX_NOT_ACCEPTED`, `NX_NOT_SUPPORTED`, `NX_LOCAL_DST`, `NX_FALLBACK`, …) are `tuples − flowsEncrypted` (not sent: derivable; `Flows()` gives it as `flowsUnencrypted`). Absent for NSG rows, which carry no encryption state.',
  },
  ...side('src', 'source'),
  ...side('dst', 'destination'),
  {
    name: 'flowType',
    kind: 'string',
    group: 'enrichment',
    nullable: true,
    description:
      "Traffic Analytics' flow class: IntraVNet, InterVNet, S2S, P2S, AzurePublic, ExternalPublic, MaliciousFlow, UnknownPrivate, Unknown.",
  },
  {
    name: 'l7Protocol',
    kind: 'string',
    group: 'enrichment',
    nullable: true,
    description:
      'IANA service name of the destination port and protocol (`https`, `ssh`, …), `unknown` otherwise.',
  },
] as const satisfies readonly FieldSpec[];

type Field = (typeof SUMMARY_FIELDS)[number];
type ValueOfKind<K extends FieldKind> = K extends 'int' | 'long' | 'real' ? number : string;
type ValueOf<F extends Field> = F['nullable'] extends true
  ? ValueOfKind<F['kind']> | null
  : ValueOfKind<F['kind']>;

/** One flow summary, the Event Hubs message body and the ADX row. */
export type FlowSummary = { [F in Field as F['name']]: ValueOf<F> };

export type SummaryFieldName = Field['name'];

/** The fields a row carries (contract order): all but those of its flow group's line. */
export const ROW_FIELDS: readonly FieldSpec[] = SUMMARY_FIELDS.filter((f: FieldSpec) => f.table !== 'group');

/** The fields of a `FlowGroups` line: `group`, then the fields the rows leave to it. */
export const GROUP_FIELDS: readonly FieldSpec[] = [
  ...SUMMARY_FIELDS.filter((f) => f.name === 'group'),
  ...SUMMARY_FIELDS.filter((f: FieldSpec) => f.table === 'group'),
];

type GroupFieldName = Extract<Field, { table: 'group' }>['name'] | 'group';
/** What one `FlowGroups` line says. */
export type FlowGroup = Pick<FlowSummary, GroupFieldName>;

/** Names of the fields that enrichment fills; null until then. */
export type EnrichmentFieldName = Extract<Field, { group: 'enrichment' }>['name'];
export type EnrichmentFields = Pick<FlowSummary, EnrichmentFieldName>;

export const ENRICHMENT_FIELD_NAMES: readonly EnrichmentFieldName[] = SUMMARY_FIELDS.filter(
  (f): f is Extract<Field, { group: 'enrichment' }> => f.group === 'enrichment',
).map((f) => f.name);

/** A summary's enrichment fields, all null: the state before (or without) enrichment. */
export function emptyEnrichment(): EnrichmentFields {
  const out: Partial<Record<EnrichmentFieldName, null>> = {};
  for (const name of ENRICHMENT_FIELD_NAMES) out[name] = null;
  return out as EnrichmentFields;
}

/**
 * A summary with every field at its empty value ('' / 0 / null) and then `fields`: probe rows for the
 * enricher and scratch rows, never emitted.
 */
export function blankSummary(fields: Partial<FlowSummary> = {}): FlowSummary {
  const blank: Record<string, string | number | null> = {};
  for (const f of SUMMARY_FIELDS)
    blank[f.name] = f.nullable ? null : f.kind === 'string' || f.kind === 'datetime' ? '' : 0;
  blank['schemaVersion'] = SUMMARY_SCHEMA_VERSION;
  blank['windowSeconds'] = 60;
  return { ...blank, ...fields } as FlowSummary;
}
