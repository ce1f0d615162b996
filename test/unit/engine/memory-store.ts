import type { OutboxRow, Profile } from '../../../src/domain/engine/model.ts';
import type {
  CommitResult,
  EventReceipt,
  ManyRead,
  ReceiptResult,
  SubjectCommit,
  SubjectStore,
} from '../../../src/domain/engine/ports.ts';

/**
 * An in-memory subject store for the engine's unit tests: counts its calls; can be told to fail or
 * stall the batch read, leave subjects unread, or apply puts and then lose their answers.
 */
export class MemoryStore implements SubjectStore {
  readonly profiles = new Map<string, Profile>();
  readonly receipts = new Map<string, string>();
  calls = { getProfile: 0, getMany: 0, commit: 0, keepReceipt: 0 };
  manyRead: 'ok' | 'fail' | 'stall' = 'ok';
  unread = new Set<string>();
  /** This many puts are applied, then reported as refused (the SDK's retry of a put whose answer was lost). */
  lostAnswers = 0;
  /** Profiles written. */
  puts = 0;

  async getProfile(subject: string): Promise<Profile | undefined> {
    this.calls.getProfile++;
    return this.profiles.get(subject);
  }
  async getMany(subjects: string[], eventIds: string[]): Promise<ManyRead> {
    this.calls.getMany++;
    if (this.manyRead === 'fail') throw new Error('throttled');
    if (this.manyRead === 'stall') await new Promise((r) => setTimeout(r, 200));
    const out: ManyRead = { profiles: new Map(), receipts: new Map(), unread: this.unread };
    for (const s of subjects) {
      const p = this.profiles.get(s);
      if (p && !this.unread.has(s)) out.profiles.set(s, p);
    }
    for (const id of eventIds) {
      const h = this.receipts.get(id);
      if (h) out.receipts.set(id, h);
    }
    return out;
  }
  async keepReceipt(r: EventReceipt): Promise<ReceiptResult> {
    this.calls.keepReceipt++;
    const stored = this.receipts.get(r.eventId);
    if (stored === undefined) {
      this.receipts.set(r.eventId, r.bodyHash);
      return 'new';
    }
    return stored === r.bodyHash ? 'known' : { conflict: stored };
  }
  async commit(c: SubjectCommit): Promise<CommitResult> {
    this.calls.commit++;
    const current = this.profiles.get(c.profile.subject)?.version ?? 0;
    if (current !== c.expectedVersion) return { ok: false, reason: 'version-conflict' };
    if (!c.profileChanged) return { ok: true };
    this.puts++;
    this.profiles.set(c.profile.subject, c.profile);
    if (this.lostAnswers > 0) {
      this.lostAnswers--;
      return { ok: false, reason: 'version-conflict' };
    }
    return { ok: true };
  }
  async pendingOutbox(): Promise<OutboxRow[]> {
    return [];
  }
}
