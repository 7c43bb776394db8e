import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { blankSummary } from '../../domain/summary/schema';
import { serializeSummary, summaryLineKeys } from '../../domain/summary/serialize';

function line(resourceId: string, id = '0123456789abcdef0123456789abcdef') {
  const s = blankSummary({ logType: 'nsg', direction: 'Inbound', decision: 'Allow', protocol: 'TCP' });
  s.id = id;
  s.resourceId = resourceId;
  s.rule = 'r';
  s.srcIp = '10.0.0.1';
  s.dstIp = '10.0.0.2';
  return serializeSummary(s);
}

describe('summaryLineKeys (what emitChunk reads of a staged line)', () => {
  test('id and resourceId of real-looking lines, including escaped characters', () => {
    const arm = '/SUBSCRIPTIONS/6F1E/RESOURCEGROUPS/RG/PROVIDERS/MICROSOFT.NETWORK/NETWORKSECURITYGROUPS/NSG';
    assert.deepEqual(summaryLineKeys(line(arm)), { id: '0123456789abcdef0123456789abcdef', resourceId: arm });
    for (const odd of ['a "quoted" id', 'back\\slash\\', 'tab\tnew\nline', 'ünïcode ✓', '', '\\"'])
      assert.deepEqual(summaryLineKeys(line(odd))?.resourceId, odd, JSON.stringify(odd));
  });

  test('property: the same keys as parsing the whole line', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary' }), fc.stringMatching(/^[0-9a-f]{32}$/), (resourceId, id) => {
        const text = line(resourceId, id);
        const parsed = JSON.parse(text) as { id: string; resourceId: string };
        assert.deepEqual(summaryLineKeys(text), { id: parsed.id, resourceId: parsed.resourceId });
      }),
      { numRuns: 500 },
    );
  });

  test('anything else is null, or read by parsing when it is JSON with both keys', () => {
    assert.equal(summaryLineKeys('not json'), null);
    assert.equal(summaryLineKeys('{"id":"x"}'), null);
    assert.equal(summaryLineKeys('[1,2]'), null);
    assert.deepEqual(summaryLineKeys('{"resourceId":"r","id":"i"}'), { id: 'i', resourceId: 'r' });
  });
});
