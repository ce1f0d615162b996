import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { type EngineDeps, ingestBatch, ingestRaw } from '../../../src/domain/engine/ingest.ts';
import type { SubjectStore } from '../../../src/domain/engine/ports.ts';
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
