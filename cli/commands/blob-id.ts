import { blobIdentityForFile, blobIdOf, generationIdentity } from '../../domain/blob-identity';
import { parseBlobUrl } from '../../domain/blob-ref';
import { nonNegativeInt, parseCommandArgs, UsageError } from '../args';

export const BLOB_ID_USAGE = `Usage: flowlog blob-id <blob name | blob URL | file path>... [--generation N]

Prints the 16-hex blob id of each blob (the "blob" field of its flow groups' FlowGroups lines), then the
blob identity it is made from. Groups name their blob by this id instead of repeating its ~300-byte name;
find a blob's rows in ADX with
  FlowSummariesDedup | join kind=inner (FlowGroupsDedup | where blob == "<id>" | project group) on group

Options:
  --generation N   the blob's generation (GET /api/blobs/{key} shows it; 0 unless the blob was rewritten
                   from byte 0 within its hour)
  -h, --help       this text`;

/** The identity of a blob name, URL or file path, as `flowlog process` and the app make it. */
export function identityOfArgument(arg: string): string {
  const url = /^https?:\/\//i.test(arg) ? parseBlobUrl(arg) : undefined;
  return blobIdentityForFile(url ? url.name : arg);
}

export async function runBlobId(argv: readonly string[]): Promise<number> {
  const { values, positionals } = parseCommandArgs(argv, { generation: { type: 'string' } });
  if (values.help) {
    process.stdout.write(`${BLOB_ID_USAGE}\n`);
    return 0;
  }
  if (positionals.length === 0) throw new UsageError('name at least one blob (name, URL or file path)');
  const generation = nonNegativeInt(values.generation, 'generation', 0);
  for (const arg of positionals) {
    const identity = generationIdentity(identityOfArgument(arg), generation);
    process.stdout.write(`${blobIdOf(identity)}  ${identity}\n`);
  }
  return 0;
}
