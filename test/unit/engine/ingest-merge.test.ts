import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { type EngineDeps, ingestBatch, ingestRaw } from '../../../src/domain/engine/ingest.ts';
import type { OutboxRow, Profile } from '../../../src/domain/engine/model.ts';
import type {
  CommitResult,
  EventReceipt,
  ManyRead,
  ReceiptResult,
  SubjectCommit,
  SubjectStore,
} from '../../../src/domain/engine/ports.ts';

const birth = readFileSync(resolve('events/samples/civil.birth-registered.jsonl'), 'utf8').split('\n')[0]!;

/** Stores profiles and receipts; `lostAnswers` puts are applied and then reported as refused. */
class MemoryStore implements SubjectStore {
  readonly profiles = new Map<string, Profile>();
  readonly receipts = new Map<string, string>();
  lostAnswers = 0;
  puts = 0;
  async getProfile(subject: string): Promise<Profile | undefined> {
    return this.profiles.get(subject);
  }
  async getMany(subjects: string[], eventIds: string[]): Promise<ManyRead> {
    const out: ManyRead = { profiles: new Map(), receipts: new Map() };
    for (const s of subjects) if (this.profiles.has(s)) out.profiles.set(s, this.profiles.get(s)!);
    for (const id of eventIds) if (this.receipts.has(id)) out.receipts.set(id, this.receipts.get(id)!);
    return out;
  }
  async keepReceipt(r: EventReceipt): Promise<ReceiptResult> {
    const stored = this.receipts.get(r.eventId);
    if (stored === undefined) {
      this.receipts.set(r.eventId, r.bodyHash);
      return 'new';
    }
    return stored === r.bodyHash ? 'known' : { conflict: stored };
  }
  async commit(c: SubjectCommit): Promise<CommitResult> {
    if ((this.profiles.get(c.profile.subject)?.version ?? 0) !== c.expectedVersion)
      return { ok: false, reason: 'version-conflict' };
    this.puts++;
    this.profiles.set(c.profile.subject, c.profile);
    if (this.lostAnswers > 0) {
      // Applied; the answer is lost and the SDK's retry of the same put is refused by its condition.
      this.lostAnswers--;
      return { ok: false, reason: 'version-conflict' };
    }
    return { ok: true };
  }
  async pendingOutbox(): Promise<OutboxRow[]> {
    return [];
  }
}

const deps = (store: SubjectStore): EngineDeps =>
  ({
    store,
    quarantine: { keep: async () => {} },
    relay: { relay: async () => {} },
    clock: { now: () => new Date('2026-03-15T02:00:00Z') },
    pseudonymKey: Buffer.alloc(32, 7),
    reviewAmountThreshold: 500000,
  }) as unknown as EngineDeps;

describe('ingest: receipt first, then the facts; what asks for an evaluation', () => {
  it('a first delivery changes the facts; a redelivery merges again without a write and still asks', async () => {
    const store = new MemoryStore();
    const first = await ingestRaw(deps(store), birth, { deliveryKey: 'm1' });
    const again = await ingestRaw(deps(store), birth, { deliveryKey: 'm1' });
    expect(first).toMatchObject({ status: 'accepted', factsChanged: true });
    expect(again).toMatchObject({ status: 'duplicate', factsChanged: false });
    expect(store.puts).toBe(1);
  });

  it('a crash between receipt and facts: the redelivery merges the facts', async () => {
    const store = new MemoryStore();
    const failing = deps(store);
    failing.store = Object.assign(Object.create(store), {
      commit: async () => {
        throw new Error('network');
      },
    }) as SubjectStore;
    await expect(ingestRaw(failing, birth, { deliveryKey: 'm1' })).rejects.toThrow('network');
    expect(store.receipts.size).toBe(1);
    expect(store.profiles.size).toBe(0);
    const redelivered = await ingestRaw(deps(store), birth, { deliveryKey: 'm1' });
    expect(redelivered).toMatchObject({ status: 'duplicate', factsChanged: true });
    expect(store.profiles.size).toBe(1);
  });

  it('a put applied whose answer was lost still counts as a change (the evaluation is asked for)', async () => {
    const store = new MemoryStore();
    store.lostAnswers = 1;
    const [outcome] = await ingestBatch(deps(store), [{ raw: birth, meta: { deliveryKey: 'm1' } }]);
    expect(outcome).toMatchObject({ status: 'accepted', factsChanged: true });
    expect(store.puts).toBe(1);
  });

  it('the same id with another body is refused as an id conflict', async () => {
    const store = new MemoryStore();
    await ingestRaw(deps(store), birth, { deliveryKey: 'm1' });
    const other = birth.replace('"hukouRegion":"110105"', '"hukouRegion":"110108"');
    const outcome = await ingestRaw(deps(store), other, { deliveryKey: 'm2' });
    expect(outcome).toMatchObject({ status: 'rejected' });
    expect(outcome.status === 'rejected' && outcome.reason).toMatch(/^id-conflict/);
  });
});
