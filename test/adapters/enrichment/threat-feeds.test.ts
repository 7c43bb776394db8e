import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import type { BlockBlobClient } from '@azure/storage-blob';
import { SettingsError } from '../../../adapters/config';
import { loadEnricher } from '../../../adapters/enrichment/index';
import { readRefreshConfig } from '../../../adapters/enrichment/refresh-config';
import {
  parseThreatFeedList,
  readThreatFeedLabels,
  readThreatFeedsDocument,
  refreshThreatFeeds,
  THREAT_FEEDS_FORMAT,
  ThreatFeedListError,
} from '../../../adapters/enrichment/threat-feeds';
import { type AzuriteHandle, startAzurite } from '../../../local/azurite';

describe('threat feed lists (FLOWLOG_THREAT_FEEDS, --threat-feed)', () => {
  test('name=location items; a bare location is named after its file', () => {
    assert.deepEqual(
      parseThreatFeedList(
        'spamhaus-drop=https://www.spamhaus.org/drop/drop.txt, https://feodotracker.abuse.ch/downloads/ipblocklist.txt',
        true,
      ),
      [
        { name: 'spamhaus-drop', location: 'https://www.spamhaus.org/drop/drop.txt' },
        { name: 'ipblocklist', location: 'https://feodotracker.abuse.ch/downloads/ipblocklist.txt' },
      ],
    );
    assert.deepEqual(parseThreatFeedList('mine=./lists/bad.txt', false), [
      { name: 'mine', location: './lists/bad.txt' },
    ]);
    assert.deepEqual(parseThreatFeedList('', true), []);
  });

  test('refused: plain http off loopback, files in the app, two feeds of one name, bad names', () => {
    assert.throws(() => parseThreatFeedList('x=http://feeds.example/list.txt', true), /https only/);
    assert.deepEqual(parseThreatFeedList('x=http://127.0.0.1:8080/list.txt', true).length, 1);
    assert.throws(() => parseThreatFeedList('x=./list.txt', true), /from https URLs, not files/);
    assert.throws(
      () => parseThreatFeedList('a=https://h/1.txt,a=https://h/2.txt', true),
      /two feeds are named a/,
    );
    assert.throws(() => parseThreatFeedList('bad name=https://h/1.txt', true), ThreatFeedListError);
    assert.throws(() => parseThreatFeedList('https://', true), /is not a URL/);
    assert.throws(() => parseThreatFeedList('x=', true), /feed x has no location/);
    assert.throws(
      () => readRefreshConfig({ FLOWLOG_THREAT_FEEDS: 'x=http://feeds.example/l.txt' }),
      (e: unknown) => e instanceof SettingsError && /FLOWLOG_THREAT_FEEDS/.test(e.message),
    );
    const config = readRefreshConfig({
      FLOWLOG_THREAT_FEEDS: 'drop=https://www.spamhaus.org/drop/drop.txt',
      FLOWLOG_THREAT_FEEDS_REFRESH_MINUTES: '30',
    });
    assert.deepEqual(config.threatFeeds, {
      feeds: [{ name: 'drop', location: 'https://www.spamhaus.org/drop/drop.txt' }],
      maxAgeMs: 30 * 60_000,
    });
    assert.equal(readRefreshConfig({}).threatFeeds, null);
  });
});

/** A loopback feed host: per path, a body and an ETag, or a failure; it logs every request. */
class FeedHost {
  readonly requests: { path: string; ifNoneMatch: string | null; status: number }[] = [];
  readonly feeds = new Map<string, { body: string; etag: string } | { fail: number }>();
  private server!: Server;
  url = '';

