/**
 * The settings of the two refreshes from Azure (topology, service tags), read and validated like the
 * rest of app/settings.ts: a bad value stops the function with a SettingsError naming the setting.
 */

import { APP_SETTINGS } from '../../common/settings';
import { SettingsError } from '../config';
import { ArmError, armEndpoint } from './arm';
import { parseThreatFeedList, ThreatFeedListError, type ThreatFeedSpec } from './threat-feeds';
import type { TopologyScope } from './topology';

export interface RefreshConfig {
  readonly armEndpoint: URL;
  /** null: topology refresh off. */
  readonly topology: { readonly scope: TopologyScope; readonly maxAgeMs: number } | null;
  /** null: threat feeds off. */
  readonly threatFeeds: { readonly feeds: readonly ThreatFeedSpec[]; readonly maxAgeMs: number } | null;
  /** null: service tags refresh off. */
  readonly serviceTags: {
    readonly subscriptionId: string;
    readonly location: string;
    readonly maxAgeMs: number;
  } | null;
}

type Env = Readonly<Record<string, string | undefined>>;

function value(env: Env, name: string): string {
  const spec = APP_SETTINGS.find((s) => s.name === name);
  if (spec === undefined) throw new Error(`internal: ${name} is not in app/settings.ts`);
  const v = env[name]?.trim();
  return v === undefined || v === '' ? (spec.defaultValue ?? '') : v;
}

function positive(env: Env, name: string, unitMs: number): number {
  const raw = value(env, name);
  const n = Number(raw);
  if (!Number.isFinite(n) || n <= 0) throw new SettingsError(name, `must be a positive number, got "${raw}"`);
  return Math.round(n * unitMs);
}

const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

function subscription(name: string, id: string): string {
  if (!GUID.test(id))
    throw new SettingsError(
      name,
      `"${id}" is not a subscription id (a GUID like 00000000-0000-0000-0000-000000000000)`,
    );
  return id.toLowerCase();
}

export function readRefreshConfig(env: Env = process.env): RefreshConfig {
  let endpoint: URL;
  try {
    endpoint = armEndpoint(value(env, 'FLOWLOG_ARM_ENDPOINT'));
  } catch (e) {
    throw new SettingsError('FLOWLOG_ARM_ENDPOINT', e instanceof ArmError ? e.message : String(e));
  }
  const subs = value(env, 'FLOWLOG_TOPOLOGY_SUBSCRIPTIONS');
  const scope: TopologyScope | null =
    subs === ''
      ? null
      : subs === '*'
        ? 'all'
        : subs
            .split(',')
            .map((s) => s.trim())
            .filter((s) => s !== '')
            .map((s) => subscription('FLOWLOG_TOPOLOGY_SUBSCRIPTIONS', s));
  const tagsSub = value(env, 'FLOWLOG_SERVICE_TAGS_SUBSCRIPTION');
  const location = value(env, 'FLOWLOG_SERVICE_TAGS_LOCATION');
  if (!/^[a-z0-9]+$/i.test(location))
    throw new SettingsError(
      'FLOWLOG_SERVICE_TAGS_LOCATION',
      `"${location}" is not an Azure location name like eastus`,
    );
  let feeds: ThreatFeedSpec[];
  try {
    feeds = parseThreatFeedList(value(env, 'FLOWLOG_THREAT_FEEDS'), true);
  } catch (e) {
    if (e instanceof ThreatFeedListError) throw new SettingsError('FLOWLOG_THREAT_FEEDS', e.message);
    throw e;
  }
  return {
    armEndpoint: endpoint,
    threatFeeds:
      feeds.length === 0
        ? null
        : { feeds, maxAgeMs: positive(env, 'FLOWLOG_THREAT_FEEDS_REFRESH_MINUTES', 60_000) },
    topology:
      scope === null ? null : { scope, maxAgeMs: positive(env, 'FLOWLOG_TOPOLOGY_REFRESH_MINUTES', 60_000) },
    serviceTags:
      tagsSub === ''
        ? null
        : {
            subscriptionId: subscription('FLOWLOG_SERVICE_TAGS_SUBSCRIPTION', tagsSub),
            location: location.toLowerCase(),
            maxAgeMs: positive(env, 'FLOWLOG_SERVICE_TAGS_REFRESH_HOURS', 3_600_000),
          },
  };
}
