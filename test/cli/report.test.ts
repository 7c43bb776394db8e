import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { buildReport } from '../../cli/commands/report';
import { simulateToFolder } from '../../cli/commands/simulate';
import { collectInputs } from '../../cli/files';
import { processFiles } from '../../cli/process-files';
import { fileSink } from '../../cli/sinks';
import { computePanels, RANGE_PRESETS, type RangePreset, resolveRange } from '../../domain/analysis/panels';
import { readSummaryLines } from '../../domain/summary/serialize';

interface Embedded {
  readonly extent: { from: number; to: number } | null;
  readonly resources: string[];
  readonly sets: Record<string, Record<string, unknown>>;
}

/** The JSON of a <script type="application/json"> element, read the way the browser ends the element. */
function scriptJson<T>(html: string, id: string): T {
  const open = `<script id="${id}" type="application/json">`;
  const from = html.indexOf(open);
  assert.ok(from >= 0, `no ${id} element`);
  const start = from + open.length;
  return JSON.parse(html.slice(start, html.indexOf('</script', start))) as T;
}

/** What `flowlog process LOGS --out FILE --no-enrich` writes. */
async function writeSummaries(logs: string, path: string): Promise<void> {
  const sink = await fileSink(path);
  try {
    await processFiles(await collectInputs([logs]), {
      inputs: [logs],
      out: sink,
      windowSeconds: 60,
      enricher: null,
      onProblem: (p) => assert.fail(p.message),
    });
  } finally {
    await sink.close();
  }
}

const build = (inputs: string[]) => {
  const problems: string[] = [];
  return buildReport(inputs, {
    windowSeconds: 60,
    enricher: null,
    title: 't',
    onProblem: (t) => problems.push(t),
  }).then((r) => ({ ...r, problems }));
};

describe('flowlog report', () => {
  test('embeds the panels of every range and resource, not the rows; logs and their summary stream give the same page data', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'flowlog-report-cli-'));
    try {
      const logs = join(dir, 'logs');
      await simulateToFolder(logs, {
        nsgs: 2,
        vnets: 1,
        hours: 2,
        flowsPerMinute: 15,
        seed: 4,
        start: new Date('2026-11-30T01:00:00Z'),
        minutesPerHour: 15,
      });
      const fromLogs = await build([logs]);
      assert.deepEqual(fromLogs.problems, []);
      const data = scriptJson<Embedded>(fromLogs.html, 'flowlog-panels');
      assert.equal(data.resources.length, 3);
      assert.deepEqual(Object.keys(data.sets).sort(), Object.keys(RANGE_PRESETS).sort());
      assert.doesNotMatch(fromLogs.html, /"id":"/, 'no summary rows in the page');

      // `flowlog process --out` of the same logs: a summary stream starting with a group line.
      const ndjson = join(dir, 'summaries.ndjson');
      await writeSummaries(logs, ndjson);
      const text = readFileSync(ndjson, 'utf8');
      assert.ok(text.startsWith('{"group":"'));
      const fromStream = await build([ndjson]);
      assert.deepEqual(fromStream.problems, []);
      assert.equal(fromStream.result.rows, fromLogs.result.rows);
      assert.deepEqual(scriptJson<Embedded>(fromStream.html, 'flowlog-panels'), data);

      // Each embedded set is what the live server computes for that query over the same rows.
      const rows = [...readSummaryLines(text)];
      const now = data.extent?.to ?? 0;
      for (const preset of ['15m', 'all'] as RangePreset[]) {
        for (const resource of ['', data.resources[1]!]) {
          const range = resolveRange(preset, data.extent, now);
          const expected = computePanels(rows, { ...range, resourceId: resource || null, now });
          assert.deepEqual(data.sets[preset]?.[resource], JSON.parse(JSON.stringify(expected)));
        }
      }

      // The stream twice (rows read off the hub are at least once): duplicates dropped, same panels.
      const copy = join(dir, 'again.ndjson');
      writeFileSync(copy, text);
      const twice = await build([ndjson, copy]);
      assert.equal(twice.result.rows, fromLogs.result.rows);
      assert.equal(twice.result.duplicates, fromLogs.result.rows);
      assert.deepEqual(scriptJson<Embedded>(twice.html, 'flowlog-panels'), data);
      assert.deepEqual(scriptJson<{ summaries: number; duplicates: number }>(twice.html, 'flowlog-meta'), {
        ...scriptJson<Record<string, unknown>>(twice.html, 'flowlog-meta'),
        summaries: fromLogs.result.rows,
        duplicates: fromLogs.result.rows,
      });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('a rule name with </script> and <!-- cannot end or break the embedded data', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'flowlog-report-cli-'));
    try {
      const logs = join(dir, 'logs');
      await simulateToFolder(logs, {
        nsgs: 1,
        vnets: 0,
        hours: 1,
        flowsPerMinute: 10,
        seed: 2,
        start: new Date('2026-11-30T01:00:00Z'),
        minutesPerHour: 5,
      });
      const ndjson = join(dir, 'summaries.ndjson');
      await writeSummaries(logs, ndjson);
      const hostile = 'r</script><!--x';
      writeFileSync(
        ndjson,
        readFileSync(ndjson, 'utf8').replace(/"rule":"[^"]*"/g, `"rule":${JSON.stringify(hostile)}`),
      );
      const { html, problems } = await build([ndjson]);
      assert.deepEqual(problems, []);
      assert.doesNotMatch(html.slice(html.indexOf('<script id="flowlog-panels"')), /<!--x/);
      const data = scriptJson<Embedded>(html, 'flowlog-panels');
      const all = data.sets['all']?.[''] as { deniedBySource: { rules: string[] }[] } | undefined;
      const denied = all?.deniedBySource ?? [];
      assert.ok(denied.length > 0);
      assert.ok(denied.every((d) => d.rules.includes(hostile)));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