  async start(): Promise<void> {
    this.server = createServer((req: IncomingMessage, res) => {
      const path = req.url ?? '';
      const feed = this.feeds.get(path);
      const ifNoneMatch = (req.headers['if-none-match'] as string | undefined) ?? null;
      let status: number;
      if (feed === undefined) status = 404;
      else if ('fail' in feed) status = feed.fail;
      else if (ifNoneMatch === feed.etag) status = 304;
      else status = 200;
      this.requests.push({ path, ifNoneMatch, status });
      if (status === 200 && feed !== undefined && 'body' in feed) {
        res.writeHead(200, { 'content-type': 'text/plain', etag: feed.etag });
        res.end(feed.body);
      } else {
        res.writeHead(status);
        res.end();
      }
    });
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  stop(): Promise<void> {
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}

describe('the threat feeds refresh against a loopback feed host and Azurite', () => {
  let az: AzuriteHandle;
  let blob: BlockBlobClient;
  const host = new FeedHost();
  before(async () => {
    az = await startAzurite();
    const container = az.blobServiceClient().getContainerClient('flowlog-staging');
    await container.create();
    blob = container.getBlockBlobClient('enrichment/threat-feeds.json');
    await host.start();
  });
  after(async () => {
    await host.stop();
    await az.stop();
  });

  test("fetches, stores, asks with If-None-Match, keeps a failing feed's entries and retries it next tick", async () => {
    host.feeds.set('/drop.txt', {
      body: '; DROP\n1.10.16.0/20 ; SBL1\n2.56.192.0/22 ; SBL2\n',
      etag: '"d1"',
    });
    host.feeds.set('/tor.txt', { body: '185.220.101.4\n185.220.101.5\n', etag: '"t1"' });
    const feeds = parseThreatFeedList(`drop=${host.url}/drop.txt,tor=${host.url}/tor.txt`, true);
    // The stored document's age is measured from its blob's Last-Modified (the wall clock).
    const t0 = Date.now();
    const at = (minute: number) => new Date(t0 + minute * 60_000);

    assert.equal(await readThreatFeedLabels(blob), null, 'nothing stored before the first refresh');
    const first = await refreshThreatFeeds({ feeds, blob, now: at(0), maxAgeMs: 60 * 60_000 });
    assert.deepEqual(first, {
      status: 'written',
      feeds: [
        { name: 'drop', status: 'fetched', entries: 2 },
        { name: 'tor', status: 'fetched', entries: 2 },
      ],
    });
    const labels = (await readThreatFeedLabels(blob))?.map((r) => `${r.value.cidr} ${r.value.label}`);
    assert.deepEqual(labels, [
      '1.10.16.0/20 drop',
      '2.56.192.0/22 drop',
      '185.220.101.4/32 tor',
      '185.220.101.5/32 tor',
    ]);

    // Within the interval, same list, nothing failed: no request at all.
    const sent = host.requests.length;
    assert.equal(
      (await refreshThreatFeeds({ feeds, blob, now: at(1), maxAgeMs: 60 * 60_000 })).status,
      'fresh',
    );
    assert.equal(host.requests.length, sent);

    // Due again: drop is unchanged (304 on its ETag), tor's host fails: its entries stay.
    host.feeds.set('/tor.txt', { fail: 503 });
    const third = await refreshThreatFeeds({ feeds, blob, now: at(2), maxAgeMs: 0 });
    assert.equal(third.status, 'written');
    if (third.status !== 'written') return;
    assert.deepEqual(
      third.feeds.map((f) => [f.name, f.status, f.entries]),
      [
        ['drop', 'unchanged', 2],
        ['tor', 'failed', 2],
      ],
    );
    assert.match(third.feeds[1]?.error ?? '', /HTTP 503/);
    assert.deepEqual(
      host.requests.slice(sent).map((r) => `${r.path} ${r.ifNoneMatch} ${r.status}`),
      ['/drop.txt "d1" 304', '/tor.txt "t1" 503'],
    );
    assert.equal((await readThreatFeedLabels(blob))?.length, 4, 'no entry lost to the failure');
    const doc = await readThreatFeedsDocument(blob);
    assert.equal(doc?.format, THREAT_FEEDS_FORMAT);
    assert.match(doc?.feeds[1]?.error ?? '', /503/);
    assert.equal(doc?.feeds[1]?.fetchedAt, at(0).toISOString());

    // The next tick asks the failed feed again although the document is fresh; it has changed.
    host.feeds.set('/tor.txt', { body: '185.220.101.4\n', etag: '"t2"' });
    const fourth = await refreshThreatFeeds({ feeds, blob, now: at(3), maxAgeMs: 60 * 60_000 });
    assert.equal(fourth.status, 'written');
    assert.deepEqual(
      (await readThreatFeedLabels(blob))?.map((r) => r.value.cidr),
      ['1.10.16.0/20', '2.56.192.0/22', '185.220.101.4/32'],
    );
    assert.equal((await readThreatFeedsDocument(blob))?.feeds[1]?.error, null);

    // A page that is not a blocklist, or one too large, fails that feed the same way.
    host.feeds.set('/tor.txt', { body: '<html><body>Please sign in</body></html>\n', etag: '"t3"' });
    const html = await refreshThreatFeeds({ feeds, blob, now: at(4), maxAgeMs: 0 });
    assert.match(html.status === 'written' ? (html.feeds[1]?.error ?? '') : '', /not a blocklist/);
    host.feeds.set('/tor.txt', { body: '185.220.101.9\n'.repeat(1000), etag: '"t4"' });
    const big = await refreshThreatFeeds({ feeds, blob, now: at(5), maxAgeMs: 0, maxFeedBytes: 4096 });
    assert.match(big.status === 'written' ? (big.feeds[1]?.error ?? '') : '', /larger than 4096 bytes/);
    assert.deepEqual(
      (await readThreatFeedLabels(blob))?.map((r) => r.value.cidr),
      ['1.10.16.0/20', '2.56.192.0/22', '185.220.101.4/32'],
    );

    // A feed that redirects off https: refused, its answer not used, the other feeds go on.
    const redirected = await refreshThreatFeeds({
      feeds,
      blob,
      now: at(5),
      maxAgeMs: 0,
      fetch: async (url, init) =>
        url.pathname === '/tor.txt'
          ? ({
              url: 'http://feeds.example/tor.txt',
              status: 200,
              ok: true,
              statusText: 'OK',
              headers: new Headers(),
              body: null,
            } as unknown as Response)
          : fetch(url, init),
    });
    assert.deepEqual(redirected.status === 'written' ? redirected.feeds.map((f) => [f.name, f.status]) : [], [
      ['drop', 'unchanged'],
      ['tor', 'failed'],
    ]);
    assert.match(
      redirected.status === 'written' ? (redirected.feeds[1]?.error ?? '') : '',
      /redirected to http:\/\/feeds\.example\/tor\.txt: .*https only/,
    );

    // A feed added to the list: fetched at once, fresh or not.
    host.feeds.set('/more.txt', { body: '198.51.100.0/24\n', etag: '"m1"' });
    host.feeds.set('/tor.txt', { body: '185.220.101.4\n', etag: '"t2"' });
    await refreshThreatFeeds({ feeds, blob, now: at(6), maxAgeMs: 0 });
    const more = parseThreatFeedList(
      `drop=${host.url}/drop.txt,tor=${host.url}/tor.txt,more=${host.url}/more.txt`,
      true,
    );
    const added = await refreshThreatFeeds({ feeds: more, blob, now: at(7), maxAgeMs: 60 * 60_000 });
    assert.equal(added.status, 'written');
    assert.equal((await readThreatFeedLabels(blob))?.length, 4);

    // The enricher loads them under the user's rows: a listed address is MaliciousFlow.
    const loaded = await loadEnricher({ enabled: true, threatFeedsBlob: blob });
    const enricher = loaded.enricher as import('../../../domain/enrich').Enricher;
    assert.equal(enricher.flowType('10.0.0.4', '198.51.100.77'), 'MaliciousFlow');
    assert.equal(loaded.lookup('1.10.16.9').label?.label, 'drop');
    assert.match(
      loaded.sources.find((s) => s.dataset === 'labels')?.locations.join(' ') ?? '',
      /threat feeds http:\/\/127\.0\.0\.1:\d+\/devstoreaccount1\/flowlog-staging\/enrichment\/threat-feeds\.json/,
    );
  });
});
