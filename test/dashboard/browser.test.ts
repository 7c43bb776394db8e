/**
 * The dashboard in a real browser (headless Chromium through puppeteer-core): the live page fed by a live
 * session (offline stack, simulated NICs committing blocks) and the page `flowlog report` writes. Every
 * panel must render rows, the live page must update when new blocks reach the hub, and both pages are
 * saved as screenshots (see SHOTS; the committed ones in docs/screenshots/ are what the README shows).
 *
 * Needs a Chromium: $CHROMIUM_PATH, or chromium / chromium-browser / google-chrome on the PATH (.ci/run
 * installs Debian's chromium). Without one the tests are skipped, saying so.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Browser, Page } from 'puppeteer-core' with { 'resolution-mode': 'import' };
import { buildReport } from '../../cli/commands/report';
import { simulateToFolder } from '../../cli/commands/simulate';
import { loadEnrichment } from '../../cli/enrichment';
import { LiveDashboard } from '../../local/dashboard/live-feed';
import { PAGE_PANELS } from '../../local/dashboard/page';
import { LiveSession } from '../../local/live/session';
import { SimulatedTraffic } from '../../local/live/traffic';

const ROOT = join(__dirname, '..', '..');
/**
 * Every run saves its screenshots in .tmp/screenshots (not tracked: a run does not change the checkout);
 * `FLOWLOG_UPDATE_SCREENSHOTS=1 npm test` saves them over the committed ones in docs/screenshots, which
 * the README and docs/dashboard.md show.
 */
const SHOTS =
  process.env['FLOWLOG_UPDATE_SCREENSHOTS'] === '1'
    ? join(ROOT, 'docs', 'screenshots')
    : join(ROOT, '.tmp', 'screenshots');
const SERVICE_TAGS = join(ROOT, 'test', 'fixtures', 'enrichment', 'ServiceTags_Public_20261123.json');

function findChromium(): string | undefined {
  const fromEnv = process.env.CHROMIUM_PATH ?? process.env.PUPPETEER_EXECUTABLE_PATH;
  if (fromEnv && existsSync(fromEnv)) return fromEnv;
  for (const name of ['chromium', 'chromium-browser', 'google-chrome-stable', 'google-chrome']) {
    try {
      const path = execFileSync('sh', ['-c', `command -v ${name}`], { encoding: 'utf8' }).trim();
      if (path) return path;
    } catch {
      // not this one
    }
  }
  return undefined;
}

const chromium = findChromium();
const skip = chromium === undefined ? 'no Chromium found (set CHROMIUM_PATH or install chromium)' : false;

/** What the page callbacks read of an element (the tests are compiled without the DOM types). */
type El = {
  dataset: Record<string, string | undefined>;
  textContent: string | null;
  value: string;
  querySelector(selector: string): unknown;
};

interface PanelState {
  key: string;
  rows: number;
  canvas: boolean;
  text: string;
}

/** Each panel's row count (data-rows), whether a chart drew a canvas, and the first bit of its text. */
function panelStates(page: Page): Promise<PanelState[]> {
  return page.$$eval('section.panel', (sections) =>
    sections.map((s) => ({
      key: (s as unknown as El).dataset.panel ?? '',
      rows: Number((s as unknown as El).dataset.rows),
      canvas: s.querySelector('canvas') !== null,
      text: (s.textContent ?? '').replace(/\s+/g, ' ').slice(0, 200),
    })),
  );
}

/**
 * Panels the simulated live traffic leaves empty, rightly (the report test fills both): its NICs accept
 * nothing from the internet, and its remote addresses recur, so after its first simulated quarter hour
 * none is new.
 */
const LIVE_EMPTY = ['internetExposedPorts', 'newExternalIps'];

function assertEveryPanelFilled(states: PanelState[], except: readonly string[] = []) {
  assert.deepEqual(
    states.map((s) => s.key),
    PAGE_PANELS.map((p) => p.key),
  );
  for (const s of states) {
    if (except.includes(s.key)) continue;
    assert.ok(s.rows > 0, `panel ${s.key} shows rows: ${JSON.stringify(s)}`);
    const kind = PAGE_PANELS.find((p) => p.key === s.key)?.kind;
    if (kind === 'chart') assert.ok(s.canvas, `panel ${s.key} drew its chart`);
  }
}

