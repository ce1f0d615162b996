import { describe, expect, it } from 'vitest';
import { BatchStore } from '../../../src/domain/engine/batch-store.ts';
import type { Profile } from '../../../src/domain/engine/model.ts';
import type { EventReceipt, SubjectCommit } from '../../../src/domain/engine/ports.ts';
import { MemoryStore } from './memory-store.ts';

const profile = (subject: string, version: number): Profile => ({
  subject,
  kind: 'person',
  facts: {},
  version,
  decided: {},
});

const commitOf = (p: Profile): SubjectCommit => ({
  profile: { ...p, version: p.version + 1 },
  expectedVersion: p.version,
  profileChanged: true,
  newDecisions: [],
  flags: [],
  ledger: [],
  outbox: [],
});

const receipt = (eventId: string, bodyHash: string): EventReceipt => ({
  eventId,
  bodyHash,
  subject: 'a',
  source: 'hrss',
  receivedAt: '2026-01-01T00:00:00Z',
});

describe('BatchStore: one read for a batch, the same answers as the store', () => {
  it('serves the batch read, then what the batch committed, without reading again', async () => {
    // Prepare
    const store = new MemoryStore();
    store.profiles.set('a', profile('a', 3));
    const batch = await BatchStore.read(store, ['a', 'b', 'a'], []);
    // Act
    const a = await batch.getProfile('a');
    const b = await batch.getProfile('b');
    expect(await batch.commit(commitOf(a!))).toEqual({ ok: true });
    const again = await batch.getProfile('a');
    // Assess
    expect(a?.version).toBe(3);
    expect(b).toBeUndefined();
    expect(again?.version).toBe(4);
    expect(store.calls).toEqual({ getProfile: 0, getMany: 1, commit: 1, keepReceipt: 0 });
  });

  it('answers a known receipt without a write: known for the same body, a conflict for another', async () => {
    const store = new MemoryStore();
    store.receipts.set('e1', 'hash-1');
    const batch = await BatchStore.read(store, ['a'], ['e1', 'e2']);
    expect(await batch.keepReceipt(receipt('e1', 'hash-1'))).toBe('known');
    expect(await batch.keepReceipt(receipt('e1', 'hash-2'))).toEqual({ conflict: 'hash-1' });
    expect(store.calls.keepReceipt).toBe(0);
    // An unknown receipt goes to the store; once kept, the batch knows it too.
    expect(await batch.keepReceipt(receipt('e2', 'hash-3'))).toBe('new');
    expect(await batch.keepReceipt(receipt('e2', 'hash-3'))).toBe('known');
    expect(await batch.keepReceipt(receipt('e2', 'hash-4'))).toEqual({ conflict: 'hash-3' });
    expect(store.calls.keepReceipt).toBe(1);
  });

  it('drops a profile another writer changed: the retry reads the store', async () => {
    const store = new MemoryStore();
    store.profiles.set('a', profile('a', 1));
    const batch = await BatchStore.read(store, ['a'], []);
    const stale = (await batch.getProfile('a'))!;
    store.profiles.set('a', profile('a', 2)); // someone else
    expect(await batch.commit(commitOf(stale))).toEqual({ ok: false, reason: 'version-conflict' });
    const fresh = await batch.getProfile('a');
    expect(fresh?.version).toBe(2);
    expect(store.calls.getProfile).toBe(1);
  });

  it.each(['fail', 'stall'] as const)('reads record by record when the batch read would %s', async (mode) => {
    const store = new MemoryStore();
    store.profiles.set('a', profile('a', 5));
    store.manyRead = mode;
    const batch = await BatchStore.read(store, ['a'], [], 50);
    expect((await batch.getProfile('a'))?.version).toBe(5);
    expect(store.calls.getProfile).toBe(1);
  });

  it('reads one by one the subjects the store left unread, and does not take them for absent', async () => {
    const store = new MemoryStore();
    store.profiles.set('a', profile('a', 1));
    store.profiles.set('b', profile('b', 7));
    store.unread = new Set(['b']);
    const batch = await BatchStore.read(store, ['a', 'b'], []);
    expect((await batch.getProfile('a'))?.version).toBe(1);
    expect((await batch.getProfile('b'))?.version).toBe(7);
    expect(store.calls.getProfile).toBe(1);
  });
});
