import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  Enricher,
  EnrichmentDataError,
  LabelIndex,
  parseCidr,
  parseIp,
  parseLabelsCsv,
  parseThreatFeed,
} from '../../../domain/enrich';

const DROP = `; Spamhaus DROP List 2026/12/05 - (c) 2026 The Spamhaus Project SLU
; https://www.spamhaus.org/drop/drop.txt
; Last-Modified: Fri, 04 Dec 2026 17:25:39 GMT
; Expires: Sat, 05 Dec 2026 18:31:38 GMT
1.10.16.0/20 ; SBL256894
1.19.0.0/16 ; SBL434604\r
2.56.192.0/22 ; SBL459831
`;

const NETSET = `#
# firehol_level1
# ipv4 hash:net ipset
#
0.0.0.0/8
5.188.10.0/23
31.184.196.3/24
2001:db8:bad::/48
5.188.10.0/23
`;

describe('threat feeds (domain/enrich/threat-feed.ts)', () => {
  test('Spamhaus DROP: ; comments, one block and its SBL reference per line, CRLF', () => {
    const p = parseThreatFeed(DROP, 'spamhaus-drop', 'drop.txt');
    assert.deepEqual(
      p.rows.map((r) => [r.value.cidr, r.value.label, r.value.kind]),
      [
        ['1.10.16.0/20', 'spamhaus-drop', 'threat'],
        ['1.19.0.0/16', 'spamhaus-drop', 'threat'],
        ['2.56.192.0/22', 'spamhaus-drop', 'threat'],
      ],
    );
    assert.equal(p.skipped, 0);
    assert.equal(p.masked, 0);
  });

  test('FireHOL netset: # comments, IPv6, a block with host bits taken as its network, duplicates once', () => {
    const p = parseThreatFeed(NETSET, 'firehol', 'firehol_level1.netset');
    assert.deepEqual(
      p.rows.map((r) => r.value.cidr),
      ['0.0.0.0/8', '5.188.10.0/23', '31.184.196.0/24', '2001:db8:bad::/48'],
    );
    assert.equal(p.masked, 1);
    assert.deepEqual(p.rows[2]?.cidr, {
      family: 4,
      network: parseCidr('31.184.196.0/24')!.network,
      length: 24,
    });
  });

  test('plain address lists (Feodo Tracker, Tor exits) are /32 and /128 hosts; other lines skipped and named', () => {
    const text = '# Feodo Tracker\n"DstIP"\n50.16.16.211\n2a0b:f4c0::1\n\n  162.243.103.246  \nport 443\n';
    const p = parseThreatFeed(text, 'feodo', 'ipblocklist.txt');
    assert.deepEqual(
      p.rows.map((r) => r.value.cidr),
      ['50.16.16.211/32', '2a0b:f4c0::1/128', '162.243.103.246/32'],
    );
    assert.equal(p.skipped, 2);
    assert.deepEqual(p.skippedExamples, ['line 2: "\\"DstIP\\""', 'line 7: "port 443"']);
  });

  test('a document with lines but no address is refused, naming the source; an empty one is no rows', () => {
    assert.throws(
      () => parseThreatFeed('<html>\n<body>Sign in</body>\n</html>\n', 'x', 'https://feeds.example/list'),
      (e: unknown) =>
        e instanceof EnrichmentDataError &&
        e.source === 'https://feeds.example/list' &&
        /no address or CIDR block in 3 lines .*not a blocklist/.test(e.message),
    );
    assert.deepEqual(parseThreatFeed('# nothing listed today\n', 'x', 's').rows, []);
    assert.throws(() => parseThreatFeed('1.2.3.4\n', 'bad name', 's'), /feed name "bad name"/);
  });

  test('under the user rows and beside the topology: users decide what they cover; most specific, then threat', () => {
    const feed = parseThreatFeed('203.0.113.0/24\n198.51.100.0/24\n192.0.2.7\n', 'feed', 'f').rows;
    const topology = parseLabelsCsv('198.51.100.10/32,lb-web,vnet\n192.0.2.7/32,gw-pip,vnet\n', 'topology');
    const user = parseLabelsCsv('203.0.113.0/25,partner,s2s\n', 'labels.csv');
    const index = new LabelIndex(user, [...topology, ...feed]);
    const label = (ip: string) => {
      const l = index.lookup(parseIp(ip)!);
      return l === null ? null : `${l.label}/${l.kind}`;
    };
    assert.equal(label('203.0.113.5'), 'partner/s2s', "the user's row covers it");
    assert.equal(label('203.0.113.200'), 'feed/threat');
    assert.equal(label('198.51.100.10'), 'lb-web/vnet', 'a more specific topology block (own public IP)');
    assert.equal(label('198.51.100.11'), 'feed/threat');
    assert.equal(label('192.0.2.7'), 'feed/threat', 'the same block: threat wins');
  });

  test('a flow with a listed address is MaliciousFlow', () => {
    const labels = new LabelIndex([], parseThreatFeed('185.220.101.0/24\n', 'tor-exits', 't').rows);
    const e = new Enricher({ labels });
    assert.equal(e.flowType('10.0.0.4', '185.220.101.9'), 'MaliciousFlow');
    assert.equal(e.flowType('185.220.101.9', '10.0.0.4'), 'MaliciousFlow');
    assert.equal(e.flowType('10.0.0.4', '185.220.102.9'), 'ExternalPublic');
    assert.equal(e.lookup('185.220.101.9').label?.label, 'tor-exits');
  });
});
