/**
 * The KQL functions: Traffic Analytics' views and a few more, every one reading the dedup view through
 * `Flows()` (or, for per-blob freshness and NIC-hour completeness, the dedup view itself, joined with the
 * flow groups' dedup view as `Flows()` does). Column names are checked against the
 * schema the scripts declare by test/deploy/adx.test.ts.
 */
import {
  FLOW_KEY,
  LOG_TYPE_UNIT_MS,
  MAX_LONG,
  PREFERRED_LOG_TYPE,
  RANK_HEX_DIGITS,
  SOURCE_SEPARATOR,
} from '../../domain/analysis/double-logging';
import { command, indent, kqlName, kqlString, wrapList } from './kql';
import { ADX, flowColumns, GROUP_ONLY, joinedGroupColumns } from './names';

export interface KqlFunction {
  readonly name: string;
  /** Parameter list without parentheses, e.g. `start:datetime, end:datetime, n:int = 10`. */
  readonly params: string;
  /** One line for the function's docstring and docs/summary-schema.md. */
  readonly doc: string;
  /** The Traffic Analytics view it matches, if any (for the docs). */
  readonly trafficAnalytics?: string;
  readonly body: string;
}

const RANGE = 'start:datetime, end:datetime';

/** Flow types whose remote side is public (TA: AzurePublic, ExternalPublic, MaliciousFlow). */
const PUBLIC_TYPES = '"ExternalPublic", "MaliciousFlow", "AzurePublic"';
const PRIVATE_TYPES = '"IntraVNet", "InterVNet", "S2S", "P2S", "UnknownPrivate"';

/**
 * The count-once rule of docs/double-logging.md over `minute` and `hourly`, the same rule as countOnce() in
 * domain/analysis/double-logging.ts (test/deploy/double-logging.test.ts checks the two agree).
 */
function countOnceKql(): string {
  if (LOG_TYPE_UNIT_MS !== 3_600_000) throw new Error('the KQL below bins NIC-hours by 1h');
  const sep = kqlString(SOURCE_SEPARATOR);
  const vnet = kqlString(PREFERRED_LOG_TYPE);
  const rankDigits = RANK_HEX_DIGITS;
  return `let rows = union minute, hourly;
// Step 1: a NIC-hour with ${PREFERRED_LOG_TYPE} rows counts only those.
let vnetNicHours = rows
    | where countOnce and logType == ${vnet}
    | distinct macAddress, nicHour = bin(windowStart, 1h);
let oneLogType = union
    (rows | where countOnce and logType == ${vnet}),
    (rows
    | where countOnce and logType != ${vnet}
    | extend nicHour = bin(windowStart, 1h)
    | join kind=leftanti vnetNicHours on macAddress, nicHour
    | project-away nicHour);
// Step 2: per flow, Deny rows of every source; Allow rows of the source with the fewest allowed tuples,
// then the most allowed bytes, then the smallest source name.
let keyed = oneLogType
    | extend flowKey = strcat_delim(${sep}, ${FLOW_KEY.join(', ')}),
        source = strcat(resourceId, ${sep}, aclId);
let allowSource = keyed
    | summarize allowed = sumif(tuples, decision == "Allow"),
        allowedBytes = sumif(bytesSrcToDst + bytesDstToSrc, decision == "Allow")
        by flowKey, source
    | summarize pick = min(strcat(tohex(allowed, ${rankDigits}), tohex(${MAX_LONG} - allowedBytes, ${rankDigits}), source))
        by flowKey
    | project flowKey, source = substring(pick, ${2 * rankDigits});
let once = union
    (keyed | where decision != "Allow"),
    (keyed | where decision == "Allow" | join kind=leftsemi allowSource on flowKey, source)
    | project-away flowKey, source;
union (rows | where not(countOnce)), once`;
}

/**
 * The flow groups' fields a query joins back onto the rows: `lookup kind=leftouter` on `group`, so a row
 * whose group line has not arrived (or was lost) stays, with those fields null. The right side is
 * deduplicated (all copies of a group are identical), so the lookup never multiplies a row.
 */
function groupsLookup(columns: readonly string[]): string {
  // The left side must not have columns of these names (a table from before contract v3 may): lookup
  // would rename the joined ones (logType1, …). Callers project or summarize the rows first.
  return `lookup kind=leftouter (${ADX.groupsDedupView} | project group, ${columns.join(', ')}) on group`;
}

