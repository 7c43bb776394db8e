import { app, type HttpRequest, type HttpResponseInit, type InvocationContext } from '@azure/functions';
import { type HourSummary, hourPartition } from '../adapters/ledger';
import { BadRequest, guarded, json } from '../app/http';
import { appServices } from '../app/services';
import { names } from '../common/names';

const HOUR = 3_600_000;
/** A week of hours per request: one ledger partition query each. */
export const MAX_HOURS = 168;
/** Partition queries in flight at once. */
const PARALLEL = 8;
const DEFAULT_KEYS = 50;
const MAX_KEYS = 1000;

/** A UTC hour given as ISO-8601 (`2026-11-30T09:00:00Z`, floored to the hour) or as `yyyymmddhh`. */
export function parseHour(value: string, field: string): Date {
  const compact = /^(\d{4})(\d{2})(\d{2})(\d{2})$/.exec(value);
  const d = compact
    ? new Date(Date.UTC(Number(compact[1]), Number(compact[2]) - 1, Number(compact[3]), Number(compact[4])))
    : new Date(value);
  if (Number.isNaN(d.getTime()) || (compact && hourPartition(d) !== value))
    throw new BadRequest(`"${field}" must be a UTC hour: 2026-11-30T09:00:00Z or 2026113009`);
  return new Date(Math.floor(d.getTime() / HOUR) * HOUR);
}

/**
 * GET /api/hours?from=…&to=…[&keys=N]: per UTC hour (inclusive range, at most a week), across every blob the
 * ledger knows for it: blobs seen, complete, lagging (behind what is committed), failed and pending (read
 * to what was seen, hour or grace not over yet), with up to N blob keys per state. One partition query per
 * hour.
 */
export async function listHours(request: HttpRequest, context: InvocationContext): Promise<HttpResponseInit> {
  return guarded(context, async () => {
    const fromRaw = request.query.get('from');
    if (!fromRaw) throw new BadRequest('"from" is required: a UTC hour, e.g. 2026-11-30T09:00:00Z');
    const from = parseHour(fromRaw, 'from');
    const to = parseHour(request.query.get('to') ?? fromRaw, 'to');
    if (to < from) throw new BadRequest('"to" is before "from"');
    const count = (to.getTime() - from.getTime()) / HOUR + 1;
    if (count > MAX_HOURS) throw new BadRequest(`at most ${MAX_HOURS} hours at once`);
    const keysRaw = request.query.get('keys') ?? String(DEFAULT_KEYS);
    const maxKeys = Number(keysRaw);
    if (!Number.isInteger(maxKeys) || maxKeys < 0 || maxKeys > MAX_KEYS)
      throw new BadRequest(`"keys" must be a whole number from 0 to ${MAX_KEYS}`);
    const { ledger, config } = appServices();
    const hours = Array.from({ length: count }, (_, i) => hourPartition(new Date(from.getTime() + i * HOUR)));
    const summaries: HourSummary[] = [];
    for (let i = 0; i < hours.length; i += PARALLEL)
      summaries.push(
        ...(await Promise.all(hours.slice(i, i + PARALLEL).map((h) => ledger.summarizeHour(h, maxKeys)))),
      );
    const graceMs = config.hourGraceMs;
    return json(200, {
      from: from.toISOString(),
      to: to.toISOString(),
      graceMinutes: graceMs / 60_000,
      hours: summaries.map((s, i) => {
        const start = from.getTime() + i * HOUR;
        return {
          ...s,
          start: new Date(start).toISOString(),
          // Before this, no blob of the hour can be complete (Azure may still commit its last blocks).
          completeFrom: new Date(start + HOUR + graceMs).toISOString(),
        };
      }),
    });
  });
}

app.http(names.listHours, { methods: ['GET'], authLevel: 'function', route: 'hours', handler: listHours });
