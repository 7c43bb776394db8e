/**
 * Calls to Azure Resource Manager with the app's identity: the endpoint (Azure public, a sovereign cloud,
 * or a loopback test server), the credential, and one retry loop that owns every retry (the SDK's own
 * retries are off) so each retry is counted and Retry-After is honoured.
 */

import type { Pipeline, PipelinePolicy } from '@azure/core-rest-pipeline';
import type { AccessToken, TokenCredential } from '@azure/identity';

/**
 * The HTTP pipeline package, loaded on first use: the CLI and every worker load this module with the
 * enrichment data, and requiring @azure/core-rest-pipeline costs ~0.1 s that only the ARM refreshes need.
 */
function restPipeline(): typeof import('@azure/core-rest-pipeline') {
  return require('@azure/core-rest-pipeline') as typeof import('@azure/core-rest-pipeline');
}

export const ARM_PUBLIC_ENDPOINT = 'https://management.azure.com';

/**
 * The token a loopback ARM endpoint gets (the offline test server checks it), like Azurite's well-known
 * key: a bearer token is never sent in clear to anything but this machine.
 */
export const LOCAL_ARM_TOKEN = 'flowlog-local-arm-token';

/** An ARM call failed; `retryable` says whether the retry loop gave up on a transient failure. */
export class ArmError extends Error {
  override readonly name = 'ArmError';
  constructor(
    message: string,
    readonly status: number | undefined,
    readonly retryable: boolean,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

function isLoopbackHost(host: string): boolean {
  return host === '127.0.0.1' || host === 'localhost' || host === '[::1]';
}

/** The ARM endpoint's origin: https, or plain http on loopback only (the offline test server). */
export function armEndpoint(raw: string, setting = 'FLOWLOG_ARM_ENDPOINT'): URL {
  let url: URL;
  try {
    url = new URL(raw);
  } catch (cause) {
    throw new ArmError(
      `${setting}: "${raw}" is not a URL; use ${ARM_PUBLIC_ENDPOINT} (or your cloud's ARM endpoint)`,
      undefined,
      false,
      { cause },
    );
  }
  if (url.protocol !== 'https:' && !(url.protocol === 'http:' && isLoopbackHost(url.hostname)))
    throw new ArmError(
      `${setting}: ${url.origin} must be https (plain http only on loopback, for the offline test server)`,
      undefined,
      false,
    );
  return new URL(url.origin);
}

export function isLoopbackEndpoint(endpoint: URL): boolean {
  return endpoint.protocol === 'http:' && isLoopbackHost(endpoint.hostname);
}

/** The fixed local token (loopback endpoints only). */
export const localArmCredential: TokenCredential = {
  getToken: async (): Promise<AccessToken> => ({
    token: LOCAL_ARM_TOKEN,
    expiresOnTimestamp: Date.now() + 3_600_000,
  }),
};

/** The credential to use for an endpoint: the app's identity, or the fixed local token on loopback. */
export function armCredential(endpoint: URL, identity: () => TokenCredential): TokenCredential {
  return isLoopbackEndpoint(endpoint) ? localArmCredential : identity();
}

/** ARM's token scope for the endpoint (`https://management.azure.com/.default`). */
export function armScope(endpoint: URL): string {
  return `${endpoint.origin}/.default`;
}

/**
 * On loopback, swaps the SDK's bearer policy (it refuses plain http) for one that sets the local token;
 * elsewhere leaves the pipeline as it is.
 */
export function useLocalAuthOnLoopback(pipeline: Pipeline, endpoint: URL, credential: TokenCredential): void {
  if (!isLoopbackEndpoint(endpoint)) return;
  pipeline.removePolicy({ name: restPipeline().bearerTokenAuthenticationPolicyName });
  const policy: PipelinePolicy = {
    name: 'flowlogLocalArmToken',
    async sendRequest(request, next) {
      const token = await credential.getToken(armScope(endpoint));
      if (token !== null) request.headers.set('authorization', `Bearer ${token.token}`);
      return next(request);
    },
  };
  pipeline.addPolicy(policy, { phase: 'Sign' });
}

export interface ArmRetryOptions {
  /** Attempts in all (default 6). */
  readonly attempts?: number;
  /** Longest wait between attempts, also for a longer Retry-After (default 60 s). */
  readonly maxDelayMs?: number;
  /** First back-off without Retry-After (default 1 s, doubling). */
  readonly baseDelayMs?: number;
  /** Tests see the waits instead of sleeping them. */
  readonly sleep?: (ms: number) => Promise<void>;
  /** Called before every retry (the app counts them: `arm.retries`). */
  readonly onRetry?: (info: { readonly status: number | undefined; readonly delayMs: number }) => void;
  /** Called for every request sent (`arm.requests`). */
  readonly onRequest?: () => void;
}

interface HeaderBag {
  get(name: string): string | undefined;
}

/** Retry-After (seconds or an HTTP date), or Resource Graph's `x-ms-user-quota-resets-after` (hh:mm:ss). */
export function retryAfterMs(headers: HeaderBag | undefined, now = Date.now()): number | null {
  const after = headers?.get('retry-after');
  if (after !== undefined && after.trim() !== '') {
    const seconds = Number(after);
    if (Number.isFinite(seconds) && seconds >= 0) return seconds * 1000;
    const date = Date.parse(after);
    if (!Number.isNaN(date)) return Math.max(0, date - now);
  }
  const resets = headers?.get('x-ms-user-quota-resets-after');
  const m = resets === undefined ? null : /^(\d+):(\d{2}):(\d{2}(?:\.\d+)?)$/.exec(resets.trim());
  if (m !== null) return (Number(m[1]) * 3600 + Number(m[2]) * 60 + Number(m[3])) * 1000;
  return null;
}

function isRetryableStatus(status: number | undefined): boolean {
  return status === undefined || status === 408 || status === 429 || status >= 500;
}

interface FailureLike {
  readonly statusCode?: number;
  readonly response?: { readonly headers?: HeaderBag };
}

function failureOf(e: unknown): FailureLike {
  return typeof e === 'object' && e !== null ? (e as FailureLike) : {};
}

/** What to tell the user for a status that retrying does not fix. */
export function armAdvice(status: number | undefined): string {
  if (status === 401 || status === 403)
    return "the app's identity may not read it: give it Reader on the subscriptions (deploy parameter enableAzureReader, docs/enrichment.md)";
  if (status === 404) return 'not found: check the subscription id and location settings';
  if (status === 400) return 'the request was refused: check the subscription ids and location settings';
  return 'check the endpoint and the network';
}

/**
 * Runs `call` until it succeeds or fails with something retrying cannot fix: 408, 429, 5xx and network
 * failures are retried after Retry-After when the answer has one, else after 1, 2, 4 … s.
 */
export async function withArmRetries<T>(
  what: string,
  call: () => Promise<T>,
  options: ArmRetryOptions = {},
): Promise<T> {
  const attempts = options.attempts ?? 6;
  const maxDelay = options.maxDelayMs ?? 60_000;
  const sleep = options.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  for (let attempt = 1; ; attempt++) {
    try {
      options.onRequest?.();
      return await call();
    } catch (e) {
      // Our own findings (an answer that is not JSON, a foreign nextLink) are not the network's.
      if (e instanceof ArmError) throw e;
      const f = failureOf(e);
      const status = f.statusCode;
      const retryable = isRetryableStatus(status);
      if (!retryable || attempt >= attempts) {
        const how = status === undefined ? (e instanceof Error ? e.message : String(e)) : `HTTP ${status}`;
        throw new ArmError(
          retryable
            ? `${what}: still failing after ${attempt} attempts (${how}); the next scheduled refresh tries again`
            : `${what}: ${how}; ${armAdvice(status)}`,
          status,
          retryable,
          { cause: e },
        );
      }
      const base = (options.baseDelayMs ?? 1000) * 2 ** (attempt - 1);
      const delayMs = Math.min(maxDelay, retryAfterMs(f.response?.headers) ?? base);
      options.onRetry?.({ status, delayMs });
      await sleep(delayMs);
    }
  }
}

export interface ArmGetOptions {
  readonly endpoint: URL;
  readonly credential: TokenCredential;
  readonly retry?: ArmRetryOptions;
}

/** A GET of JSON from ARM (`url` must be on the endpoint: a nextLink elsewhere is refused, no token leaks). */
export function armJsonGetter(options: ArmGetOptions): (url: string, what: string) => Promise<unknown> {
  const {
    bearerTokenAuthenticationPolicy,
    createDefaultHttpClient,
    createPipelineFromOptions,
    createPipelineRequest,
  } = restPipeline();
  const pipeline = createPipelineFromOptions({
    retryOptions: { maxRetries: 0 },
    userAgentOptions: { userAgentPrefix: 'flowlog' },
  });
  if (isLoopbackEndpoint(options.endpoint))
    useLocalAuthOnLoopback(pipeline, options.endpoint, options.credential);
  else
    pipeline.addPolicy(
      bearerTokenAuthenticationPolicy({
        credential: options.credential,
        scopes: armScope(options.endpoint),
      }),
    );
  const http = createDefaultHttpClient();
  return (url, what) => {
    if (new URL(url).origin !== options.endpoint.origin)
      return Promise.reject(
        new ArmError(
          `${what}: ${new URL(url).origin} is not the ARM endpoint ${options.endpoint.origin}`,
          undefined,
          false,
        ),
      );
    return withArmRetries(
      what,
      async () => {
        const request = createPipelineRequest({
          url,
          method: 'GET',
          timeout: 120_000,
          allowInsecureConnection: isLoopbackEndpoint(options.endpoint),
        });
        request.headers.set('accept', 'application/json');
        const response = await pipeline.sendRequest(http, request);
        if (response.status !== 200)
          // Shaped like the SDK's RestError, so the retry loop reads status and Retry-After the same way.
          throw Object.assign(new Error(`HTTP ${response.status}`), {
            statusCode: response.status,
            response: { headers: response.headers },
          });
        try {
          return JSON.parse(response.bodyAsText ?? '') as unknown;
        } catch (cause) {
          throw new ArmError(`${what}: the answer is not JSON`, 200, false, { cause });
        }
      },
      options.retry,
    );
  };
}
