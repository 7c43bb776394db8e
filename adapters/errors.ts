/**
 * Failures of the outside world, classified once: a retryable one is thrown so Durable retries the
 * activity with backoff; a permanent one is returned as a value so the run records it for rerun at once.
 */
export class ExternalError extends Error {
  override name = 'ExternalError';
  constructor(
    message: string,
    readonly retryable: boolean,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

interface RestLike {
  statusCode?: number;
  code?: string;
  retryable?: boolean;
}

/** HTTP status / SDK flags → retryable or not. Unknown (network) errors are retryable. */
export function isRetryable(error: unknown): boolean {
  const e = error as RestLike | undefined;
  if (e && typeof e.retryable === 'boolean') return e.retryable;
  const status = e?.statusCode;
  if (typeof status === 'number') return status === 408 || status === 429 || status >= 500;
  return true;
}

export function describeError(error: unknown): string {
  if (error instanceof Error) return error.message;
  return String(error);
}
