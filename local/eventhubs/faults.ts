// Faults the test server can inject into sends and replies, chosen by the test.

/** Error conditions the real service uses on refused sends (the SDK maps them to error names). */
export type SendErrorCondition =
  | 'com.microsoft:server-busy' // ServerBusyError, retried by the SDK
  | 'com.microsoft:timeout' // OperationTimeoutError, retried
  | 'amqp:internal-error' // InternalServerError, retried
  | 'amqp:resource-limit-exceeded' // QuotaExceededError, not retried
  | 'amqp:link:message-size-exceeded' // MessageTooLargeError, not retried
  | 'amqp:unauthorized-access' // UnauthorizedError
  | 'amqp:not-found' // ServiceCommunicationError
  | (string & {});

export interface SendError {
  readonly condition: SendErrorCondition;
  readonly description: string;
}

export interface FaultControls {
  /** Refuses the next `n` sends (batches) with `condition`; they are not stored. */
  failNextSends(n: number, condition?: SendErrorCondition, description?: string): void;
  /**
   * Drops the TCP connection when the next send arrives, without settling it. By default the batch
   * is lost; with `afterStoring` it is stored first, so the SDK's retry makes a duplicate (the
   * at-least-once case of a lost acknowledgement).
   */
  dropConnectionOnNextSend(options?: { afterStoring?: boolean }): void;
  /** Delays every reply (send outcomes, $cbs and $management responses) by `ms`; 0 turns it off. */
  delayReplies(ms: number): void;
  /** Refuses each send with probability `p` drawn from `rng` (pass a seeded one for reproducibility). */
  failSendProbability(p: number, rng?: () => number, condition?: SendErrorCondition): void;
  /** Clears every pending and standing fault. */
  reset(): void;
}

export type SendFault =
  | { readonly kind: 'reject'; readonly error: SendError }
  | { readonly kind: 'drop'; readonly afterStoring: boolean };

export class Faults implements FaultControls {
  private queued: SendError[] = [];
  private drop: { afterStoring: boolean } | undefined;
  private probability = 0;
  private rng: () => number = Math.random;
  private probabilityCondition: SendErrorCondition = 'com.microsoft:server-busy';
  replyDelayMs = 0;

  failNextSends(
    n: number,
    condition: SendErrorCondition = 'com.microsoft:server-busy',
    description?: string,
  ) {
    if (!Number.isInteger(n) || n < 0)
      throw new RangeError(`failNextSends: n must be a whole number, got ${n}`);
    const error = { condition, description: description ?? `injected fault: ${condition}` };
    for (let i = 0; i < n; i++) this.queued.push(error);
  }

  dropConnectionOnNextSend(options: { afterStoring?: boolean } = {}) {
    this.drop = { afterStoring: options.afterStoring ?? false };
  }

  delayReplies(ms: number) {
    if (!(ms >= 0)) throw new RangeError(`delayReplies: ms must be >= 0, got ${ms}`);
    this.replyDelayMs = ms;
  }

  failSendProbability(
    p: number,
    rng: () => number = Math.random,
    condition: SendErrorCondition = 'com.microsoft:server-busy',
  ) {
    if (!(p >= 0 && p <= 1)) throw new RangeError(`failSendProbability: p must be in [0, 1], got ${p}`);
    this.probability = p;
    this.rng = rng;
    this.probabilityCondition = condition;
  }

  reset() {
    this.queued = [];
    this.drop = undefined;
    this.probability = 0;
    this.rng = Math.random;
    this.replyDelayMs = 0;
  }

  /** Consumes the fault, if any, that applies to the send that just arrived. */
  takeSendFault(): SendFault | undefined {
    if (this.drop !== undefined) {
      const { afterStoring } = this.drop;
      this.drop = undefined;
      return { kind: 'drop', afterStoring };
    }
    const queued = this.queued.shift();
    if (queued !== undefined) return { kind: 'reject', error: queued };
    if (this.probability > 0 && this.rng() < this.probability) {
      const condition = this.probabilityCondition;
      return { kind: 'reject', error: { condition, description: `injected random fault: ${condition}` } };
    }
    return undefined;
  }
}
