/**
 * A real durable-functions DurableClient wired to the host, built the way a client function gets one:
 * `df.getClient(context)` on an InvocationContext whose durableClient input holds the binding data.
 * Tests use it to drive the HTTP client API exactly as app code does.
 */
import { InvocationContext } from '@azure/functions';
import * as df from 'durable-functions';
import type { DurableClientData } from './client-binding';

export function durableClientFor(data: DurableClientData): df.DurableClient {
  const clientInput = df.input.durableClient();
  const context = new InvocationContext({
    functionName: 'local-functions-host-client',
    options: { extraInputs: [clientInput] },
  });
  context.extraInputs.set(clientInput, data);
  return df.getClient(context);
}