function flowsBody(): string {
  const columns = flowColumns();
  // Only the rows' own columns before the lookup: a table created before contract v3 may still have
  // columns named like the group fields, which would clash with the joined ones.
  const rowColumns = wrapList(['group', ...columns.filter((c) => !GROUP_ONLY.has(c))], 90, '        ');
  const projected = wrapList(columns, 90, '        ');
  return `let useHourly = end - start > ${ADX.hourlyThreshold};
let groups = ${ADX.groupsDedupView}
    | project group, ${joinedGroupColumns().join(', ')};
let minute = ${ADX.dedupView}
    | where not(useHourly) and windowStart >= start and windowStart < end
    | project ${rowColumns}
    | lookup kind=leftouter groups on group
    | project ${projected};
let hourly = ${ADX.hourlyView}
    | where useHourly and windowStart >= bin(start, 1h) and windowStart < end
    | project ${rowColumns}
    | lookup kind=leftouter groups on group
    | project ${projected};
${countOnceKql()}
| extend bytes = bytesSrcToDst + bytesDstToSrc,
    packets = packetsSrcToDst + packetsDstToSrc,
    flowsUnencrypted = iff(logType == "vnet", tuples - flowsEncrypted, long(null)),
    inbound = direction == "Inbound"
| extend localIp = iff(inbound, dstIp, srcIp),
    remoteIp = iff(inbound, srcIp, dstIp),
    localLabel = iff(inbound, dstLabel, srcLabel),
    remoteLabel = iff(inbound, srcLabel, dstLabel),
    remoteCountry = iff(inbound, srcCountry, dstCountry),
    remoteCity = iff(inbound, srcCity, dstCity),
    remoteLat = iff(inbound, srcLat, dstLat),
    remoteLon = iff(inbound, srcLon, dstLon),
    remoteAsn = iff(inbound, srcAsn, dstAsn),
    remoteAsOrg = iff(inbound, srcAsOrg, dstAsOrg),
    remoteServiceTag = iff(inbound, srcServiceTag, dstServiceTag),
    resourceName = tostring(split(resourceId, "/")[-1])
| extend remotePublic = coalesce(case(
    flowType in (${PUBLIC_TYPES}), true,
    flowType in (${PRIVATE_TYPES}), false,
    isnotempty(remoteCountry), true,
    ipv4_is_private(remoteIp) == false), false)`;
}

export const BASE_FUNCTIONS: readonly KqlFunction[] = [
  {
    name: 'Flows',
    params: `${RANGE}, countOnce:bool = true`,
    doc: `Deduplicated window summaries with windowStart in [start, end), plus bytes, packets and the local/remote view of each flow (remote = source of inbound flows, destination of outbound ones). Ranges longer than ${ADX.hourlyThreshold} read the hourly rollup, rounded out to whole hours. countOnce (default true) counts a flow logged twice once (docs/double-logging.md): a NIC-hour with VNet flow log rows drops its NSG rows; per flow (NIC, window, direction, protocol, addresses, port) Deny rows of every NSG count and Allow rows of one (fewest allowed tuples); false returns every row as logged.`,
    body: flowsBody(),
  },
];

