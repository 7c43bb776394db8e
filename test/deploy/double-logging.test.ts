/**
 * The count-once rule in the committed Flows() (deploy/adx/06-base-function.kql) is the rule of
 * domain/analysis/double-logging.ts, which test/domain/double-logging.test.ts runs over generated rows.
 * There is no ADX here to run the KQL, so this checks its structure step by step against the TypeScript
 * rule's constants, analyzes Flows() with the Kusto language service (both modes return the same columns,
 * no helper column leaks) and shows that each check fails on a KQL text that breaks the rule.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { before, describe, it } from 'node:test';
import { ADX_DIR, generateDeployFiles } from '../../deploy/generate';
import { ALL_FUNCTIONS } from '../../deploy/generate/functions';
import { splitScript } from '../../deploy/generate/kql';
import { ADX } from '../../deploy/generate/names';
import {
  FLOW_KEY,
  MAX_LONG,
  PREFERRED_LOG_TYPE,
  RANK_HEX_DIGITS,
  SOURCE_SEPARATOR,
  sourceOf,
  sourceRank,
} from '../../domain/analysis/double-logging';
import { analyze, kusto, ScriptSchema } from './kusto';

const root = join(__dirname, '..', '..');
const committed = readFileSync(join(root, ADX_DIR, '06-base-function.kql'), 'utf8');

const esc = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
const q = (s: string) => JSON.stringify(s);

/** What in a Flows() command departs from the TypeScript rule; empty when it implements it. */
function countOnceProblems(text: string): string[] {
  const problems: string[] = [];
  const need = (what: string, re: RegExp) => {
    if (!re.test(text)) problems.push(what);
  };
  const vnet = esc(q(PREFERRED_LOG_TYPE));
  const sep = esc(q(SOURCE_SEPARATOR));
  need('parameter countOnce:bool = true', /\bFlows\(start:datetime, end:datetime, countOnce:bool = true\)/);
  need(
    'step 1: the NIC-hours with VNet rows',
    new RegExp(
      `let vnetNicHours = rows\\s*\\| where countOnce and logType == ${vnet}\\s*\\| distinct macAddress, nicHour = bin\\(windowStart, 1h\\);`,
    ),
  );
  need(
    'step 1: VNet rows all kept, NSG rows only outside those NIC-hours',
    new RegExp(
      `let oneLogType = union\\s*\\(rows \\| where countOnce and logType == ${vnet}\\),\\s*\\(rows\\s*\\| where countOnce and logType != ${vnet}\\s*\\| extend nicHour = bin\\(windowStart, 1h\\)\\s*\\| join kind=leftanti vnetNicHours on macAddress, nicHour\\s*\\| project-away nicHour\\);`,
    ),
  );
  const key = /flowKey = strcat_delim\(([^)]*)\)/.exec(text);
  const keyArgs = key?.[1]?.split(',').map((a) => a.trim());
  if (keyArgs === undefined || keyArgs.join(',') !== [q(SOURCE_SEPARATOR), ...FLOW_KEY].join(','))
    problems.push(`step 2: the flow is ${FLOW_KEY.join(', ')} (got ${keyArgs?.join(', ')})`);
  need('step 2: a source is resourceId|aclId', new RegExp(`source = strcat\\(resourceId, ${sep}, aclId\\);`));
  need(
    'step 2: allowed tuples and bytes per flow and source, Deny rows included (as 0)',
    /summarize allowed = sumif\(tuples, decision == "Allow"\),\s*allowedBytes = sumif\(bytesSrcToDst \+ bytesDstToSrc, decision == "Allow"\)\s*by flowKey, source/,
  );
  need(
    'step 2: the source with the smallest rank per flow',
    new RegExp(
      `summarize pick = min\\(strcat\\(tohex\\(allowed, ${RANK_HEX_DIGITS}\\), tohex\\(${MAX_LONG} - allowedBytes, ${RANK_HEX_DIGITS}\\), source\\)\\)\\s*by flowKey\\s*\\| project flowKey, source = substring\\(pick, ${2 * RANK_HEX_DIGITS}\\);`,
    ),
  );
  need(
    'step 2: Deny rows of every source, Allow rows of the picked source',
    /let once = union\s*\(keyed \| where decision != "Allow"\),\s*\(keyed \| where decision == "Allow" \| join kind=leftsemi allowSource on flowKey, source\)/,
  );
  need('countOnce = false: every row', /union \(rows \| where not\(countOnce\)\), once\n/);
  return problems;
}

