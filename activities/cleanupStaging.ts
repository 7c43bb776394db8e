import type { InvocationContext } from '@azure/functions';
import * as df from 'durable-functions';
import { names } from '../app/names';
import { appServices } from '../app/services';

/** Deletes a finished run's staging blobs (quarantined records stay). Idempotent. */
export async function cleanupStaging(
  input: { prefix: string },
  _context: InvocationContext,
): Promise<number> {
  if (!input?.prefix?.endsWith('/')) throw new Error('cleanupStaging needs {prefix} ending in /');
  return appServices().staging.deletePrefix(input.prefix);
}

df.app.activity(names.cleanupStaging, { handler: cleanupStaging });
