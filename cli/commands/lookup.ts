import { parseCommandArgs, UsageError } from '../args';
import {
  ENRICHMENT_FLAGS,
  ENRICHMENT_FLAGS_HELP,
  enrichmentOptions,
  loadEnrichment,
  lookupFormat,
} from '../enrichment';

export const LOOKUP_USAGE = `Usage: flowlog lookup <ip...> [--json] [--geoip PATH] [--asn PATH] [--service-tags PATH]
                      [--labels PATH] [--threat-feed LIST] [--no-enrich]

Prints everything the app knows about each address, from the same data "flowlog process" enriches with:
special-purpose range, country, city and coordinates, AS number and organisation, the service tag a
summary would carry (and every other tag containing it), your labels, and the side class used for the
flow type; then the data sources with their versions, licences and attribution.

Options:
  --json                one JSON document {"addresses": [...], "sources": [...]} instead of text
${ENRICHMENT_FLAGS_HELP}
  -h, --help            this text

Exit codes: 0 every argument is an address; 1 some argument is not an IPv4 or IPv6 address (reported
in the output); 2 usage error, or enrichment data missing or unreadable.`;

export async function runLookup(argv: readonly string[]): Promise<number> {
  const { values, positionals } = parseCommandArgs(argv, {
    json: { type: 'boolean' },
    ...ENRICHMENT_FLAGS,
  });
  if (values.help) {
    process.stdout.write(`${LOOKUP_USAGE}\n`);
    return 0;
  }
  if (positionals.length === 0) throw new UsageError('name at least one IP address');
  const options = enrichmentOptions(values);
  let loaded: Awaited<ReturnType<typeof loadEnrichment>>;
  try {
    loaded = await loadEnrichment(options);
  } catch (error) {
    process.stderr.write(`flowlog lookup: ${error instanceof Error ? error.message : String(error)}\n`);
    return 2;
  }
  const infos = positionals.map((ip) => loaded.lookup(ip));
  const format = lookupFormat();
  process.stdout.write(
    values.json
      ? format.formatLookupJson(infos, loaded.sources)
      : format.formatLookupText(infos, loaded.sources),
  );
  return infos.every((i) => i.address !== null) ? 0 : 1;
}