async function waitFor(what: string, check: () => Promise<boolean>, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

describe('the dashboard in headless Chromium', { skip }, () => {
  let browser: Browser;
  const errors: string[] = [];

  before(async () => {
    const puppeteer = await import('puppeteer-core');
    browser = await puppeteer.launch({
      executablePath: chromium!,
      headless: true,
      args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage'],
      defaultViewport: { width: 1600, height: 1000 },
    });
    mkdirSync(SHOTS, { recursive: true });
  });
  after(async () => {
    await browser?.close();
  });

  async function newPage(): Promise<Page> {
    const page = await browser.newPage();
    page.on('pageerror', (e) => errors.push(String(e)));
    page.on('console', (m) => {
      if (m.type() === 'error') errors.push(m.text());
    });
    return page;
  }

  test('flowlog report: one self-contained file, every panel filled, the filters recompute', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'flowlog-report-'));
    try {
      await simulateToFolder(join(dir, 'logs'), {
        nsgs: 2,
        vnets: 2,
        hours: 2,
        flowsPerMinute: 20,
        seed: 7,
        start: new Date('2026-11-30T01:00:00Z'),
        minutesPerHour: 20,
      });
      // A threat feed listing two of the simulator's scanners: the Malicious flows panel has rows.
      const feed = join(dir, 'drop.txt');
      writeFileSync(feed, '; test list\n45.146.164.0/24 ; SBL1\n185.224.128.0/24 ; SBL2\n');
      const loaded = await loadEnrichment({
        enabled: true,
        serviceTagsPath: SERVICE_TAGS,
        threatFeeds: [{ name: 'test-drop', location: feed }],
      });
      const problems: string[] = [];
      // The simulated NICs accept nothing from the internet: one web server's log that does, for the
      // Internet-exposed ports panel (NSG v2, two allowed inbound flows to 443 from public clients).
      const web = join(dir, 'web', 'PT1H.json');
      mkdirSync(join(dir, 'web'));
      const t = Date.parse('2026-11-30T02:15:00Z') / 1000;
      writeFileSync(
        web,
        JSON.stringify({
          records: [
            {
              time: '2026-11-30T02:15:00.0000000Z',
              resourceId:
                '/SUBSCRIPTIONS/S/RESOURCEGROUPS/RG/PROVIDERS/MICROSOFT.NETWORK/NETWORKSECURITYGROUPS/NSG-WEB',
              properties: {
                Version: 2,
                flows: [
                  {
                    rule: 'UserRule_AllowHttpsIn',
                    flows: [
                      {
                        mac: '000D3A0000F1',
                        flowTuples: [
                          `${t},81.2.69.160,10.9.0.4,51000,443,T,I,A,B,,,,`,
                          `${t + 5},8.8.4.4,10.9.0.4,51001,443,T,I,A,E,4,800,5,6000`,
                        ],
                      },
                    ],
                  },
                ],
              },
            },
          ],
        }),
      );
      const { html, result } = await buildReport([join(dir, 'logs'), web], {
        windowSeconds: 60,
        enricher: loaded.enricher,
        title: 'flowlog report — simulated NSG and VNet flow logs',
        onProblem: (t) => problems.push(t),
      });
      assert.deepEqual(problems, []);
      assert.ok(result.rows > 100, `${result.rows} rows`);
      // Self-contained: no script or style is fetched from anywhere.
      assert.doesNotMatch(html, /<script[^>]+src=|<link[^>]+href="(?!data:)|https?:\/\/[^"'\s]*\.js/);
      const file = join(dir, 'report.html');
      writeFileSync(file, html);

      const page = await newPage();
      const requests: string[] = [];
      page.on('request', (r) => {
        if (!r.url().startsWith('file:') && !r.url().startsWith('data:')) requests.push(r.url());
      });
      await page.goto(`file://${file}`);
      await page.waitForSelector('body[data-rendered]');
      assertEveryPanelFilled(await panelStates(page));
      assert.equal(
        await page.$eval('body', (b) => (b as unknown as El).dataset.summaries),
        String(result.rows),
      );
      assert.deepEqual(requests, [], 'the page loads nothing from the network');
      await page.screenshot({ path: join(SHOTS, 'report.png'), fullPage: true });

      // The resource filter: one NSG's totals are less than all; the range filter: the last 15 minutes.
      const total = () => page.$eval('#totals .stat b', (b) => (b as unknown as El).textContent ?? '');
      const all = await total();
      const resources = await page.$$eval('#resource option', (os) =>
        os.map((o) => (o as unknown as El).value),
      );
      assert.equal(resources.length, 1 + 5, 'all, 2 NSGs and 2 VNet targets, the web server NSG');
      await page.select('#resource', resources[1]!);
      await waitFor('the filtered totals', async () => (await total()) !== all, 5000);
      await page.select('#resource', '');
      await page.select('#range', '15m');
      await waitFor('the last 15 minutes', async () => (await total()) !== all, 5000);
      const timeline = await page.$eval('section[data-panel="bytesOverTime"]', (s) =>
        Number((s as unknown as El).dataset.rows),
      );
      assert.ok(timeline > 0 && timeline <= 2 * 15, `15 one-minute buckets by decision at most: ${timeline}`);
      assert.deepEqual(errors, []);
      await page.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('flowlog live: the page fills from the hub and updates as blocks are committed', async () => {
    const previous = process.env.FLOWLOG_SERVICE_TAGS_PATH;
    const previousLabels = process.env.FLOWLOG_LABELS_PATH;
    process.env.FLOWLOG_SERVICE_TAGS_PATH = SERVICE_TAGS;
    // Threat labels for two of the simulator's scanners: the Malicious flows panel has rows.
    const labelsDir = mkdtempSync(join(tmpdir(), 'flowlog-live-labels-'));
    process.env.FLOWLOG_LABELS_PATH = join(labelsDir, 'labels.csv');
    writeFileSync(process.env.FLOWLOG_LABELS_PATH, 'cidr,label,kind\n45.146.164.0/24,scanners,threat\n');
    const dashboard = await LiveDashboard.start(0, 'simulated 2 NSG + 2 VNet NICs');
    const now = new Date();
    let session: LiveSession | undefined;
    try {
      session = await LiveSession.start({
        traffic: new SimulatedTraffic({
          nsgs: 2,
          vnets: 2,
          seed: 3,
          flowsPerMinute: 40,
          minutesPerHour: 30,
          start: new Date(
            Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate(), now.getUTCHours()),
          ),
        }),
        intervalMs: 300,
        enrich: true,
        durationMs: 0,
        ...dashboard.sessionOptions(),
      });
      dashboard.attach(session);
      assert.match(dashboard.url, /^http:\/\/127\.0\.0\.1:\d+\/$/);
      assert.ok(session.model.view(Date.now()).header?.endpoints.includes(`Dashboard ${dashboard.url}`));

      const page = await newPage();
      await page.goto(dashboard.url);
      const summaries = async () =>
        Number(await page.$eval('body', (b) => (b as unknown as El).dataset.summaries ?? '0'));
      await waitFor(
        'every panel to have rows',
        async () =>
          (await summaries()) > 0 &&
          (await panelStates(page)).every((s) => s.rows > 0 || LIVE_EMPTY.includes(s.key)),
        30_000,
      );
      assertEveryPanelFilled(await panelStates(page), LIVE_EMPTY);
      // Live: more blocks are committed, their rows reach the hub, the page is told and shows them.
      // Renders first: a refresh between the two reads then counts as seen, never as the awaited one
      // (render and the summaries count are set in one synchronous step of the page).
      const renders = Number(await page.$eval('body', (b) => (b as unknown as El).dataset.rendered));
      const seen = await summaries();
      await waitFor('the page to show new rows', async () => (await summaries()) > seen, 15_000);
      assert.ok(Number(await page.$eval('body', (b) => (b as unknown as El).dataset.rendered)) > renders);
      assert.ok((await summaries()) <= dashboard.server.store.size);
      assert.match(
        await page.$eval('#status-text', (s) => (s as unknown as El).textContent ?? ''),
        /^live · [\d,]+ summaries/,
      );
      // Per-blob lag from the live session sits beside each blob's freshness.
      const lagHeader = await page.$$eval('section[data-panel="blobFreshness"] th', (ths) =>
        ths.map((t) => (t as unknown as El).textContent),
      );
      assert.ok(lagHeader.includes('Lag'), JSON.stringify(lagHeader));
      await page.screenshot({ path: join(SHOTS, 'live.png'), fullPage: true });
      await page.screenshot({ path: join(SHOTS, 'live-top.png') });
      assert.deepEqual(errors, []);
      await page.close();
    } finally {
      await session?.stop();
      await dashboard.close();
      if (previous === undefined) delete process.env.FLOWLOG_SERVICE_TAGS_PATH;
      else process.env.FLOWLOG_SERVICE_TAGS_PATH = previous;
      if (previousLabels === undefined) delete process.env.FLOWLOG_LABELS_PATH;
      else process.env.FLOWLOG_LABELS_PATH = previousLabels;
      rmSync(labelsDir, { recursive: true, force: true });
    }
  });
});
