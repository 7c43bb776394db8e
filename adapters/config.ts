import { APP_SETTINGS } from '../common/settings';

/** A setting is missing or wrong; the message names it and says what to set. Secrets are never echoed. */
export class SettingsError extends Error {
  override readonly name = 'SettingsError';
  constructor(
    readonly setting: string,
    what: string,
  ) {
    super(`app setting ${setting}: ${what}`);
  }
}

export type Connection =
  | { readonly kind: 'connection-string'; readonly connectionString: string }
  | { readonly kind: 'identity'; readonly endpoint: string };

export interface AppConfig {
  readonly hostStorage: Connection;
  /** Source accounts (lower case) and how to reach each. */
  readonly sourceAccounts: ReadonlyMap<string, Connection>;
  readonly containers: ReadonlySet<string>;
  readonly windowSeconds: number;
  readonly eventHub: Connection & { readonly hubName: string };
  readonly enrich: boolean;
  /** Event body bound and compression for packed summary rows (FLOWLOG_EVENT_MAX_BYTES / _GZIP). */
  readonly eventMaxBytes: number;
  readonly eventGzip: boolean;
  readonly geoipPath?: string;
  readonly asnPath?: string;
  readonly serviceTagsPath?: string;
  readonly labelsPath?: string;
  readonly labelsTable?: string;
  readonly ledgerTable: string;
  readonly stagingContainer: string;
  readonly parseChunkBytes: number;
  /** A run without progress for this long is replaced and terminated (FLOWLOG_STUCK_RUN_MINUTES). */
  readonly stuckRunMs: number;
  /** The grace after a blob's hour before it can be complete (FLOWLOG_HOUR_GRACE_MINUTES). */
  readonly hourGraceMs: number;
  /** Reruns a bulk job runs at once, and blobs it takes at most. */
  readonly bulkConcurrency: number;
  readonly bulkMaxBlobs: number;
}

type Env = Readonly<Record<string, string | undefined>>;

function setting(env: Env, name: string): string | undefined {
  const spec = APP_SETTINGS.find((s) => s.name === name);
  if (!spec) throw new Error(`internal: ${name} is not in app/settings.ts`);
  const value = env[name];
  if (value !== undefined && value.trim() !== '') return value.trim();
  return spec.defaultValue;
}

function positive(env: Env, name: string): number {
  const raw = setting(env, name) ?? '';
  const n = Number(raw);
  if (!Number.isInteger(n) || n <= 0)
    throw new SettingsError(name, `must be a positive whole number, got "${raw}"`);
  return n;
}

/** Minutes (fractions allowed, e.g. 0.05 in tests) as milliseconds. */
function positiveMinutes(env: Env, name: string): number {
  const raw = setting(env, name) ?? '';
  const n = Number(raw);
  if (!Number.isFinite(n) || n <= 0)
    throw new SettingsError(name, `must be a positive number of minutes, got "${raw}"`);
  return Math.round(n * 60_000);
}

function connection(
  env: Env,
  name: string,
  identitySuffix: string,
  endpoint: (v: string) => string,
): Connection {
  const direct = setting(env, name);
  if (direct) return { kind: 'connection-string', connectionString: direct };
  const identity = setting(env, `${name}__${identitySuffix}`);
  if (identity) return { kind: 'identity', endpoint: endpoint(identity) };
  throw new SettingsError(
    name,
    `set ${name} (a connection string) or ${name}__${identitySuffix} (managed identity)`,
  );
}

