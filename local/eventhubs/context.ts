// What the per-concern handlers share: the store, the fault plan, counters and reply scheduling.

import type { Connection } from 'rhea';
import type { Faults } from './faults';
import type { HubStore } from './store';

export interface Counters {
  /** Transfers received on hub sender links, refused ones included. */
  sends: number;
  /** Transfers accepted and stored (each one is a batch, even of one event). */
  batches: number;
  /** Events stored. */
  events: number;
  /** Sends refused or connections dropped by an injected fault. */
  faultsInjected: number;
}

export interface ServerContext {
  readonly store: HubStore;
  readonly faults: Faults;
  readonly counters: Counters;
  /** Advertised on every link the server receives on, and enforced on hub sends. */
  readonly maxMessageSize: number;
  /** Runs `fn` now, or after the injected reply delay; pending delays are cancelled by stop(). */
  reply(fn: () => void): void;
  /** Cuts the connection's socket abruptly, as a network failure would. */
  dropConnection(connection: Connection): void;
}
