/**
 * .ci/run's dependency audit: `npm audit --omit=dev --audit-level=high` runs before the tests, a high or
 * critical advisory in a production dependency fails CI, and an audit endpoint that gives no report (the
 * offline mirror here answers 405) is reported as "not checked" without failing. The verdict script is
 * taken from .ci/run itself and fed the JSON npm prints in each case.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';

const root = join(__dirname, '..', '..');
const run = readFileSync(join(root, '.ci', 'run'), 'utf8');

function verdictScript(): string {
  const m =
    /# audit-verdict:begin\nread -r -d '' AUDIT_VERDICT <<'JS' \|\| true\n([\s\S]*?)\nJS\n# audit-verdict:end/.exec(
      run,
    );
  assert.ok(m, '.ci/run holds the audit verdict between audit-verdict markers');
  return m[1]!;
}

function verdict(json: unknown, rc: number): { status: number | null; out: string } {
  const input = typeof json === 'string' ? json : JSON.stringify(json);
  const r = spawnSync(process.execPath, ['-e', verdictScript(), String(rc)], { input, encoding: 'utf8' });
  return { status: r.status, out: `${r.stdout}${r.stderr}` };
}

const report = (vulnerabilities: Record<string, unknown>, counts: Record<string, number>) => ({
  auditReportVersion: 2,
  vulnerabilities,
  metadata: { vulnerabilities: { info: 0, low: 0, moderate: 0, high: 0, critical: 0, ...counts } },
});

describe('.ci/run dependency audit', () => {
  it('runs npm audit on production dependencies at level high, after npm ci and before the tests', () => {
    const ci = run.indexOf('npm ci --no-audit --no-fund');
    const audit = run.indexOf('npm audit --omit=dev --audit-level=high --json');
    const tests = run.lastIndexOf('npm test');
    assert.ok(ci >= 0 && audit > ci && tests > audit, 'order: npm ci, npm audit, npm test');
    assert.match(run, /printf '%s' "\$audit_json" \| node -e "\$AUDIT_VERDICT" "\$audit_rc"\n/);
    assert.match(run, /^set -euo pipefail$/m);
  });

  it('fails on a high or critical advisory and names the package and the fix', () => {
    const { status, out } = verdict(
      report(
        {
          'fast-xml-parser': {
            name: 'fast-xml-parser',
            severity: 'high',
            range: '<4.4.1',
            via: [{ title: 'ReDoS in currency parsing', url: 'https://github.com/advisories/GHSA-xxxx' }],
            fixAvailable: { name: '@azure/storage-blob', version: '12.99.0' },
          },
          minimist: { name: 'minimist', severity: 'moderate', range: '<1.2.6', via: [], fixAvailable: true },
        },
        { high: 1, moderate: 1 },
      ),
      1,
    );
    assert.equal(status, 1);
    assert.match(
      out,
      /high fast-xml-parser <4\.4\.1: ReDoS in currency parsing https:\/\/github\.com\/advisories\/GHSA-xxxx/,
    );
    assert.match(out, /upgrade @azure\/storage-blob to 12\.99\.0/);
    assert.doesNotMatch(out, /minimist/, 'moderate advisories do not fail CI');
  });

  it('passes with only lower advisories, and says how many', () => {
    const { status, out } = verdict(
      report(
        { minimist: { name: 'minimist', severity: 'moderate', range: '<1.2.6', via: [] } },
        { moderate: 1 },
      ),
      0,
    );
    assert.equal(status, 0);
    assert.match(out, /no high or critical advisory in production dependencies \(moderate 1, low 0\)/);
  });

  it('an audit endpoint that gives no report is reported as not checked, without failing', () => {
    const mirror = {
      message: '405 Method Not Allowed - POST https://registry.npmjs.org/-/npm/v1/security/advisories/bulk',
      statusCode: 405,
      error: { summary: '', detail: '' },
    };
    for (const [answer, why] of [
      [mirror, /405 Method Not Allowed/],
      [{ error: { code: 'ENOTFOUND', summary: 'getaddrinfo ENOTFOUND registry.npmjs.org' } }, /ENOTFOUND/],
      ['', /no report/],
    ] as const) {
      const { status, out } = verdict(answer, 1);
      assert.equal(status, 0, out);
      assert.match(out, /SKIPPED.*NOT checked/);
      assert.match(out, why);
    }
  });
});