describe('Flows() implements the count-once rule of domain/analysis/double-logging.ts', () => {
  it('the committed Flows() has every step of the rule', () => {
    assert.deepEqual(countOnceProblems(committed), []);
  });

  it('the KQL rank text is the TypeScript rank text: same layout, same source name', () => {
    const source = sourceOf({ resourceId: '/SUBSCRIPTIONS/X/NSG-A', aclId: null });
    assert.equal(source, `/SUBSCRIPTIONS/X/NSG-A${SOURCE_SEPARATOR}`, "a null aclId is Kusto's empty string");
    const rank = sourceRank(7, 1234, source);
    // substring(pick, 2 * RANK_HEX_DIGITS) gives the source back, as Flows() reads it.
    assert.equal(rank.slice(2 * RANK_HEX_DIGITS), source);
    assert.equal(rank.slice(0, RANK_HEX_DIGITS), (7).toString(16).padStart(RANK_HEX_DIGITS, '0'));
    assert.equal(rank.slice(RANK_HEX_DIGITS, 2 * RANK_HEX_DIGITS), (MAX_LONG - 1234n).toString(16));
  });

  describe('each check fails on a Flows() that breaks the rule', () => {
    const broken: [string, (t: string) => string][] = [
      ['VNet rows dropped too (no union)', (t) => t.replace('join kind=leftanti', 'join kind=leftsemi')],
      ['NIC-hours by minute', (t) => t.replace('nicHour = bin(windowStart, 1h);', 'nicHour = windowStart;')],
      ['NSG preferred', (t) => t.replaceAll('logType == "vnet"', 'logType == "nsg"')],
      ['flows merged across NICs', (t) => t.replace('strcat_delim("|", macAddress, ', 'strcat_delim("|", ')],
      [
        'the rule switched off by default',
        (t) => t.replace('countOnce:bool = true', 'countOnce:bool = false'),
      ],
      ['the most allowed source', (t) => t.replace('pick = min(', 'pick = max(')],
      ['Deny rows of one source only', (t) => t.replace('(keyed | where decision != "Allow"),', '')],
      ['a shorter rank', (t) => t.replace('substring(pick, 32)', 'substring(pick, 16)')],
    ];
    for (const [what, mutate] of broken) {
      it(what, () => {
        const text = mutate(committed);
        assert.notEqual(text, committed, 'the mutation applies');
        assert.ok(countOnceProblems(text).length > 0);
      });
    }
  });

  describe('analyzed with the Kusto language service', () => {
    let schema: ScriptSchema;
    before(() => {
      const commands = generateDeployFiles()
        .filter((f) => f.path.startsWith(`${ADX_DIR}/`))
        .sort((a, b) => (a.path < b.path ? -1 : 1))
        .flatMap((f) => splitScript(f.content));
      schema = ScriptSchema.of(ADX.database, commands);
    });

    const columnsOf = (query: string): string => {
      const a = analyze(query, schema.globals);
      assert.deepEqual(a.errors, [], query);
      assert.ok(a.code.ResultType);
      return kusto().Symbols.SchemaDisplay.GetText(a.code.ResultType);
    };
    const T = 'datetime(2025-03-01T00:00:00Z), datetime(2025-03-01T06:00:00Z)';

    it('both modes return the same columns and no helper column of the rule', () => {
      const once = columnsOf(`Flows(${T})`);
      assert.equal(columnsOf(`Flows(${T}, true)`), once);
      assert.equal(columnsOf(`Flows(${T}, false)`), once);
      for (const helper of ['flowKey', 'source', 'nicHour', 'pick', 'allowed', 'allowedBytes'])
        assert.ok(!new RegExp(`\\b${helper}:`).test(once), `${helper} leaks out of Flows(): ${once}`);
      assert.match(once, /\bresourceId: string\b.*\bbytes: long\b.*\bremotePublic: bool\b/);
    });
  });

  it('the functions that read every row (countOnce = false) are the per-log views, and say so', () => {
    const perLog = ALL_FUNCTIONS.filter((f) => /\bFlows\([^)]*,\s*false\)/.test(f.body)).map((f) => f.name);
    assert.deepEqual(perLog.sort(), ['DoubleLoggedNics', 'ResourceTotals', 'RuleHits']);
    for (const name of perLog) {
      const fn = ALL_FUNCTIONS.find((f) => f.name === name);
      assert.match(fn?.doc ?? '', /countOnce|count-once/, `${name}'s doc says why it reads every row`);
    }
    // Every other caller keeps the default: no call passes a third argument but false/true above.
    for (const fn of ALL_FUNCTIONS)
      for (const m of fn.body.matchAll(/\bFlows\(([^()]*(?:\([^()]*\)[^()]*)*)\)/g)) {
        const args = m[1]!.split(/,(?![^(]*\))/);
        if (args.length > 2) assert.match(args[2]!.trim(), /^(true|false)$/, `${fn.name}: ${m[0]}`);
      }
  });
});
