import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { BudgetExceeded, recordBudgetMs } from '../../../src/domain/engine/budget.ts';
import {
  type EngineDeps,
  ingestBatch,
  ingestRaw,
  reevaluateSubjects,
} from '../../../src/domain/engine/ingest.ts';
import type { SubjectStore } from '../../../src/domain/engine/ports.ts';
import { pseudonymise } from '../../../src/domain/pseudonym.ts';
import { MemoryStore } from './memory-store.ts';

const birth = readFileSync(resolve('events/samples/civil.birth-registered.jsonl'), 'utf8').split('\n')[0]!;

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

  it('of two bodies under one id in one batch, the first is kept and the later refused, whatever the timing', async () => {
    // Prepare: the same id about two different children; the store answers the first one slowly.
    const store = new MemoryStore();
    const event = JSON.parse(birth) as { subject: { id: string } };
    event.subject.id = '110108199111020139'; // another valid identity number
    const second = JSON.stringify(event);
    const slow = Object.assign(Object.create(store), {
      keepReceipt: async (r: Parameters<SubjectStore['keepReceipt']>[0]) => {
        if (r.subject === slowSubject) await new Promise((ok) => setTimeout(ok, 30));
        return store.keepReceipt(r);
      },
    }) as SubjectStore;
    let slowSubject = '';
    const first = await ingestRaw(deps(new MemoryStore()), birth, { deliveryKey: 'x' });
    slowSubject = first.status === 'accepted' ? first.subject : '';
    expect(slowSubject).not.toBe('');
    // Act
    const [a, b] = await ingestBatch(deps(slow), [
      { raw: birth, meta: { deliveryKey: 'm1' } },
      { raw: second, meta: { deliveryKey: 'm2' } },
    ]);
    // Assess
    expect(a).toMatchObject({ status: 'accepted' });
    expect(b).toMatchObject({ status: 'rejected', reason: expect.stringMatching(/^id-conflict/) });
  });

  it('an event fails with an earlier one of the same id that failed, so the earlier is still the one kept', async () => {
    // Prepare: the store fails the first event's receipt once.
    const store = new MemoryStore();
    const event = JSON.parse(birth) as { subject: { id: string } };
    event.subject.id = '110108199111020139';
    const second = JSON.stringify(event);
    let failures = 1;
    const flaky = Object.assign(Object.create(store), {
      keepReceipt: async (r: Parameters<SubjectStore['keepReceipt']>[0]) => {
        if (failures-- > 0) throw new Error('network');
        return store.keepReceipt(r);
      },
    }) as SubjectStore;
    // Act: both fail now; redelivered in the same order, the first is kept.
    const [a, b] = await ingestBatch(deps(flaky), [
      { raw: birth, meta: { deliveryKey: 'm1' } },
      { raw: second, meta: { deliveryKey: 'm2' } },
    ]);
    expect(a).toBeInstanceOf(Error);
    expect(b).toBeInstanceOf(Error);
    expect(store.receipts.size).toBe(0);
    const [a2, b2] = await ingestBatch(deps(flaky), [
      { raw: birth, meta: { deliveryKey: 'm1' } },
      { raw: second, meta: { deliveryKey: 'm2' } },
    ]);
    // Assess
    expect(a2).toMatchObject({ status: 'accepted' });
    expect(b2).toMatchObject({ status: 'rejected', reason: expect.stringMatching(/^id-conflict/) });
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

describe('a batch within its time budget: one slow subject fails only its own records', () => {
  const key = Buffer.alloc(32, 7);
  /** The birth sample under another id, about the child `child`. */
  const birthOf = (id: string, child: string) => {
    const event = JSON.parse(birth) as { id: string; subject: { id: string } };
    event.id = id;
    event.subject.id = child;
    return JSON.stringify(event);
  };
  const slowChild = '110105202503100248';
  const otherChild = '110108199111020139';
  /** A store that never answers about `subject` (a hot key the SDK keeps retrying). */
  const hanging = (store: MemoryStore, subject: string) => {
    const calls: string[] = [];
    const wrapped = Object.assign(Object.create(store), {
      keepReceipt: async (r: Parameters<SubjectStore['keepReceipt']>[0]) => {
        calls.push(r.eventId);
        if (r.subject === subject) await new Promise(() => undefined);
        return store.keepReceipt(r);
      },
      getProfile: async (s: string) => {
        if (s === subject) await new Promise(() => undefined);
        return store.getProfile(s);
      },
    }) as SubjectStore;
    return { wrapped, calls };
  };

  it('answers when the budget runs out: the slow subject’s events are BudgetExceeded, the others done, the queued one not started', async () => {
    // Prepare: two events about a subject whose store calls never return, one about another.
    const store = new MemoryStore();
    store.manyRead = 'fail';
    const { wrapped, calls } = hanging(store, pseudonymise(key, slowChild));
    const started = Date.now();
    // Act
    const [a, b, c] = await ingestBatch(
      deps(wrapped),
      [
        { raw: birthOf('ca-1', slowChild), meta: { deliveryKey: 'm1' } },
        { raw: birthOf('ca-2', slowChild), meta: { deliveryKey: 'm2' } },
        { raw: birthOf('ca-3', otherChild), meta: { deliveryKey: 'm3' } },
      ],
      { budgetMs: 150 },
    );
    // Assess
    const took = Date.now() - started;
    expect(took).toBeGreaterThanOrEqual(140);
    expect(took).toBeLessThan(2_000);
    expect(a).toBeInstanceOf(BudgetExceeded);
    expect((a as Error).message).toMatch(/^not finished/);
    expect(b).toBeInstanceOf(BudgetExceeded);
    expect((b as Error).message).toMatch(/^not started/);
    expect(c).toMatchObject({ status: 'accepted', factsChanged: true });
    expect(calls).toEqual(['ca-1', 'ca-3']);
  });

  it('an event past the budget stops at its next step: no retry after a lost race, no write', async () => {
    // Prepare: the first commit answers late, refused by a concurrent update.
    const store = new MemoryStore();
    let commits = 0;
    const racing = Object.assign(Object.create(store), {
      commit: async () => {
        commits++;
        await new Promise((ok) => setTimeout(ok, 150));
        return { ok: false, reason: 'version-conflict' };
      },
    }) as SubjectStore;
    // Act
    const [outcome] = await ingestBatch(deps(racing), [{ raw: birth, meta: { deliveryKey: 'm1' } }], {
      budgetMs: 60,
    });
    await new Promise((ok) => setTimeout(ok, 300));
    // Assess: reported unfinished; the refused commit was not tried again after the budget.
    expect(outcome).toBeInstanceOf(BudgetExceeded);
    expect(commits).toBe(1);
  });

  it('a profile read answering after the budget leads to no commit', async () => {
    // Prepare: the profile read answers late (the SDK backing off); the batch read fails.
    const store = new MemoryStore();
    store.manyRead = 'fail';
    const late = Object.assign(Object.create(store), {
      getProfile: async (s: string) => {
        await new Promise((ok) => setTimeout(ok, 150));
        return store.getProfile(s);
      },
    }) as SubjectStore;
    // Act
    const [outcome] = await ingestBatch(deps(late), [{ raw: birth, meta: { deliveryKey: 'm1' } }], {
      budgetMs: 60,
    });
    await new Promise((ok) => setTimeout(ok, 300));
    // Assess: the receipt was kept (before the budget ran out), the facts were not written after it.
    expect(outcome).toBeInstanceOf(BudgetExceeded);
    expect(store.receipts.size).toBe(1);
    expect(store.calls.commit).toBe(0);
    expect(store.profiles.size).toBe(0);
  });

  it('a commit under way when the budget runs out is given a signal that aborts then', async () => {
    const store = new MemoryStore();
    const signals: Array<AbortSignal | undefined> = [];
    const slow = Object.assign(Object.create(store), {
      commit: async (c: Parameters<SubjectStore['commit']>[0], signal?: AbortSignal) => {
        signals.push(signal);
        await new Promise((ok) => setTimeout(ok, 150));
        return store.commit(c);
      },
    }) as SubjectStore;
    const [outcome] = await ingestBatch(deps(slow), [{ raw: birth, meta: { deliveryKey: 'm1' } }], {
      budgetMs: 60,
    });
    expect(outcome).toBeInstanceOf(BudgetExceeded);
    expect(signals).toHaveLength(1);
    expect(signals[0]?.aborted).toBe(true);
    expect(signals[0]?.reason).toBeInstanceOf(BudgetExceeded);
  });

  it('without a budget the same batch waits for the slow subject', async () => {
    const store = new MemoryStore();
    const { wrapped } = hanging(store, pseudonymise(key, slowChild));
    const outcome = await Promise.race([
      ingestBatch(deps(wrapped), [{ raw: birthOf('ca-1', slowChild), meta: { deliveryKey: 'm1' } }]),
      new Promise((r) => setTimeout(() => r('still waiting'), 300)),
    ]);
    expect(outcome).toBe('still waiting');
  });

  it('evaluations too: a subject whose profile never arrives is BudgetExceeded, the others are evaluated', async () => {
    // Prepare: the batch read leaves the slow subject unread, so it is read alone (and hangs).
    const store = new MemoryStore();
    const slow = pseudonymise(key, slowChild);
    store.unread = new Set([slow]);
    const { wrapped } = hanging(store, slow);
    // Act
    const results = await reevaluateSubjects(
      deps(wrapped),
      [{ subject: slow }, { subject: pseudonymise(key, otherChild) }],
      { budgetMs: 100 },
    );
    // Assess: the other subject has no profile, so nothing to grant.
    expect(results[0]).toBeInstanceOf(BudgetExceeded);
    expect(results[1]).toBe(0);
  });

  it('the budget leaves a fifth of the invocation (0.1 to 5 s) for what follows the records', () => {
    expect(recordBudgetMs(10_000)).toBe(8_000);
    expect(recordBudgetMs(800)).toBe(640);
    expect(recordBudgetMs(30_000)).toBe(25_000);
    expect(recordBudgetMs(300_000)).toBe(295_000);
    expect(recordBudgetMs(300)).toBe(200);
    expect(recordBudgetMs(50)).toBe(0);
  });
});
