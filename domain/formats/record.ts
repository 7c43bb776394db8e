import { normalizeMac } from '../blob-identity';
import { RecordFormatError, type SourceLocation } from '../errors';

/** Which of Azure's writers produced a record. */
export type TupleLayout = 'nsg-v1' | 'nsg-v2' | 'vnet-v4';
export type LogType = 'nsg' | 'vnet';

export const LOG_TYPE_OF: Readonly<Record<TupleLayout, LogType>> = {
  'nsg-v1': 'nsg',
  'nsg-v2': 'nsg',
  'vnet-v4': 'vnet',
};

/** Tuples that share rule, MAC and ACL inside one record. */
export interface FlowGroup {
  readonly rule: string;
  readonly macAddress: string;
  readonly aclId: string | null;
  readonly tuples: readonly unknown[];
}

/** A validated flow-log record: what the aggregator needs, nothing else. */
export interface FlowRecord {
  readonly layout: TupleLayout;
  readonly time: string;
  readonly resourceId: string;
  readonly groups: readonly FlowGroup[];
}

type Json = Record<string, unknown>;

const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Field lookup that tolerates the documented casing variants (`resourceId` vs `resourceid`). */
function field(obj: Json, name: string): unknown {
  const direct = obj[name];
  if (direct !== undefined) return direct;
  const lower = name.toLowerCase();
  for (const key of Object.keys(obj)) if (key.toLowerCase() === lower) return obj[key];
  return undefined;
}

function fail(
  at: SourceLocation,
  what: string,
  code: 'not-a-record' | 'unknown-version' | 'malformed-record',
) {
  return new RecordFormatError(code, at, what);
}

function requireString(obj: Json, name: string, at: SourceLocation, where: string): string {
  const v = field(obj, name);
  if (typeof v !== 'string' || v.length === 0)
    throw fail(at, `${where}: "${name}" must be a non-empty string, got ${describe(v)}`, 'malformed-record');
  return v;
}

function requireArray(obj: Json, name: string, at: SourceLocation, where: string): readonly unknown[] {
  const v = field(obj, name);
  if (!Array.isArray(v))
    throw fail(at, `${where}: "${name}" must be an array, got ${describe(v)}`, 'malformed-record');
  return v;
}

function describe(v: unknown): string {
  if (v === undefined) return 'nothing';
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  return typeof v === 'object' ? 'an object' : `${typeof v} ${JSON.stringify(v)?.slice(0, 40)}`;
}

/**
 * Recognises one element of `records` (NSG v1/v2 or VNet v4) and checks its envelope. Unknown extra fields
 * are ignored; an unknown version or a missing envelope field is a RecordFormatError naming the record.
 */
export function readFlowRecord(value: unknown, at: SourceLocation): FlowRecord {
  if (!isObject(value))
    throw fail(at, `a record must be a JSON object, got ${describe(value)}`, 'not-a-record');
  if (Array.isArray(value['records']))
    throw fail(
      at,
      'found a {"records":[...]} wrapper nested inside records (the shape of the malformed Microsoft docs sample); each element of records must be one record',
      'not-a-record',
    );
  const time = field(value, 'time');
  if (typeof time !== 'string' || time.length === 0)
    throw fail(at, `record has no "time" string (got ${describe(time)})`, 'malformed-record');

  const flowRecords = field(value, 'flowRecords');
  if (flowRecords !== undefined || field(value, 'flowLogVersion') !== undefined) {
    return readVnetRecord(value, flowRecords, time, at);
  }
  const properties = field(value, 'properties');
  if (isObject(properties)) return readNsgRecord(value, properties, time, at);
  throw fail(
    at,
    'not an NSG flow log record (no "properties") nor a VNet flow log record (no "flowRecords"); is this a flow-log blob?',
    'not-a-record',
  );
}

function readNsgRecord(record: Json, properties: Json, time: string, at: SourceLocation): FlowRecord {
  const version = field(properties, 'Version');
  if (version !== 1 && version !== 2)
    throw fail(
      at,
      `unsupported NSG flow log version ${describe(version)} (properties.Version must be 1 or 2)`,
      'unknown-version',
    );
  const resourceId = requireString(record, 'resourceId', at, 'NSG record');
  const groups: FlowGroup[] = [];
  const rules = requireArray(properties, 'flows', at, 'properties');
  for (let r = 0; r < rules.length; r++) {
    const rule = rules[r];
    if (!isObject(rule)) throw fail(at, `properties.flows[${r}] must be an object`, 'malformed-record');
    const ruleName = requireString(rule, 'rule', at, `properties.flows[${r}]`);
    const macFlows = requireArray(rule, 'flows', at, `properties.flows[${r}]`);
    for (let m = 0; m < macFlows.length; m++) {
      const macFlow = macFlows[m];
      const where = `properties.flows[${r}].flows[${m}]`;
      if (!isObject(macFlow)) throw fail(at, `${where} must be an object`, 'malformed-record');
      const mac = requireString(macFlow, 'mac', at, where);
      groups.push({
        rule: ruleName,
        macAddress: normalizeMac(mac),
        aclId: null,
        tuples: requireArray(macFlow, 'flowTuples', at, where),
      });
    }
  }
  return { layout: version === 1 ? 'nsg-v1' : 'nsg-v2', time, resourceId, groups };
}

function readVnetRecord(record: Json, flowRecords: unknown, time: string, at: SourceLocation): FlowRecord {
  const version = field(record, 'flowLogVersion');
  if (version !== 4)
    throw fail(
      at,
      `unsupported VNet flow log version ${describe(version)} (flowLogVersion 4 is known)`,
      'unknown-version',
    );
  if (!isObject(flowRecords)) throw fail(at, `"flowRecords" must be an object`, 'malformed-record');
  const resourceId = requireString(record, 'targetResourceID', at, 'VNet record');
  const macAddress = normalizeMac(requireString(record, 'macAddress', at, 'VNet record'));
  const groups: FlowGroup[] = [];
  const acls = requireArray(flowRecords, 'flows', at, 'flowRecords');
  for (let a = 0; a < acls.length; a++) {
    const acl = acls[a];
    if (!isObject(acl)) throw fail(at, `flowRecords.flows[${a}] must be an object`, 'malformed-record');
    const aclId = requireString(acl, 'aclID', at, `flowRecords.flows[${a}]`);
    const flowGroups = requireArray(acl, 'flowGroups', at, `flowRecords.flows[${a}]`);
    for (let g = 0; g < flowGroups.length; g++) {
      const group = flowGroups[g];
      const where = `flowRecords.flows[${a}].flowGroups[${g}]`;
      if (!isObject(group)) throw fail(at, `${where} must be an object`, 'malformed-record');
      groups.push({
        rule: requireString(group, 'rule', at, where),
        macAddress,
        aclId,
        tuples: requireArray(group, 'flowTuples', at, where),
      });
    }
  }
  return { layout: 'vnet-v4', time, resourceId, groups };
}
