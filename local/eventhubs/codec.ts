// AMQP message decoding and encoding the way the Event Hubs service sees it.
// rhea decodes only message_format 0; a batch (format 0x80013700) arrives as raw bytes: an outer
// message whose body is a list of data sections, each holding one encoded inner message.

import { message as amqpMessage, type Message, types } from 'rhea';
import type { NewEvent, StoredEvent } from './store';

export const BATCH_MESSAGE_FORMAT = 0x80013700;

export const ANNOTATION = {
  partitionKey: 'x-opt-partition-key',
  sequenceNumber: 'x-opt-sequence-number',
  offset: 'x-opt-offset',
  enqueuedTime: 'x-opt-enqueued-time',
} as const;

/** rhea's body section object (not exported by its typings): 0x75 data, 0x76 sequence. */
interface BodySection {
  readonly typecode: number;
  readonly content: unknown;
  readonly multiple?: boolean;
}

const DATA_SECTION = 0x75;

function isBodySection(value: unknown): value is BodySection {
  return typeof value === 'object' && value !== null && 'typecode' in value && 'content' in value;
}

export function asRecord(value: unknown): Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Buffer.isBuffer(value)
    ? (value as Record<string, unknown>)
    : {};
}

export function asString(value: unknown): string | undefined {
  return typeof value === 'string' ? value : undefined;
}

function asMessageId(value: unknown): string | number | Buffer | undefined {
  return typeof value === 'string' || typeof value === 'number' || Buffer.isBuffer(value) ? value : undefined;
}

export interface DecodedSend {
  /** The inner messages with their encoded sizes (the sizes count toward partition offsets). */
  readonly inner: { message: Message; size: number }[];
  readonly partitionKey: string | undefined;
}

/** rhea types decode()'s result loosely; it is the same message shape it sends. */
export function decodeMessage(bytes: Buffer): Message {
  return amqpMessage.decode(bytes) as unknown as Message;
}

/** Decodes a batch transfer; throws on a malformed one. */
export function decodeBatch(payload: Buffer): DecodedSend {
  const outer = decodeMessage(payload);
  const body: unknown = outer.body;
  if (!isBodySection(body) || body.typecode !== DATA_SECTION) {
    throw new Error('batch message body is not a list of data sections');
  }
  const sections: unknown[] = body.multiple ? (body.content as unknown[]) : [body.content];
  const inner = sections.map((section) => {
    if (!Buffer.isBuffer(section)) throw new Error('batch data section is not binary');
    return { message: decodeMessage(section), size: section.length };
  });
  return { inner, partitionKey: asString(asRecord(outer.message_annotations)[ANNOTATION.partitionKey]) };
}

/** The fields of one inner message that tests assert on. */
export function describeMessage(message: Message): NewEvent {
  const properties = asRecord(message.application_properties);
  const annotations = asRecord(message.message_annotations);
  const { body, bodyBytes } = decodeBody(message.body);
  return {
    body,
    bodyBytes,
    messageId: asMessageId(message.message_id),
    correlationId: asMessageId(message.correlation_id),
    contentType: asString(message.content_type),
    partitionKey: asString(annotations[ANNOTATION.partitionKey]),
    properties: { ...properties },
  };
}

function decodeBody(raw: unknown): { body: unknown; bodyBytes: Buffer | undefined } {
  if (!isBodySection(raw)) return { body: raw, bodyBytes: undefined };
  if (raw.typecode !== DATA_SECTION) return { body: raw.content, bodyBytes: undefined };
  const parts = raw.multiple ? (raw.content as unknown[]) : [raw.content];
  const bytes = Buffer.concat(parts.filter((p): p is Buffer => Buffer.isBuffer(p)));
  try {
    return { body: JSON.parse(bytes.toString('utf8')) as unknown, bodyBytes: bytes };
  } catch {
    return { body: bytes, bodyBytes: bytes };
  }
}

/** The message delivered to a consumer: the event as sent plus the service's annotations. */
export function deliveryMessage({ event, message }: StoredEvent): Message {
  const annotations: Record<string, unknown> = {
    ...asRecord(message.message_annotations),
    [ANNOTATION.sequenceNumber]: types.wrap_long(event.sequenceNumber),
    [ANNOTATION.offset]: event.offset,
    [ANNOTATION.enqueuedTime]: types.wrap_timestamp(event.enqueuedTime.getTime()),
  };
  if (event.partitionKey !== undefined) annotations[ANNOTATION.partitionKey] = event.partitionKey;
  return { ...message, message_annotations: annotations } as Message;
}
