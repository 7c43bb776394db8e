// Request/response over link pairs ($cbs, $management): the reply goes to the client's receiver
// link named by the request's reply_to, with correlation_id set to the request's message_id.

import type { Connection, Message, Sender } from 'rhea';
import { asString } from './codec';
import type { ServerContext } from './context';

export interface Reply {
  readonly status: number;
  readonly description: string;
  readonly condition?: string;
  readonly body?: unknown;
}

export function respond(ctx: ServerContext, connection: Connection, request: Message, reply: Reply): void {
  const replyTo = asString(request.reply_to);
  if (replyTo === undefined) return;
  const properties: Record<string, unknown> = {
    'status-code': reply.status,
    'status-description': reply.description,
  };
  if (reply.condition !== undefined) properties['error-condition'] = reply.condition;
  const message = {
    correlation_id: request.message_id,
    application_properties: properties,
    body: reply.body,
  };
  ctx.reply(() => {
    const link = connection.find_sender(
      (s: Sender) => s.name === replyTo || asString(s.target?.address) === replyTo,
    );
    if (link?.is_open()) link.send(message);
  });
}
