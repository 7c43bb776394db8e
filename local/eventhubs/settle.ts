// Settling received deliveries (accept / reject) so that every client learns its own delivery's outcome.
//
// rhea 3.0.5 writes the settlements one session made in one tick as disposition frames over ranges of
// delivery ids (session.js `write_dispositions`), and its first range takes the second delivery whatever
// that delivery's outcome is (the outcome check is skipped while the range holds one delivery). So a send
// refused in the same tick as an accepted one before it was reported to the producer as accepted: the
// producer counted a batch the server never stored. Concurrent sends on one connection (several emit
// activities sharing a producer) made that happen; it lost summaries in the app's fan-out tests.
//
// The remedy here: within one tick a session's settlements all carry the same outcome. One that differs
// waits, with everything after it, for a later turn of the event loop, when rhea has written the ones
// before it (rhea writes on process.nextTick, which runs before setImmediate).

import type { AmqpError, Delivery, Session } from 'rhea';

export type Outcome =
  | { readonly kind: 'accepted' }
  | { readonly kind: 'rejected'; readonly error: AmqpError };

interface SessionSettlements {
  /** The outcome every settlement made in the current tick carries. */
  tickOutcome: string | undefined;
  readonly waiting: { delivery: Delivery; outcome: Outcome; key: string }[];
  scheduled: boolean;
}

const sessions = new WeakMap<Session, SessionSettlements>();

const outcomeKey = (o: Outcome): string =>
  o.kind === 'accepted' ? 'accepted' : `rejected\u0000${o.error.condition}\u0000${o.error.description ?? ''}`;

function apply(delivery: Delivery, outcome: Outcome): void {
  // A link closed meanwhile (client gone, connection dropped) has nobody to tell.
  if (!delivery.link.is_open()) return;
  if (outcome.kind === 'accepted') delivery.accept();
  else delivery.reject(outcome.error);
}

function nextTurn(session: Session, state: SessionSettlements): void {
  state.scheduled = false;
  state.tickOutcome = undefined;
  const first = state.waiting[0];
  if (first === undefined) return;
  // Settle the longest run of one outcome now; the rest waits for the next turn.
  state.tickOutcome = first.key;
  while (state.waiting[0]?.key === state.tickOutcome) {
    const next = state.waiting.shift()!;
    apply(next.delivery, next.outcome);
  }
  schedule(session, state);
}

function schedule(session: Session, state: SessionSettlements): void {
  if (state.scheduled) return;
  state.scheduled = true;
  setImmediate(() => nextTurn(session, state));
}

/** Accepts or rejects a received delivery, never in the same tick as a different outcome on its session. */
export function settle(delivery: Delivery, outcome: Outcome): void {
  const session = delivery.link.session;
  let state = sessions.get(session);
  if (state === undefined) {
    state = { tickOutcome: undefined, waiting: [], scheduled: false };
    sessions.set(session, state);
  }
  const key = outcomeKey(outcome);
  if (state.waiting.length === 0 && (state.tickOutcome === undefined || state.tickOutcome === key)) {
    state.tickOutcome = key;
    apply(delivery, outcome);
  } else {
    state.waiting.push({ delivery, outcome, key });
  }
  schedule(session, state);
}
