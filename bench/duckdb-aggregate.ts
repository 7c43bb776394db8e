/**
 * The yardstick: the same aggregation as `flowlog process`, in DuckDB SQL, as an analyst would write it
 * (read_json + unnest + string_split + GROUP BY, NDJSON out). Grouped per record (file + record time) and
 * window, like flowlog's summaries, so the row counts must match.
 *
 * Usage: node dist/bench/duckdb-aggregate.js <folder> <out.ndjson>
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';

function sql(folder: string, out: string): string {
  const opts = 'maximum_object_size=1073741824, hive_partitioning=false, filename=true';
  const nsg = join(folder, 'insights-logs-networksecuritygroupflowevent', '**', 'PT1H.json');
  const vnet = join(folder, 'insights-logs-flowlogflowevent', '**', 'PT1H.json');
  return `
COPY (
  WITH tuples AS (
    SELECT j.filename AS blob, rec.time AS recordTime, 'nsg' AS logType, rec.resourceId AS resourceId,
           NULL AS aclId, upper(m.mac) AS macAddress, f.rule AS rule, string_split(t, ',') AS p, 'nsg' AS kind
    FROM read_json('${nsg}', ${opts}) j, unnest(j.records) AS u1(rec), unnest(rec.properties.flows) AS u2(f),
         unnest(f.flows) AS u3(m), unnest(m.flowTuples) AS u4(t)
    UNION ALL
    SELECT j.filename, rec.time, 'vnet', rec.targetResourceID, fl.aclID, upper(rec.macAddress), g.rule,
           string_split(t, ','), 'vnet'
    FROM read_json('${vnet}', ${opts}) j, unnest(j.records) AS u1(rec), unnest(rec.flowRecords.flows) AS u2(fl),
         unnest(fl.flowGroups) AS u3(g), unnest(g.flowTuples) AS u4(t)
  ), typed AS (
    SELECT blob, recordTime, logType, resourceId, aclId, macAddress, rule,
           CASE WHEN length(p[1]) > 11 THEN CAST(p[1] AS BIGINT) // 1000 ELSE CAST(p[1] AS BIGINT) END AS ts,
           p[2] AS srcIp, p[3] AS dstIp, CAST(p[5] AS INTEGER) AS dstPort,
           CASE WHEN p[6] IN ('T', '6') THEN 'TCP' WHEN p[6] IN ('U', '17') THEN 'UDP' ELSE p[6] END AS protocol,
           CASE p[7] WHEN 'I' THEN 'Inbound' ELSE 'Outbound' END AS direction,
           CASE WHEN (kind = 'nsg' AND p[8] = 'D') OR (kind = 'vnet' AND p[8] = 'D') THEN 'Deny' ELSE 'Allow' END AS decision,
           CASE WHEN kind = 'nsg' THEN p[9] ELSE p[8] END AS state,
           COALESCE(TRY_CAST(NULLIF(p[10], '') AS BIGINT), 0) AS pkts1, COALESCE(TRY_CAST(NULLIF(p[11], '') AS BIGINT), 0) AS bytes1,
           COALESCE(TRY_CAST(NULLIF(p[12], '') AS BIGINT), 0) AS pkts2, COALESCE(TRY_CAST(NULLIF(p[13], '') AS BIGINT), 0) AS bytes2
    FROM tuples
  )
  SELECT blob, recordTime, strftime(to_timestamp(ts - ts % 60), '%Y-%m-%dT%H:%M:%SZ') AS windowStart, 60 AS windowSeconds,
         logType, resourceId, aclId, macAddress, rule, direction, decision, protocol, srcIp, dstIp, dstPort,
         count(*) AS tuples, count(*) FILTER (WHERE state = 'B') AS flowsStarted,
         count(*) FILTER (WHERE state = 'E') AS flowsEnded, count(*) FILTER (WHERE decision = 'Deny') AS flowsDenied,
         sum(pkts1) AS packetsSrcToDst, sum(bytes1) AS bytesSrcToDst, sum(pkts2) AS packetsDstToSrc, sum(bytes2) AS bytesDstToSrc
  FROM typed
  GROUP BY ALL
) TO '${out}' (FORMAT JSON)`;
}

async function main(): Promise<void> {
  const [folder, out] = process.argv.slice(2);
  if (!folder || !out) throw new Error('usage: duckdb-aggregate <folder> <out.ndjson>');
  const instance = await DuckDBInstance.create(':memory:');
  const connection = await instance.connect();
  await connection.run(sql(folder, out));
  connection.closeSync();
  const report = process.env.FLOWLOG_RESOURCE_REPORT;
  if (report) writeFileSync(report, JSON.stringify(process.resourceUsage()));
}

main().catch((error: unknown) => {
  process.stderr.write(`duckdb-aggregate: ${String(error)}\n`);
  process.exitCode = 1;
});
