// Messages between the offline stack (parent) and its emulator process (local/emulators/child.ts), sent
// over the fork IPC channel with the 'advanced' (structured clone) serialization.

import type { AzuriteOptions } from '../azurite';
import type { Counters, EventHubsServerOptions } from '../eventhubs';

export interface EmulatorStartRequest {
  readonly kind: 'start';
  readonly azurite: AzuriteOptions;
  readonly eventHubs: EventHubsServerOptions;
}

/** Fault controls that can cross the channel (no functions: a seeded rng stays in-process only). */
export type RemoteFault =
  | { readonly method: 'failNextSends'; readonly args: [number, string?, string?] }
  | { readonly method: 'dropConnectionOnNextSend'; readonly args: [{ afterStoring?: boolean }?] }
  | { readonly method: 'delayReplies'; readonly args: [number] }
  | { readonly method: 'failSendProbability'; readonly args: [number, undefined, string?] }
  | { readonly method: 'reset'; readonly args: [] };

export type ParentMessage =
  | EmulatorStartRequest
  | { readonly kind: 'call'; readonly id: number; readonly op: 'usage' | 'stop' }
  /** Forward every stored event; with `bodyFields`, only those fields of each JSON body. */
  | { readonly kind: 'subscribe'; readonly sub: number; readonly bodyFields?: readonly string[] }
  | { readonly kind: 'unsubscribe'; readonly sub: number }
  | ({ readonly kind: 'fault' } & RemoteFault);

export interface ProcessUsage {
  readonly pid: number;
  readonly cpu: NodeJS.CpuUsage;
  readonly maxRssKb: number;
  readonly rssBytes: number;
}

/**
 * A stored event as forwarded. Bodies that are not JSON travel once (`body` is the bytes, `bodyIsBytes`);
 * the bytes of a JSON body stay in the child, its parsed form is what listeners get.
 */
export interface WireEvent {
  readonly bodyIsBytes: boolean;
  readonly hub: string;
  readonly partitionId: string;
  readonly sequenceNumber: number;
  readonly offset: string;
  readonly enqueuedTime: number;
  readonly body: unknown;
  readonly messageId: string | number | Uint8Array | undefined;
  readonly correlationId: string | number | Uint8Array | undefined;
  readonly contentType: string | undefined;
  readonly partitionKey: string | undefined;
  readonly properties: Readonly<Record<string, unknown>>;
}

export type ChildMessage =
  | {
      readonly kind: 'ready';
      readonly azurite: { readonly blobEndpoint: string; readonly tableEndpoint: string };
      readonly eventHubsPort: number;
    }
  | { readonly kind: 'failed'; readonly message: string; readonly stack: string | undefined }
  | { readonly kind: 'result'; readonly id: number; readonly value: unknown }
  | { readonly kind: 'error'; readonly id: number; readonly message: string }
  | {
      readonly kind: 'events';
      readonly batches: readonly { readonly sub: number; readonly events: readonly WireEvent[] }[];
      readonly counters: Counters;
      readonly openConnections: number;
    };
