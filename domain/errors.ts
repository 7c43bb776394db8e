/**
 * Typed errors of the pure core. Each names where the problem is (blob or file, byte offset, record
 * ordinal, tuple index) and what to do, and keeps the original error as `cause`.
 */

export interface SourceLocation {
  /** Blob name or file path. */
  readonly source: string;
  /** Absolute byte offset in the blob/file where the offending record (or block) starts. */
  readonly byteOffset?: number;
  /** Zero-based record ordinal in the blob. */
  readonly recordOrdinal?: number;
  /** Index of the tuple inside its flowTuples array. */
  readonly tupleIndex?: number;
}

export type FlowLogErrorCode =
  | 'invalid-json'
  | 'not-a-record'
  | 'unknown-version'
  | 'malformed-record'
  | 'malformed-tuple'
  | 'malformed-document'
  | 'prefix-changed'
  | 'unexpected-layout';

export function describeLocation(at: SourceLocation): string {
  const parts = [at.source];
  if (at.byteOffset !== undefined) parts.push(`byte ${at.byteOffset}`);
  if (at.recordOrdinal !== undefined) parts.push(`record ${at.recordOrdinal}`);
  if (at.tupleIndex !== undefined) parts.push(`tuple ${at.tupleIndex}`);
  return parts.join(', ');
}

export class FlowLogError extends Error {
  override readonly name: string = 'FlowLogError';
  readonly code: FlowLogErrorCode;
  readonly location: SourceLocation;
  /** Permanent errors will fail again on retry: record them for rerun instead of retrying. */
  readonly permanent: boolean;

  constructor(
    code: FlowLogErrorCode,
    location: SourceLocation,
    what: string,
    options?: { cause?: unknown; permanent?: boolean },
  ) {
    super(
      `${describeLocation(location)}: ${what}`,
      options?.cause === undefined ? undefined : { cause: options.cause },
    );
    this.code = code;
    this.location = location;
    this.permanent = options?.permanent ?? true;
  }
}

/** A record (one element of `records`) that cannot be read; the other records are still processed. */
export class RecordFormatError extends FlowLogError {
  override readonly name = 'RecordFormatError';
}

/** One flow tuple that cannot be read; the rest of its record is still processed. */
export class TupleFormatError extends FlowLogError {
  override readonly name = 'TupleFormatError';
}

/** The bytes are not a `{"records":[...]}` document (or it ends mid-record). */
export class DocumentFormatError extends FlowLogError {
  override readonly name = 'DocumentFormatError';
}

/** The committed block list no longer starts with the blocks already consumed: the blob was rewritten or truncated. */
export class PrefixChangedError extends FlowLogError {
  override readonly name = 'PrefixChangedError';
}
