/**
 * Threat feeds: public blocklists of addresses and blocks (Spamhaus DROP, FireHOL netsets, Feodo
 * Tracker, Tor exit lists, your own), read as `threat` labels named after the feed, so flows with a listed
 * address get flowType `MaliciousFlow` as Traffic Analytics' threat intelligence gives them.
 *
 * One entry per line: the line's first token (up to whitespace, `,` or `;`) is an IPv4 / IPv6 address or
 * CIDR block; `#` and `;` start comments; blank lines are ignored. Blocks with host bits set are taken as
 * their network (feeds write `1.2.3.4/24` now and then; a labels CSV refuses it, a feed is not ours to
 * fix). A line whose token is not an address is skipped and counted, with the first few named; a feed
 * with lines but no address at all is refused (it is something else: an HTML error page, a login form).
 */
import { EnrichmentDataError } from './errors';
import { formatCidr, parseCidr } from './ip';
import type { Label } from './labels';
import type { PrefixEntry } from './prefix-table';

/** Feed names: what the label of their rows says (`spamhaus-drop`). */
const FEED_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;
/** Skipped lines named in the result (the rest are only counted). */
const SKIPPED_EXAMPLES = 5;

export interface ThreatFeedParse {
  readonly rows: PrefixEntry<Label>[];
  /** Lines that held something other than an address (not comments, not blank). */
  readonly skipped: number;
  /** The first few of them: `line N: "text"`. */
  readonly skippedExamples: string[];
  /** Blocks written with host bits set, taken as their network. */
  readonly masked: number;
}

export function isThreatFeedName(name: string): boolean {
  return FEED_NAME.test(name);
}

/** Reads one feed's text; `source` names it in errors (its URL or path). */
export function parseThreatFeed(text: string, feedName: string, source: string): ThreatFeedParse {
  if (!isThreatFeedName(feedName))
    throw new EnrichmentDataError(
      'threat feeds',
      source,
      'corrupt',
      `feed name ${JSON.stringify(feedName)} must be 1 to 64 letters, digits, '.', '_' or '-'`,
    );
  const rows: PrefixEntry<Label>[] = [];
  const seen = new Set<string>();
  const skippedExamples: string[] = [];
  let skipped = 0;
  let masked = 0;
  let lineNo = 0;
  for (const raw of text.split('\n')) {
    lineNo++;
    let line = raw;
    const comment = line.search(/[#;]/);
    if (comment >= 0) line = line.slice(0, comment);
    const token = line.trim().split(/[\s,]/, 1)[0] ?? '';
    if (token === '') continue;
    const cidr = parseCidr(token);
    if (cidr === null) {
      skipped++;
      if (skippedExamples.length < SKIPPED_EXAMPLES)
        skippedExamples.push(`line ${lineNo}: ${JSON.stringify(raw.trim().slice(0, 80))}`);
      continue;
    }
    if (cidr.hostBitsSet) masked++;
    const block = formatCidr(cidr);
    if (seen.has(block)) continue;
    seen.add(block);
    rows.push({
      cidr: { family: cidr.family, network: cidr.network, length: cidr.length },
      value: { label: feedName, kind: 'threat', cidr: block },
    });
  }
  if (rows.length === 0 && skipped > 0)
    throw new EnrichmentDataError(
      'threat feeds',
      source,
      'corrupt',
      `no address or CIDR block in ${skipped} lines (${skippedExamples.join('; ')}): not a blocklist; check the URL or path`,
    );
  return { rows, skipped, skippedExamples, masked };
}
