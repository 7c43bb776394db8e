/**
 * The one error of enrichment: a data source that cannot be used. It stops start-up (an enricher with
 * silently missing data would emit wrong flow types), names the source and says what to do.
 */

export type EnrichmentDataProblem =
  /** The file, blob or table does not exist or cannot be read. */
  | 'missing'
  /** It exists but is not in the expected format (not an MMDB, bad JSON, bad CSV row, bad CIDR, …). */
  | 'corrupt'
  /** It is readable and well formed but the wrong kind of data (an ASN MMDB given as GeoIP, …). */
  | 'wrong-kind';

export class EnrichmentDataError extends Error {
  override readonly name = 'EnrichmentDataError';
  /** Path, URL or `table <name>` of the data source. */
  readonly source: string;
  /** Which data this source was meant to provide: `GeoIP City`, `ASN`, `service tags`, `labels`. */
  readonly dataset: string;
  readonly problem: EnrichmentDataProblem;

  constructor(
    dataset: string,
    source: string,
    problem: EnrichmentDataProblem,
    what: string,
    options?: { cause?: unknown },
  ) {
    super(
      `${dataset} data ${source}: ${what}`,
      options?.cause === undefined ? undefined : { cause: options.cause },
    );
    this.dataset = dataset;
    this.source = source;
    this.problem = problem;
  }
}
