// $cbs: claims-based security. The client puts a SAS token for each audience before using it;
// the test server accepts every token.

import type { Connection, Message } from 'rhea';
import { asRecord } from './codec';
import type { ServerContext } from './context';
import { respond } from './reply';

export const CBS_ADDRESS = '$cbs';

export function handleCbsRequest(ctx: ServerContext, connection: Connection, request: Message): void {
  const props = asRecord(request.application_properties);
  if (props['operation'] !== 'put-token') {
    respond(ctx, connection, request, {
      status: 400,
      description: `unsupported $cbs operation ${String(props['operation'])}`,
      condition: 'amqp:not-implemented',
    });
    return;
  }
  respond(ctx, connection, request, { status: 202, description: 'Accepted' });
}
