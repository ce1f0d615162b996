/**
 * Time budgets for a batch's records. A Lambda invocation that runs out of time fails its whole
 * batch: every record is delivered again, and a record that is slow on each receive (a throttled
 * hot key, the SDK backing off) takes the others of its batch to the dead-letter queue with it.
 * So a batch's records get a budget shorter than the invocation: what has not finished by then
 * is that record's failure alone, and the invocation still answers in time with the rest done.
 *
 * Work still running when the handler answers is not stopped: in Lambda it resumes when the
 * environment is next invoked. That is safe only where every write it can still make is
 * conditional or idempotent (ingest: version-checked profile puts, receipts; evaluate: grants
 * conditional on the profile version, relays deduplicated by the notify function). It makes no
 * commit once the budget has run out, and a commit under way is aborted then (no further SDK
 * attempt after a thaw), so a grant is never committed long after its request was answered, when
 * the redelivery may have looked for unrelayed outbox rows already. The notify function has no
 * budget: its deliveries are not conditional writes.
 */

/** The outcome of a record whose work had not finished when its batch's budget ran out. */
export class BudgetExceeded extends Error {
  override name = 'BudgetExceeded';
}

/** The outcome of a record still running when its batch's budget ran out. */
export const unfinished = (): BudgetExceeded =>
  new BudgetExceeded('not finished: the batch ran out of time (the store is slow or throttled)');

/** The outcome of a record that had not started when its batch's budget ran out. */
export const unstarted = (): BudgetExceeded =>
  new BudgetExceeded(
    'not started: the batch ran out of time (an earlier record of its subject or event id was slow)',
  );

/**
 * Milliseconds a batch's records may take, out of the `remainingMs` an invocation has: a fifth of
 * it (at least 100 ms, at most 5 s) is kept for what follows the records (sending requests on,
 * answering the event-source mapping).
 */
export function recordBudgetMs(remainingMs: number): number {
  const reserve = Math.min(5_000, Math.max(100, remainingMs * 0.2));
  return Math.max(0, Math.floor(remainingMs - reserve));
}

/**
 * A budget of `ms` milliseconds, started now: `expired` says whether it ran out, `whenExpired`
 * settles when it does (never, without a budget). `stop` clears its timer.
 */
export interface Budget {
  readonly expired: boolean;
  readonly whenExpired: Promise<void>;
  /** Aborted when the budget runs out: a write given it stops (the SDK sends no further attempt). */
  readonly signal: AbortSignal;
  stop(): void;
}

export function startBudget(ms: number | undefined): Budget {
  let expired = false;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const abort = new AbortController();
  const whenExpired =
    ms === undefined
      ? new Promise<void>(() => undefined)
      : new Promise<void>((resolve) => {
          timer = setTimeout(() => {
            expired = true;
            abort.abort(unfinished());
            resolve();
          }, ms);
          // Never what keeps a process alive.
          timer.unref?.();
        });
  return {
    get expired() {
      return expired;
    },
    whenExpired,
    signal: abort.signal,
    stop: () => clearTimeout(timer),
  };
}

/** Waits until every run has settled or the budget has run out, whichever comes first; then stops it. */
export async function settleWithin(runs: readonly Promise<unknown>[], budget: Budget): Promise<void> {
  try {
    await Promise.race([Promise.all(runs), budget.whenExpired]);
  } finally {
    budget.stop();
  }
}