/** Reads and validates every setting once, at start-up; a bad value stops the app with a clear message. */
export function readAppConfig(env: Env = process.env): AppConfig {
  const hostStorage = connection(
    env,
    'AzureWebJobsStorage',
    'accountName',
    (a) => `https://${a}.blob.core.windows.net`,
  );
  const accountsRaw = setting(env, 'FLOWLOG_SOURCE_ACCOUNTS');
  if (!accountsRaw)
    throw new SettingsError(
      'FLOWLOG_SOURCE_ACCOUNTS',
      'list the storage accounts that receive flow logs, comma-separated',
    );
  let keyed: Record<string, string> = {};
  const keyedRaw = setting(env, 'FLOWLOG_SOURCE_CONNECTION_STRINGS');
  if (keyedRaw) {
    try {
      const parsed: unknown = JSON.parse(keyedRaw);
      if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed))
        throw new Error('not an object');
      keyed = Object.fromEntries(Object.entries(parsed).map(([k, v]) => [k.toLowerCase(), String(v)]));
    } catch {
      throw new SettingsError(
        'FLOWLOG_SOURCE_CONNECTION_STRINGS',
        'must be a JSON object {"account": "connection string"} (value not shown)',
      );
    }
  }
  const sourceAccounts = new Map<string, Connection>();
  for (const account of accountsRaw
    .split(',')
    .map((a) => a.trim().toLowerCase())
    .filter((a) => a !== '')) {
    if (!/^[a-z0-9]{3,24}$/.test(account))
      throw new SettingsError(
        'FLOWLOG_SOURCE_ACCOUNTS',
        `"${account}" is not a storage account name (3-24 lower-case letters and digits)`,
      );
    const cs = keyed[account];
    sourceAccounts.set(
      account,
      cs
        ? { kind: 'connection-string', connectionString: cs }
        : { kind: 'identity', endpoint: `https://${account}.blob.core.windows.net` },
    );
  }
  const eventHub = connection(env, 'EventHubConnection', 'fullyQualifiedNamespace', (ns) => ns);
  const hubFromString =
    eventHub.kind === 'connection-string'
      ? /EntityPath=([^;]+)/i.exec(eventHub.connectionString)?.[1]
      : undefined;
  const hubName = hubFromString ?? setting(env, 'FLOWLOG_EVENTHUB_NAME') ?? '';
  const enrichRaw = (setting(env, 'FLOWLOG_ENRICH') ?? 'true').toLowerCase();
  if (enrichRaw !== 'true' && enrichRaw !== 'false')
    throw new SettingsError('FLOWLOG_ENRICH', `must be true or false, got "${enrichRaw}"`);
  const gzipRaw = (setting(env, 'FLOWLOG_EVENT_GZIP') ?? 'false').toLowerCase();
  if (gzipRaw !== 'true' && gzipRaw !== 'false')
    throw new SettingsError('FLOWLOG_EVENT_GZIP', `must be true or false, got "${gzipRaw}"`);
  const optional = (name: string) => {
    const v = setting(env, name);
    return v === undefined ? {} : { [camel(name)]: v };
  };
  return {
    hostStorage,
    sourceAccounts,
    containers: new Set(
      (setting(env, 'FLOWLOG_CONTAINERS') ?? '')
        .split(',')
        .map((c) => c.trim())
        .filter((c) => c !== ''),
    ),
    windowSeconds: positive(env, 'FLOWLOG_WINDOW_SECONDS'),
    eventHub: { ...eventHub, hubName },
    enrich: enrichRaw === 'true',
    eventMaxBytes: positive(env, 'FLOWLOG_EVENT_MAX_BYTES'),
    eventGzip: gzipRaw === 'true',
    ...(optional('FLOWLOG_GEOIP_CITY_PATH') as { geoipPath?: string }),
    ...(optional('FLOWLOG_ASN_PATH') as { asnPath?: string }),
    ...(optional('FLOWLOG_SERVICE_TAGS_PATH') as { serviceTagsPath?: string }),
    ...(optional('FLOWLOG_LABELS_PATH') as { labelsPath?: string }),
    ...(optional('FLOWLOG_LABELS_TABLE') as { labelsTable?: string }),
    ledgerTable: setting(env, 'FLOWLOG_LEDGER_TABLE') ?? 'flowlogblobs',
    stagingContainer: setting(env, 'FLOWLOG_STAGING_CONTAINER') ?? 'flowlog-staging',
    parseChunkBytes: positive(env, 'FLOWLOG_PARSE_CHUNK_BYTES'),
    stuckRunMs: positiveMinutes(env, 'FLOWLOG_STUCK_RUN_MINUTES'),
    hourGraceMs: positiveMinutes(env, 'FLOWLOG_HOUR_GRACE_MINUTES'),
    bulkConcurrency: positive(env, 'FLOWLOG_BULK_CONCURRENCY'),
    bulkMaxBlobs: positive(env, 'FLOWLOG_BULK_MAX_BLOBS'),
  };
}

const CAMEL: Record<string, string> = {
  FLOWLOG_GEOIP_CITY_PATH: 'geoipPath',
  FLOWLOG_ASN_PATH: 'asnPath',
  FLOWLOG_SERVICE_TAGS_PATH: 'serviceTagsPath',
  FLOWLOG_LABELS_PATH: 'labelsPath',
  FLOWLOG_LABELS_TABLE: 'labelsTable',
};

function camel(name: string): string {
  const mapped = CAMEL[name];
  if (!mapped) throw new Error(`internal: no config key for ${name}`);
  return mapped;
}

let cached: AppConfig | undefined;

/** The validated config of this worker (read once). Tests call resetAppConfig between environments. */
export function appConfig(): AppConfig {
  cached ??= readAppConfig();
  return cached;
}

export function resetAppConfig(): void {
  cached = undefined;
}
