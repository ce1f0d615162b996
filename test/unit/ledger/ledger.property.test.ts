import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type LedgerEntry, nextEntry, verifyLedgerFrom } from '../../../src/domain/ledger/index.ts';
import { MemoryLedger } from '../../../src/domain/ledger/memory.ts';

/** A random ledger: 1–4 chains of 1–7 entries, appended in a random interleaving, digested at the end. */
const ledgerArb = fc
  .record({
    lengths: fc.array(fc.integer({ min: 1, max: 7 }), { minLength: 1, maxLength: 4 }),
    amounts: fc.array(fc.integer({ min: 0, max: 10_000_000 }), { minLength: 28, maxLength: 28 }),
    order: fc.array(fc.nat(), { minLength: 28, maxLength: 28 }),
    midDigest: fc.option(fc.nat(), { nil: undefined }),
  })
  .map(({ lengths, amounts, order, midDigest }) => {
    const ledger = new MemoryLedger();
    const left = [...lengths];
    let n = 0;
    for (;;) {
      const open = left.flatMap((l, c) => (l > 0 ? [c] : []));
      if (open.length === 0) break;
      const c = open[order[n % order.length]! % open.length]!;
      left[c]!--;
      ledger.append({
        chain: `pn-${c}`,
        at: new Date(Date.UTC(2025, 0, 1, 0, n)).toISOString(),
        kind: n % 3 === 0 ? 'grant' : 'eligibility-changed',
        actor: 'engine',
        payload: { amount: amounts[n % amounts.length]!, period: '2025', eventIds: [`ev-${n}`] },
      });
      n++;
      if (midDigest !== undefined && midDigest % 28 === n)
        ledger.digest(new Date(Date.UTC(2025, 1, 1, 0, n)).toISOString());
    }
    ledger.digest('2025-12-31T00:00:00.000Z');
    return ledger;
  });

/** One way of tampering with a stored ledger; `pick` values are reduced modulo what exists. */
const tamperingArb = fc.oneof(
  fc.record({
    op: fc.constant('mutate' as const),
    chain: fc.nat(),
    at: fc.nat(),
    field: fc.constantFrom('amount', 'at', 'kind', 'actor', 'prevHash', 'seq', 'eventIds'),
    value: fc.jsonValue(),
  }),
  fc.record({ op: fc.constant('delete' as const), chain: fc.nat(), at: fc.nat() }),
  fc.record({ op: fc.constant('swap' as const), chain: fc.nat(), at: fc.nat(), other: fc.nat() }),
  fc.record({ op: fc.constant('duplicate' as const), chain: fc.nat(), at: fc.nat(), to: fc.nat() }),
  fc.record({ op: fc.constant('forge' as const), chain: fc.nat(), at: fc.nat(), amount: fc.nat() }),
  fc.record({
    op: fc.constant('truncate' as const),
    chain: fc.nat(),
    keep: fc.nat(),
    moveHead: fc.boolean(),
  }),
  fc.record({ op: fc.constant('dropChain' as const), chain: fc.nat() }),
  fc.record({ op: fc.constant('rewrite' as const), chain: fc.nat(), at: fc.nat(), amount: fc.nat() }),
);

type Tampering = typeof tamperingArb extends fc.Arbitrary<infer T> ? T : never;

/**
 * Applies a tampering to a ledger the way someone with write access to the ledger and profile
 * tables could (never to the digests). Returns false when it would change nothing.
 */
function apply(ledger: MemoryLedger, t: Tampering): boolean {
  const ids = [...ledger.entries.keys()];
  const chain = ids[t.chain % ids.length]!;
  const entries = ledger.entries.get(chain)!;
  const relink = (from: number) => {
    let head = from === 0 ? undefined : entries[from - 1];
    for (let k = from; k < entries.length; k++) {
      entries[k] = nextEntry(head, entries[k]!);
      head = entries[k];
    }
    ledger.heads.set(chain, { seq: head!.seq, hash: head!.hash });
  };
  switch (t.op) {
    case 'mutate': {
      const e = entries[t.at % entries.length]! as unknown as Record<string, unknown>;
      const target =
        t.field === 'amount' || t.field === 'eventIds' ? (e.payload as Record<string, unknown>) : e;
      if (JSON.stringify(target[t.field]) === JSON.stringify(t.value)) return false;
      target[t.field] = t.value;
      return true;
    }
    case 'delete':
      entries.splice(t.at % entries.length, 1);
      return true;
    case 'swap': {
      const i = t.at % entries.length;
      const j = t.other % entries.length;
      if (i === j) return false;
      [entries[i], entries[j]] = [entries[j]!, entries[i]!];
      return true;
    }
    case 'duplicate':
      entries.splice(t.to % (entries.length + 1), 0, structuredClone(entries[t.at % entries.length]!));
      return true;
    case 'forge': {
      const i = t.at % (entries.length + 1);
      const forged = nextEntry(entries[i - 1], {
        chain,
        at: '2025-06-01T00:00:00.000Z',
        kind: 'grant',
        actor: 'engine',
        payload: { amount: t.amount },
      });
      entries.splice(i, 0, forged);
      return true;
    }
    case 'truncate': {
      const keep = t.keep % entries.length;
      entries.splice(keep);
      if (t.moveHead) {
        const last: LedgerEntry | undefined = entries[keep - 1];
        if (last) ledger.heads.set(chain, { seq: last.seq, hash: last.hash });
        else ledger.heads.delete(chain);
      }
      return true;
    }
    case 'dropChain':
      ledger.entries.delete(chain);
      ledger.heads.delete(chain);
      return true;
    case 'rewrite': {
      const i = t.at % entries.length;
      const e = entries[i]!;
      if (e.payload.amount === t.amount) return false;
      entries[i] = { ...e, payload: { ...e.payload, amount: t.amount } };
      relink(i);
      return true;
    }
  }
}

describe('Function: verifyLedger (properties)', () => {
  it('passes every untouched ledger and counts all its entries', async () => {
    await fc.assert(
      fc.asyncProperty(ledgerArb, async (ledger) => {
        const total = [...ledger.entries.values()].reduce((n, l) => n + l.length, 0);
        const result = await verifyLedgerFrom(ledger);
        expect(result).toMatchObject({ ok: true, checked: total, failures: [] });
      }),
      { numRuns: 200 },
    );
  });

  it('fails on any tampering with entries or heads, naming the chain and the kind of change', async () => {
    await fc.assert(
      fc.asyncProperty(ledgerArb, tamperingArb, async (ledger, t) => {
        fc.pre(apply(ledger, t));
        const result = await verifyLedgerFrom(ledger);
        expect(result.ok).toBe(false);
        expect(result.firstFailure?.problem).toMatch(
          /^ledger (entry|chain) pn-\d+.*: .*\((modified|deleted|reordered|inserted|truncated|rewritten|moved)\)$/,
        );
      }),
      { numRuns: 2000 },
    );
  });
});
