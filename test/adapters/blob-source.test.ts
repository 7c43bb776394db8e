import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ContainerClient } from '@azure/storage-blob';
import fc from 'fast-check';
import { checkFlowLogBlobName } from '../../domain/blob-name';

/**
 * For every name the check accepts, the URL the storage SDK builds (what reaches storage) stays under the
 * served container and names exactly that blob: nothing the check lets through is resolved elsewhere.
 */
test('an accepted name never leaves the served container in the URL that reaches storage', () => {
  const container = new ContainerClient(
    'http://127.0.0.1:10000/devstoreaccount1/insights-logs-networksecuritygroupflowevent',
  );
  const prefix = '/devstoreaccount1/insights-logs-networksecuritygroupflowevent/';
  const unit = fc.oneof(
    { weight: 6, arbitrary: fc.constantFrom('a', 'Z', '0', '=', '-', '_', ' ', '.') },
    { weight: 1, arbitrary: fc.constantFrom('%', '2', 'e', '/', '\\', '?', '#') },
  );
  const piece = fc.string({ unit, maxLength: 12 });
  const name = fc
    .tuple(piece, piece, piece)
    .map(
      ([a, b, c]) =>
        `resourceId=/SUBSCRIPTIONS/${a}/RESOURCEGROUPS/${b}/PROVIDERS/MICROSOFT.NETWORK/NETWORKSECURITYGROUPS/${c}/y=2026/m=11/d=30/h=09/m=00/macAddress=000D3AF8801A/PT1H.json`,
    );
  let accepted = 0;
  fc.assert(
    fc.property(name, (n) => {
      if (!checkFlowLogBlobName(n).ok) return true;
      accepted++;
      const path = new URL(container.getBlockBlobClient(n).url).pathname;
      return path.startsWith(prefix) && decodeURIComponent(path.slice(prefix.length)) === n;
    }),
    { numRuns: 2000 },
  );
  assert.ok(accepted > 100, `enough accepted names were tried (${accepted})`);
});