export const ANALYSIS_FUNCTIONS: readonly KqlFunction[] = [
  {
    name: 'FlowTimeline',
    params: `${RANGE}, step:timespan = 5m`,
    doc: 'Bytes, packets, flow tuples, started and denied flows per time bucket and decision (bucket at least 1m, or 1h on the rollup).',
    trafficAnalytics: 'traffic over time',
    body: `let bucket = max_of(step, iff(end - start > ${ADX.hourlyThreshold}, 1h, 1m));
Flows(start, end)
| summarize bytes = sum(bytes), packets = sum(packets), tuples = sum(tuples), flowsStarted = sum(flowsStarted),
    flowsDenied = sum(flowsDenied)
    by windowStart = bin(windowStart, bucket), decision
| order by windowStart asc`,
  },
  {
    name: 'TopTalkers',
    params: `${RANGE}, n:int = 10`,
    doc: 'Local hosts (the VNet side of each flow) by bytes, with bytes sent and received and the number of peers.',
    trafficAnalytics: 'top talkers (hosts)',
    body: `Flows(start, end)
| summarize bytes = sum(bytes), bytesSent = sum(iff(inbound, bytesDstToSrc, bytesSrcToDst)),
    bytesReceived = sum(iff(inbound, bytesSrcToDst, bytesDstToSrc)), tuples = sum(tuples),
    flowsStarted = sum(flowsStarted), flowsDenied = sum(flowsDenied), peers = dcount(remoteIp),
    label = take_any(localLabel), macAddress = take_any(macAddress)
    by localIp
| top n by bytes desc`,
  },
  {
    name: 'TopConversations',
    params: `${RANGE}, n:int = 10`,
    doc: 'Most-conversing source/destination pairs by bytes.',
    trafficAnalytics: 'most conversing host pairs',
    body: `Flows(start, end)
| summarize bytes = sum(bytes), packets = sum(packets), tuples = sum(tuples), flowsStarted = sum(flowsStarted),
    flowsDenied = sum(flowsDenied), ports = dcount(dstPort), srcCountry = take_any(srcCountry),
    dstCountry = take_any(dstCountry), flowType = take_any(flowType)
    by srcIp, dstIp
| top n by bytes desc`,
  },
  {
    name: 'DeniedInboundBySource',
    params: `${RANGE}, n:int = 20`,
    doc: 'Sources of denied inbound flows: denied count, targets, ports, rules that denied them, origin.',
    trafficAnalytics: 'denied inbound flows',
    body: `Flows(start, end)
| where inbound and decision == "Deny"
| summarize deniedFlows = sum(flowsDenied), targets = dcount(localIp), ports = dcount(dstPort),
    rules = make_set(rule, 10), country = take_any(srcCountry), asOrg = take_any(srcAsOrg),
    flowType = take_any(flowType), lastSeen = max(windowStart)
    by srcIp
| top n by deniedFlows desc`,
  },
  {
    name: 'DeniedInboundByCountry',
    params: RANGE,
    doc: 'Denied inbound flows by source country, with the mean source location for maps.',
    trafficAnalytics: 'geo map (denied)',
    body: `Flows(start, end)
| where inbound and decision == "Deny"
| extend country = iff(isempty(srcCountry), "(unknown)", srcCountry)
| summarize deniedFlows = sum(flowsDenied), sources = dcount(srcIp), lat = avg(srcLat), lon = avg(srcLon)
    by country
| order by deniedFlows desc`,
  },
  {
    name: 'DeniedInboundByRule',
    params: RANGE,
    doc: 'Denied inbound flows by NSG / VNet resource and rule.',
    trafficAnalytics: 'NSG rule hits (denied)',
    body: `Flows(start, end)
| where inbound and decision == "Deny"
| summarize deniedFlows = sum(flowsDenied), sources = dcount(srcIp), targets = dcount(localIp),
    ports = dcount(dstPort), lastSeen = max(windowStart)
    by resourceName, rule, resourceId
| order by deniedFlows desc`,
  },
  {
    name: 'TrafficByCountry',
    params: RANGE,
    doc: 'Traffic with public remote addresses by remote country (ISO 3166-1 alpha-2), with the mean location for maps.',
    trafficAnalytics: 'geo map',
    body: `Flows(start, end)
| where remotePublic
| extend country = iff(isempty(remoteCountry), "(unknown)", remoteCountry)
| summarize bytes = sum(bytes), tuples = sum(tuples), flowsStarted = sum(flowsStarted), flowsDenied = sum(flowsDenied),
    malicious = sumif(tuples, flowType == "MaliciousFlow"), remoteIps = dcount(remoteIp),
    lat = avg(remoteLat), lon = avg(remoteLon)
    by country
| order by bytes desc`,
  },
  {
    name: 'TrafficByAsn',
    params: `${RANGE}, n:int = 20`,
    doc: 'Traffic with public remote addresses by autonomous system.',
    trafficAnalytics: 'public IP details (WHOIS)',
    body: `Flows(start, end)
| where remotePublic and isnotnull(remoteAsn)
| summarize bytes = sum(bytes), tuples = sum(tuples), flowsDenied = sum(flowsDenied), remoteIps = dcount(remoteIp),
    countries = make_set(remoteCountry, 5)
    by asn = remoteAsn, asOrg = remoteAsOrg
| top n by bytes desc`,
  },
  {
    name: 'TrafficByLocation',
    params: `${RANGE}, n:int = 500`,
    doc: 'Traffic with public remote addresses by remote location (latitude/longitude rounded to 0.1°) for lat/lon maps.',
    trafficAnalytics: 'geo map',
    body: `Flows(start, end)
| where remotePublic and isnotnull(remoteLat) and isnotnull(remoteLon)
| summarize bytes = sum(bytes), tuples = sum(tuples), flowsDenied = sum(flowsDenied),
    malicious = sumif(tuples, flowType == "MaliciousFlow"), remoteIps = dcount(remoteIp)
    by lat = round(remoteLat, 1), lon = round(remoteLon, 1), country = remoteCountry, city = remoteCity
| top n by bytes desc`,
  },
  {
    name: 'FlowTypeBreakdown',
    params: RANGE,
    doc: "Traffic by Traffic Analytics' flow type (IntraVNet, InterVNet, S2S, P2S, AzurePublic, ExternalPublic, MaliciousFlow, UnknownPrivate, Unknown).",
    trafficAnalytics: 'flow types',
    body: `Flows(start, end)
| extend flowType = iff(isempty(flowType), "Unclassified", flowType)
| summarize bytes = sum(bytes), tuples = sum(tuples), flowsStarted = sum(flowsStarted), flowsDenied = sum(flowsDenied),
    remoteIps = dcount(remoteIp)
    by flowType
| order by bytes desc`,
  },
  {
    name: 'TopPorts',
    params: `${RANGE}, n:int = 20`,
    doc: 'Destination ports by flow tuples, with protocol, L7 protocol and the hosts involved.',
    trafficAnalytics: 'top application ports',
    body: `Flows(start, end)
| summarize tuples = sum(tuples), bytes = sum(bytes), flowsStarted = sum(flowsStarted), flowsDenied = sum(flowsDenied),
    hosts = dcount(localIp), sources = dcount(srcIp)
    by dstPort, protocol, l7Protocol
| top n by tuples desc`,
  },
  {
    name: 'TopL7Protocols',
    params: `${RANGE}, n:int = 20`,
    doc: 'L7 protocols (derived from the destination port) by bytes.',
    trafficAnalytics: 'top L7 protocols',
    body: `Flows(start, end)
| extend l7Protocol = iff(isempty(l7Protocol), "unknown", l7Protocol)
| summarize bytes = sum(bytes), tuples = sum(tuples), flowsDenied = sum(flowsDenied), ports = dcount(dstPort),
    hosts = dcount(localIp)
    by l7Protocol
| top n by bytes desc`,
  },
  {
    name: 'NewExternalIps',
    params: 'recent:timespan = 15m, baseline:timespan = 7d, asOf:datetime = datetime(null)',
    doc: 'Public remote addresses seen in the last `recent` (ending at asOf, default now) and not in the `baseline` before it.',
    body: `let t1 = iff(isnull(asOf), now(), asOf);
let t0 = t1 - recent;
let seenBefore = union
    (Flows(t0 - baseline, bin(t0, 1h)) | where remotePublic | distinct remoteIp),
    (Flows(bin(t0, 1h), t0) | where remotePublic | distinct remoteIp);
Flows(t0, t1)
| where remotePublic
| summarize firstSeen = min(windowStart), lastSeen = max(windowStart), tuples = sum(tuples), bytes = sum(bytes),
    flowsDenied = sum(flowsDenied), localIps = dcount(localIp), ports = make_set(dstPort, 10),
    country = take_any(remoteCountry), asOrg = take_any(remoteAsOrg), flowType = take_any(flowType)
    by remoteIp
| join kind=leftanti seenBefore on remoteIp
| order by firstSeen desc`,
  },
  {
    name: 'PortScanSuspects',
    params: `${RANGE}, minPorts:long = 20`,
    doc: 'Sources that reached at least `minPorts` distinct destination ports, with targets and the denied share.',
    body: `Flows(start, end)
| summarize ports = dcount(dstPort), targets = dcount(dstIp), tuples = sum(tuples), flowsDenied = sum(flowsDenied),
    firstSeen = min(windowStart), lastSeen = max(windowStart), country = take_any(srcCountry),
    asOrg = take_any(srcAsOrg), flowType = take_any(flowType)
    by srcIp
| where ports >= minPorts
| extend deniedShare = round(todouble(flowsDenied) / tuples, 3)
| order by ports desc`,
  },
  {
    name: 'MaliciousFlows',
    params: RANGE,
    doc: 'Flows with an address on the threat labels (flow type MaliciousFlow), allowed ones first.',
    trafficAnalytics: 'malicious flows',
    body: `Flows(start, end)
| where flowType == "MaliciousFlow"
| summarize tuples = sum(tuples), allowedTuples = sumif(tuples, decision == "Allow"), bytes = sum(bytes),
    flowsDenied = sum(flowsDenied), localIps = dcount(localIp), ports = make_set(dstPort, 20),
    country = take_any(remoteCountry), asOrg = take_any(remoteAsOrg), label = take_any(remoteLabel),
    lastSeen = max(windowStart)
    by remoteIp, direction
| order by allowedTuples desc, tuples desc`,
  },
  {
    name: 'InternetExposedPorts',
    params: RANGE,
    doc: 'Local hosts and ports that accepted inbound flows from public addresses.',
    trafficAnalytics: 'open ports / VMs receiving internet traffic',
    body: `Flows(start, end)
| where inbound and decision == "Allow" and remotePublic
| summarize tuples = sum(tuples), bytes = sum(bytes), sources = dcount(srcIp), countries = dcount(remoteCountry),
    lastSeen = max(windowStart)
    by localIp, dstPort, protocol, l7Protocol
| order by sources desc`,
  },
  {
    name: 'RuleHits',
    params: RANGE,
    doc: 'Hit counts per NSG / security admin rule, direction and decision, as each flow log logged them (every row, countOnce = false: a flow both NSGs of a NIC evaluated is a hit of a rule of each).',
    trafficAnalytics: 'NSG rule hits',
    body: `Flows(start, end, false)
| summarize tuples = sum(tuples), flowsStarted = sum(flowsStarted), flowsDenied = sum(flowsDenied), bytes = sum(bytes),
    sources = dcount(srcIp), lastHit = max(windowStart)
    by resourceName, rule, direction, decision, resourceId
| order by tuples desc`,
  },
  {
    name: 'ResourceTotals',
    params: RANGE,
    doc: 'Totals per NSG (NSG flow logs) or VNet / subnet / NIC target (VNet flow logs), as each flow log logged them (every row, countOnce = false: compare an NSG with the VNet log replacing it); their sum double counts what DoubleLoggedNics shows.',
    trafficAnalytics: 'NSG / VNet hot spots',
    body: `Flows(start, end, false)
| summarize bytes = sum(bytes), packets = sum(packets), tuples = sum(tuples), flowsStarted = sum(flowsStarted),
    flowsDenied = sum(flowsDenied), nics = dcount(macAddress), localIps = dcount(localIp),
    remoteIps = dcount(remoteIp), rules = dcount(rule), lastWindow = max(windowStart)
    by logType, resourceName, resourceId
| order by bytes desc`,
  },
  {
    name: 'UnencryptedFlows',
    params: RANGE,
    doc: 'VNet flow logs: flows not encrypted by virtual network encryption, per resource and NIC, with the encrypted ones beside them and the share unencrypted (NSG flow logs carry no encryption state).',
    trafficAnalytics: 'VNet encryption',
    body: `Flows(start, end)
| where logType == "vnet"
| summarize unencryptedFlows = sum(flowsUnencrypted), encryptedFlows = sum(flowsEncrypted),
    unencryptedBytes = sumif(bytes, flowsUnencrypted > 0), remoteIps = dcountif(remoteIp, flowsUnencrypted > 0),
    lastWindow = max(windowStart)
    by resourceName, resourceId, macAddress
| where unencryptedFlows > 0
| extend unencryptedShare = round(100.0 * unencryptedFlows / (unencryptedFlows + encryptedFlows), 1)
| order by unencryptedFlows desc`,
  },
  {
    name: 'DoubleLoggedNics',
    params: RANGE,
    doc: 'Where the count-once rule of Flows() acted (docs/double-logging.md): per NIC (macAddress) and hour, the log types and sources (flow log target and ACL) that logged it, tuples and bytes as logged (every row) and as counted (countOnce), and what the rule left out. Lists NIC-hours with more than one source.',
    body: `let logged = Flows(start, end, false)
    | summarize loggedTuples = sum(tuples), loggedBytes = sum(bytes), logTypes = make_set(logType),
        sources = dcount(strcat(resourceId, "|", aclId)), resources = make_set(resourceId, 10)
        by macAddress, hour = bin(windowStart, 1h);
let counted = Flows(start, end, true)
    | summarize countedTuples = sum(tuples), countedBytes = sum(bytes), countedLogType = take_any(logType)
        by macAddress, hour = bin(windowStart, 1h);
logged
| where sources > 1
| join kind=leftouter counted on macAddress, hour
| project hour, macAddress, logTypes, countedLogType, sources, resources, loggedTuples,
    countedTuples = coalesce(countedTuples, 0), loggedBytes, countedBytes = coalesce(countedBytes, 0)
| extend droppedTuples = loggedTuples - countedTuples, droppedBytes = loggedBytes - countedBytes
| order by droppedBytes desc, droppedTuples desc`,
  },
  {
    name: 'BlobFreshness',
    params: 'lookback:timespan = 3h',
    doc: `Per flow-log blob (its 16-hex blob id): newest record time, its age now, records and summaries seen, the resource and NIC (reads the dedup view directly, per flow group, then joins ${ADX.groupsDedupView} for the blob id; rows whose group line has not arrived count under an empty blob id).`,
    body: `${ADX.dedupView}
| where windowStart > ago(lookback)
| summarize newestRecord = max(recordTime), newestWindow = max(windowStart), recordOffsets = hll(recordOffset),
    summaries = count()
    by group
| ${groupsLookup(['blob', 'logType', 'resourceId', 'macAddress'])}
| summarize newestRecord = max(newestRecord), newestWindow = max(newestWindow),
    records = dcount_hll(hll_merge(recordOffsets)), summaries = sum(summaries), logType = take_any(logType),
    resourceId = take_any(resourceId), macAddress = take_any(macAddress)
    by blob
| extend ageMinutes = round((now() - newestRecord) / 1m, 1)
| order by newestRecord desc`,
  },
  {
    name: 'NicHourCompleteness',
    params: `${RANGE}, grace:timespan = 15m, asOf:datetime = datetime(null)`,
    doc: `Per NIC (macAddress, resourceId, from each row's flow group in ${ADX.groupsDedupView}) and UTC hour in [start, end), from the rows alone: minutes of the hour with rows, records, newest record time, last arrival (ingestion_time() of the first copy of each row) and a state: open (the hour plus grace is not over at asOf, default now), missing (no rows, though the NIC has rows in other hours of the range), lagging (rows for it arrived within the last grace), complete (rows in all 60 minutes, nothing arriving), partial (minutes without rows: quiet or lost, rows cannot tell; GET /api/hours can). Windows are bounded to [start - 1h, end) to prune; a tuple older than that in a record is not counted.`,
    body: `let t = iff(isnull(asOf), now(), asOf);
let h0 = bin(start, 1h);
let nicHours = ${ADX.dedupView}
    | where windowStart >= h0 - 1h and windowStart < end and recordTime >= h0 and recordTime < end
    | project group, recordOffset, recordTime, arrival = ingestion_time()
    | ${groupsLookup(['blob', 'logType', 'resourceId', 'macAddress'])}
    | summarize minutes = array_length(make_set(bin(recordTime, 1m), 120)),
        records = dcount(strcat(blob, ":", recordOffset)), newestRecord = max(recordTime),
        lastArrival = max(arrival), blobs = make_set(blob, 10), logType = take_any(logType)
        by macAddress, resourceId, hour = bin(recordTime, 1h);
let nics = nicHours | distinct macAddress, resourceId | extend joinKey = 1;
let hours = range hour from h0 to end - 1s step 1h | extend joinKey = 1;
nics
| join kind=inner hours on joinKey
| project macAddress, resourceId, hour
| join kind=leftouter nicHours on macAddress, resourceId, hour
| project hour, macAddress, resourceId, logType, minutes = coalesce(minutes, 0), records = coalesce(records, 0),
    newestRecord, lastArrival, blobs
| extend state = case(
    t < hour + 1h + grace, "open",
    minutes == 0, "missing",
    lastArrival > t - grace, "lagging",
    minutes >= 60, "complete",
    "partial")
| extend newestRecordBeforeEndMinutes = round((hour + 1h - newestRecord) / 1m, 1)
| order by hour asc, macAddress asc`,
  },
];

export const ALL_FUNCTIONS: readonly KqlFunction[] = [...BASE_FUNCTIONS, ...ANALYSIS_FUNCTIONS];

/** The `.create-or-alter function` command for one function. */
export function renderFunction(fn: KqlFunction, folder: string): string {
  return command([
    `.create-or-alter function with (folder = ${kqlString(folder)}, docstring = ${kqlString(fn.doc)})`,
    `${kqlName(fn.name)}(${fn.params})`,
    '{',
    indent(fn.body, 4),
    '}',
  ]);
}
