import type { OutboxRow, Profile } from './model.ts';
import type {
  CommitResult,
  EventReceipt,
  ManyRead,
  ReceiptResult,
  SubjectCommit,
  SubjectStore,
} from './ports.ts';

/**
 * A subject store for one batch of records: the batch's profiles and receipts are read with one
 * request up front ({@link BatchStore.read}), and each profile the batch commits replaces the one
 * read, so the next record of the same subject starts from it without another read.
 *
 * It only saves requests, never decides differently: a profile read up front is what a read at
 * that moment would have returned; when another writer changed it since, the commit's version
 * condition fails as it would have, the cached profile is dropped and the retry reads the store.
 * A receipt found up front exists (receipts are never deleted), so keeping it again would find it:
 * the redelivery or id conflict is answered without a write.
 */
export class BatchStore implements SubjectStore {
  /** Profiles read or committed by this batch; `null`: known not to exist when read. */
  private readonly profiles = new Map<string, Profile | null>();
  private readonly receipts: Map<string, string>;

  private constructor(
    private readonly store: SubjectStore,
    subjects: string[],
    read: ManyRead,
  ) {
    for (const s of subjects) this.profiles.set(s, read.profiles.get(s) ?? null);
    this.receipts = read.receipts;
  }

  /**
   * Reads the profiles of `subjects` and the receipts of `eventIds` with one store request. When
   * that read fails or takes longer than `budgetMs` (the store retrying a throttled key), nothing is
   * cached and each record reads for itself: a failure tied to one subject (a hot key, a throttled
   * partition) then fails only that subject's records, not the batch, and in about the time it
   * would have taken without the batch read.
   */
  static async read(
    store: SubjectStore,
    subjects: string[],
    eventIds: string[],
    budgetMs = 500,
  ): Promise<BatchStore> {
    const unique = [...new Set(subjects)];
    const none: ManyRead = { profiles: new Map(), receipts: new Map() };
    if (unique.length + eventIds.length === 0) return new BatchStore(store, [], none);
    // Past the budget the read is abandoned (and aborted, so its retries stop).
    const abort = new AbortController();
    let timer: ReturnType<typeof setTimeout> | undefined;
    const late = new Promise<undefined>((resolve) => {
      timer = setTimeout(() => {
        abort.abort();
        resolve(undefined);
      }, budgetMs);
    });
    const read = store.getMany(unique, eventIds, abort.signal).catch(() => undefined);
    try {
      const got = await Promise.race([read, late]);
      if (!got) return new BatchStore(store, [], none);
      // Subjects left unread (keys the store gave up on) are read one by one.
      return new BatchStore(
        store,
        unique.filter((s) => got.profiles.has(s) || !got.unread?.has(s)),
        got,
      );
    } finally {
      clearTimeout(timer);
    }
  }

  async getProfile(subject: string): Promise<Profile | undefined> {
    const known = this.profiles.get(subject);
    if (known !== undefined) return known ?? undefined;
    return this.store.getProfile(subject);
  }

  getMany(subjects: string[], eventIds: string[], signal?: AbortSignal): Promise<ManyRead> {
    return this.store.getMany(subjects, eventIds, signal);
  }

  async keepReceipt(receipt: EventReceipt): Promise<ReceiptResult> {
    const stored = this.receipts.get(receipt.eventId);
    if (stored !== undefined) return stored === receipt.bodyHash ? 'known' : { conflict: stored };
    const result = await this.store.keepReceipt(receipt);
    const hash = typeof result === 'string' ? receipt.bodyHash : result.conflict;
    this.receipts.set(receipt.eventId, hash);
    return result;
  }

  async commit(change: SubjectCommit, signal?: AbortSignal): Promise<CommitResult> {
    const subject = change.profile.subject;
    let result: CommitResult;
    try {
      result = await this.store.commit(change, signal);
    } catch (e) {
      // Unknown whether it was written: read the store next time.
      this.profiles.delete(subject);
      throw e;
    }
    if (result.ok) {
      if (change.profileChanged) this.profiles.set(subject, change.profile);
    } else {
      this.profiles.delete(subject);
    }
    return result;
  }

  pendingOutbox(subject: string): Promise<OutboxRow[]> {
    return this.store.pendingOutbox(subject);
  }
}
