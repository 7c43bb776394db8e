/**
 * The one check of a flow-log blob name, applied at every entry (Event Grid subject and URL, HTTP bodies,
 * blob URLs, listings) and again where a blob client is made. The storage client normalises dot segments
 * (`a/../b` reaches `b`), so a name that is not exactly a flow-log path could read a blob of another
 * container of the account: only Azure's flow-log layouts pass, segment by segment.
 */

export type BlobNameVerdict = { readonly ok: true } | { readonly ok: false; readonly reason: string };

const MAX_NAME = 1024;
const HOUR = 'y=\\d{4}/m=\\d{2}/d=\\d{2}/h=\\d{2}/m=00/macAddress=[0-9A-Fa-f]{12}/PT1H\\.json';
/** A path segment of a resource id: no separators, no dots alone (checked separately), printable. */
const SEG = '[^/\\\\%\\x00-\\x1f\\x7f]+';

/** The layouts Azure writes (docs: azure-reference.md §2). */
const LAYOUTS: readonly { readonly name: string; readonly pattern: RegExp }[] = [
  {
    name: 'NSG flow log',
    pattern: new RegExp(
      `^resourceId=/SUBSCRIPTIONS/${SEG}/RESOURCEGROUPS/${SEG}/PROVIDERS/MICROSOFT\\.NETWORK/NETWORKSECURITYGROUPS/${SEG}/${HOUR}$`,
      'i',
    ),
  },
  {
    name: 'VNet flow log',
    pattern: new RegExp(
      `^flowLogResourceID=/SUBSCRIPTIONS/${SEG}/RESOURCEGROUPS/${SEG}/PROVIDERS/MICROSOFT\\.NETWORK/NETWORKWATCHERS/${SEG}/FLOWLOGS/${SEG}/${HOUR}$`,
      'i',
    ),
  },
  {
    name: 'VNet flow log (flattened)',
    pattern: new RegExp(`^flowLogResourceID=/${SEG}/${SEG}/${HOUR}$`, 'i'),
  },
];

function describe(name: string): string {
  return JSON.stringify(name.length > 120 ? `${name.slice(0, 117)}...` : name);
}

/** Whether `name` is a flow-log blob name the app may read, and if not, why. */
export function checkFlowLogBlobName(name: string): BlobNameVerdict {
  const refuse = (why: string): BlobNameVerdict => ({
    ok: false,
    reason: `blob name ${describe(name)} ${why}`,
  });
  if (name.length === 0) return refuse('is empty');
  if (name.length > MAX_NAME) return refuse(`is longer than ${MAX_NAME} characters`);
  if (name.includes('\\')) return refuse('contains a backslash');
  // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what is refused here
  if (/[\x00-\x1f\x7f]/.test(name)) return refuse('contains a control character');
  if (name.includes('%')) return refuse('contains "%" (percent-encoding is not part of a flow-log name)');
  for (const segment of name.split('/')) {
    if (segment === '') return refuse('has an empty path segment');
    if (segment === '.' || segment === '..') return refuse(`has a "${segment}" path segment`);
  }
  if (!LAYOUTS.some((l) => l.pattern.test(name)))
    return refuse(
      `is not in a flow-log layout (${LAYOUTS.map((l) => l.name).join(', ')}: …/y=YYYY/m=MM/d=DD/h=HH/m=00/macAddress=<12 hex>/PT1H.json)`,
    );
  return { ok: true };
}
