import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  entryHash,
  GENESIS,
  type LedgerEntry,
  makeDigest,
  nextEntry,
  type StoredChain,
  type VerifyResult,
  verifyLedger,
  verifyLedgerFrom,
} from '../../../src/domain/ledger/index.ts';
import { MemoryLedger } from '../../../src/domain/ledger/memory.ts';

const CHAINS = ['pn-3f9a', 'pn-7c21', 'pn-b004', 'pn-e6d8'];
const ROUNDS = 6;
const KINDS = [
  'grant',
  'eligibility-changed',
  'review.confirm',
  'citizen.objection',
  'review.resolve',
  'grant',
];

/**
 * Four chains of six entries, appended interleaved (as a live engine would), with a digest after the
 * third round and one at the end: the ledger every tampering test starts from.
 */
function buildLedger(): MemoryLedger {
  const ledger = new MemoryLedger();
  let minute = 0;
  const at = () => new Date(Date.UTC(2025, 2, 1, 8, minute++)).toISOString();
  for (let round = 0; round < ROUNDS; round++) {
    for (const [c, chain] of CHAINS.entries()) {
      ledger.append({
        chain,
        at: at(),
        kind: KINDS[round]!,
        actor: round % 2 === 0 ? 'engine' : 'reviewer-12',
        payload: {
          decision: { subject: chain, policy: 'elderly-allowance', period: `2025-0${round + 1}` },
          version: '1.0.0',
          ruleSetHash: 'a'.repeat(64),
          amount: 10000 * (c + 1),
          eventIds: [`ev-${round}-${c}`],
        },
      });
    }
    if (round === 2) ledger.digest(at());
  }
  ledger.digest(at());
  return ledger;
}

const pristine = buildLedger();

/** Every (chain, position) of the pristine ledger: the entries tampered with in turn. */
const EVERY_ENTRY = CHAINS.flatMap((chain) =>
  Array.from({ length: ROUNDS }, (_, i) => ({ chain, i, seq: i + 1 })),
);

function expectFailure(result: VerifyResult, chain: string, problem: RegExp): void {
  expect(result.ok).toBe(false);
  expect(result.firstFailure?.chain).toBe(chain);
  expect(result.firstFailure?.problem).toMatch(problem);
}

/** A copy of the pristine ledger and the entries of one of its chains, to tamper with. */
function tamper(chain: string): { ledger: MemoryLedger; entries: LedgerEntry[] } {
  const ledger = pristine.clone();
  return { ledger, entries: ledger.entries.get(chain)! };
}

describe('Function: nextEntry', () => {
  it('starts a chain at seq 1 linked to GENESIS, and continues from a head', () => {
    // Prepare
    const fields = {
      chain: 'pn-1',
      at: '2025-03-01T00:00:00.000Z',
      kind: 'grant',
      actor: 'engine',
      payload: {},
    };

    // Act
    const first = nextEntry(undefined, fields);
    const second = nextEntry({ seq: first.seq, hash: first.hash }, fields);

    // Assess
    expect(first).toMatchObject({ chain: 'pn-1', seq: 1, prevHash: GENESIS });
    expect(first.hash).toMatch(/^[0-9a-f]{64}$/);
    expect(second).toMatchObject({ seq: 2, prevHash: first.hash });
    expect(second.hash).not.toBe(first.hash);
  });

  it('hashes only the entry fields, not anything else the caller passes', () => {
    const fields = { chain: 'pn-1', at: 't', kind: 'grant', actor: 'engine', payload: { a: 1 } };
    const plain = nextEntry(undefined, fields);
    const withExtra = nextEntry(undefined, { ...fields, extra: 'ignored' } as typeof fields);
    expect(withExtra).toEqual(plain);
    expect(Object.keys(withExtra).sort()).toEqual(
      ['actor', 'at', 'chain', 'hash', 'kind', 'payload', 'prevHash', 'seq'].sort(),
    );
  });

  it('refuses values JSON cannot hold and an invalid head', () => {
    const fields = {
      chain: 'pn-1',
      at: 't',
      kind: 'grant',
      actor: 'engine',
      payload: { amount: Number.NaN },
    };
    expect(() => nextEntry(undefined, fields)).toThrow(/NaN/);
    expect(() => nextEntry({ seq: 0, hash: GENESIS }, { ...fields, payload: {} })).toThrow(
      /not a valid head/,
    );
    expect(() => nextEntry(undefined, { ...fields, chain: '', payload: {} })).toThrow(/chain id/);
  });
});

describe('Function: entryHash', () => {
  it('is SHA-256 of the RFC 8785 form: keys sorted, no whitespace, hash field left out', () => {
    // Prepare: key order scrambled on purpose; RFC 8785 sorts them.
    const entry = {
      payload: { z: 1, a: [true, null, 'é'] },
      seq: 1,
      kind: 'grant',
      hash: 'ignored',
      chain: 'c',
      prevHash: GENESIS,
      actor: 'engine',
      at: '2025-01-01T00:00:00Z',
    };
    const expected =
      `{"actor":"engine","at":"2025-01-01T00:00:00Z","chain":"c","kind":"grant",` +
      `"payload":{"a":[true,null,"é"],"z":1},"prevHash":"${GENESIS}","seq":1}`;

    // Act
    const hash = entryHash(entry);

    // Assess
    expect(hash).toBe(createHash('sha256').update(expected, 'utf8').digest('hex'));
  });
});

describe('Function: makeDigest', () => {
  it('sorts heads by chain, chains to the previous digest, and is deterministic', () => {
    const h = (chain: string, seq: number) => ({ chain, seq, hash: String(seq).repeat(64) });
    const first = makeDigest([h('b', 2), h('a', 1)], undefined, '2025-01-01T00:00:00Z');
    const again = makeDigest([h('a', 1), h('b', 2)], undefined, '2025-01-01T00:00:00Z');
    const second = makeDigest([h('a', 3)], first, '2025-01-02T00:00:00Z');

    expect(first.heads.map((x) => x.chain)).toEqual(['a', 'b']);
    expect(first.previousDigestHash).toBe(GENESIS);
    expect(again.digestHash).toBe(first.digestHash);
    expect(second.previousDigestHash).toBe(first.digestHash);
    expect(second.digestHash).not.toBe(first.digestHash);
  });

  it('refuses a chain listed twice', () => {
    const head = { chain: 'a', seq: 1, hash: GENESIS };
    expect(() => makeDigest([head, head], undefined, 't')).toThrow(/twice/);
  });
});

describe('Function: verifyLedger', () => {
  it('passes the untouched ledger and counts every entry', async () => {
    const ledger = pristine.clone();
    expect(ledger.digestList.length).toBeGreaterThan(1);
    const result = await verifyLedgerFrom(ledger);
    expect(result).toEqual({
      ok: true,
      checked: CHAINS.length * ROUNDS,
      chains: CHAINS.length,
      digests: ledger.digestList.length,
      failures: [],
    });
  });

  it('fails when the digest recorded beside the ledger is not among the digests read', async () => {
    const ledger = pristine.clone();
    const latest = ledger.digestList.at(-1)!;
    const anchor = { digestHash: latest.digestHash, createdAt: latest.createdAt };
    expect((await verifyLedger({ chains: ledger.chains(), digests: ledger.digestList, anchor })).ok).toBe(
      true,
    );
    const lost = await verifyLedger({
      chains: ledger.chains(),
      digests: ledger.digestList.slice(0, -1),
      anchor,
    });
    expect(lost.ok).toBe(false);
    expect(lost.firstFailure).toEqual({
      chain: '(digests)',
      seq: null,
      problem: `ledger digest ${latest.createdAt}: recorded beside the ledger as the latest written, but missing from the ${ledger.digestList.length - 1} digests read (removed)`,
    });
  });

  it('passes an empty ledger', async () => {
    expect(await verifyLedger({ chains: [] })).toMatchObject({ ok: true, checked: 0, chains: 0 });
  });

  it('reads chains from an async iterable', async () => {
    const ledger = pristine.clone();
    async function* chains(): AsyncIterable<StoredChain> {
      yield* ledger.chains();
    }
    const result = await verifyLedger({ chains: chains(), digests: ledger.digestList });
    expect(result).toMatchObject({ ok: true, checked: CHAINS.length * ROUNDS });
  });

  it('names the entry in one line', async () => {
    const { ledger, entries } = tamper('pn-7c21');
    entries[2]!.payload.amount = 999999;
    const result = await verifyLedgerFrom(ledger);
    expect(result.firstFailure).toEqual({
      chain: 'pn-7c21',
      seq: 3,
      problem: 'ledger entry pn-7c21#3: hash does not match its content (modified)',
    });
  });

  describe('tampering with each entry in turn', () => {
    it.each(EVERY_ENTRY)(
      'fails when a payload field of $chain#$seq is changed',
      async ({ chain, i, seq }) => {
        const { ledger, entries } = tamper(chain);
        entries[i]!.payload.amount = (entries[i]!.payload.amount as number) + 1;
        expectFailure(
          await verifyLedgerFrom(ledger),
          chain,
          new RegExp(`^ledger entry ${chain}#${seq}: hash does not match its content \\(modified\\)$`),
        );
      },
    );

    it.each(EVERY_ENTRY)(
      'fails when each other field of $chain#$seq is changed',
      async ({ chain, i, seq }) => {
        const changes: Array<(e: LedgerEntry) => void> = [
          (e) => {
            e.at = '2024-01-01T00:00:00.000Z';
          },
          (e) => {
            e.kind = 'review.revoke';
          },
          (e) => {
            e.actor = 'someone-else';
          },
          (e) => {
            e.prevHash = 'f'.repeat(64);
          },
          (e) => {
            e.hash = 'e'.repeat(64);
          },
          (e) => {
            (e.payload.eventIds as string[]).push('ev-forged');
          },
        ];
        for (const change of changes) {
          const { ledger, entries } = tamper(chain);
          change(entries[i]!);
          expectFailure(await verifyLedgerFrom(ledger), chain, new RegExp(`#${seq}: .*\\(modified\\)$`));
        }
      },
    );

    it.each(EVERY_ENTRY)('fails when $chain#$seq is deleted', async ({ chain, i, seq }) => {
      const { ledger, entries } = tamper(chain);
      entries.splice(i, 1);
      const result = await verifyLedgerFrom(ledger);
      if (seq < ROUNDS) {
        expectFailure(result, chain, new RegExp(`^ledger entry ${chain}#${seq}: missing: .*\\(deleted\\)$`));
      } else {
        expectFailure(result, chain, /ends at #5 but its head is #6 \(truncated\)$/);
      }
      expect(result.firstFailure?.seq).toBe(seq);
    });

    it.each(EVERY_ENTRY)('fails when $chain#$seq is swapped with its neighbour', async ({ chain, i }) => {
      const { ledger, entries } = tamper(chain);
      const j = i + 1 < entries.length ? i + 1 : i - 1;
      [entries[i], entries[j]] = [entries[j]!, entries[i]!];
      const later = Math.max(i, j) + 1;
      expectFailure(
        await verifyLedgerFrom(ledger),
        chain,
        new RegExp(`^ledger entry ${chain}#${later}: stored before #${later - 1} \\(reordered\\)$`),
      );
    });

    it.each(EVERY_ENTRY)(
      'fails when a forged entry is inserted before $chain#$seq',
      async ({ chain, i, seq }) => {
        // Prepare: a forgery that is internally perfect (own hash recomputed, linked to the real
        // entry before it) but has to share its number with the entry it displaces.
        const { ledger, entries } = tamper(chain);
        const before = i === 0 ? undefined : { seq: entries[i - 1]!.seq, hash: entries[i - 1]!.hash };
        const forged = nextEntry(before, {
          chain,
          at: entries[i]!.at,
          kind: 'grant',
          actor: 'engine',
          payload: { amount: 5_000_000 },
        });
        expect(entryHash(forged)).toBe(forged.hash);

        // Act
        entries.splice(i, 0, forged);

        // Assess
        expectFailure(
          await verifyLedgerFrom(ledger),
          chain,
          new RegExp(`^ledger entry ${chain}#${seq}: two entries carry this number \\(inserted\\)$`),
        );
      },
    );

    it.each(EVERY_ENTRY)('fails when the chain is truncated after $chain#$seq', async ({ chain, i, seq }) => {
      const { ledger, entries } = tamper(chain);
      entries.splice(i + 1);
      const result = await verifyLedgerFrom(ledger);
      if (seq === ROUNDS) {
        // Nothing was cut: the untouched ledger must still pass.
        expect(result.ok).toBe(true);
      } else {
        expectFailure(
          result,
          chain,
          new RegExp(`ends at #${seq} but its head is #${ROUNDS} \\(truncated\\)$`),
        );
      }
    });

    it.each(EVERY_ENTRY)(
      'fails when the chain is truncated after $chain#$seq and its head moved back to match',
      async ({ chain, i, seq }) => {
        // Prepare: whoever can write the ledger table can write the profile's head too; only the
        // digest, which they cannot rewrite, still knows how long the chain was.
        const { ledger, entries } = tamper(chain);
        if (seq === ROUNDS) return;
        entries.splice(i + 1);
        ledger.heads.set(chain, { seq, hash: entries[i]!.hash });

        const result = await verifyLedgerFrom(ledger);

        expectFailure(
          result,
          chain,
          new RegExp(`ends at #${seq} but the digest of .* records #${ROUNDS} \\(truncated\\)$`),
        );
      },
    );
  });

  describe('tampering that the chain alone cannot show', () => {
    it('fails when a valid-looking entry is appended past the recorded head', async () => {
      const { ledger, entries } = tamper('pn-b004');
      const last = entries.at(-1)!;
      entries.push(
        nextEntry(last, { chain: 'pn-b004', at: 'x', kind: 'grant', actor: 'engine', payload: {} }),
      );
      expectFailure(
        await verifyLedgerFrom(ledger),
        'pn-b004',
        /#7: lies beyond the chain's head #6 \(inserted\)$/,
      );
    });

    it('fails when a chain is rewritten from some entry on with recomputed hashes and head', async () => {
      for (let from = 0; from < ROUNDS; from++) {
        // Prepare: rebuild the chain from `from` with one amount changed, all hashes recomputed.
        const { ledger, entries } = tamper('pn-e6d8');
        let head = from === 0 ? undefined : { seq: entries[from - 1]!.seq, hash: entries[from - 1]!.hash };
        for (let k = from; k < entries.length; k++) {
          const e = entries[k]!;
          const payload = k === from ? { ...e.payload, amount: 1 } : e.payload;
          entries[k] = nextEntry(head, { chain: e.chain, at: e.at, kind: e.kind, actor: e.actor, payload });
          head = { seq: entries[k]!.seq, hash: entries[k]!.hash };
        }
        ledger.heads.set('pn-e6d8', head!);

        // Act
        const result = await verifyLedgerFrom(ledger);

        // Assess: the first rewritten entry that a digest recorded (#3 in the mid digest, #6 at the end).
        const caught = from < 3 ? 3 : 6;
        expectFailure(
          result,
          'pn-e6d8',
          new RegExp(`#${caught}: does not match the digest of .* \\(rewritten\\)$`),
        );
      }
    });

    it('fails when a whole chain and its head are deleted', async () => {
      const ledger = pristine.clone();
      ledger.entries.delete('pn-7c21');
      ledger.heads.delete('pn-7c21');
      const result = await verifyLedgerFrom(ledger);
      expectFailure(
        result,
        'pn-7c21',
        /^ledger chain pn-7c21: missing, but the digest of .* records it at #6 \(deleted\)$/,
      );
      expect(result.checked).toBe((CHAINS.length - 1) * ROUNDS);
    });

    it('fails when every entry of a chain is deleted but its head is kept', async () => {
      const ledger = pristine.clone();
      ledger.entries.delete('pn-7c21');
      expectFailure(
        await verifyLedgerFrom(ledger),
        'pn-7c21',
        /has no entries but its head is #6 \(truncated\)$/,
      );
    });

    it('fails when an entry is moved to another chain', async () => {
      const { ledger, entries } = tamper('pn-3f9a');
      entries[1] = ledger.entries.get('pn-7c21')![1]!;
      expectFailure(await verifyLedgerFrom(ledger), 'pn-3f9a', /#2: names chain pn-7c21 \(moved\)$/);
    });

    it('fails on a malformed entry without throwing', async () => {
      const { ledger, entries } = tamper('pn-3f9a');
      (entries[3] as unknown as Record<string, unknown>).seq = 'four';
      const result = await verifyLedgerFrom(ledger);
      expectFailure(result, 'pn-3f9a', /not a well-formed entry, bad seq \(modified\)$/);
    });

    it('detects tampering without heads or digests, except a cut at the end', async () => {
      const bare = (ledger: MemoryLedger): StoredChain[] =>
        [...ledger.entries].map(([chain, entries]) => ({ chain, entries }));
      const deleted = pristine.clone();
      deleted.entries.get('pn-b004')!.splice(2, 1);
      const cut = pristine.clone();
      cut.entries.get('pn-b004')!.splice(4);

      expect((await verifyLedger({ chains: bare(pristine.clone()) })).ok).toBe(true);
      expectFailure(await verifyLedger({ chains: bare(deleted) }), 'pn-b004', /#3: missing/);
      // Why heads and digests exist: a chain cut at its end is still a well-formed chain.
      expect((await verifyLedger({ chains: bare(cut) })).ok).toBe(true);
    });
  });

  describe('the digests', () => {
    it('fails when a digest is modified', async () => {
      const ledger = pristine.clone();
      ledger.digestList[0]!.heads[0]!.seq = 2;
      const result = await verifyLedgerFrom(ledger);
      expectFailure(result, '(digests)', /^ledger digest .*: hash does not match its content \(modified\)$/);
      expect(result.firstFailure?.seq).toBeNull();
    });

    it('fails when a digest is deleted from the middle', async () => {
      const ledger = pristine.clone();
      ledger.digest('2025-03-02T00:00:00.000Z');
      ledger.digestList.splice(1, 1);
      expectFailure(await verifyLedgerFrom(ledger), '(digests)', /does not follow any digest before it/);
    });

    it('fails when a forged digest is appended that contradicts an earlier one', async () => {
      // Prepare: rewrite the first entry of a chain, then append a new digest, correctly chained,
      // recording the rewritten heads.
      const { ledger, entries } = tamper('pn-3f9a');
      entries[0] = nextEntry(undefined, { ...entries[0]!, payload: { amount: 1 } });
      for (let k = 1; k < entries.length; k++) entries[k] = nextEntry(entries[k - 1], entries[k]!);
      ledger.heads.set('pn-3f9a', { seq: ROUNDS, hash: entries.at(-1)!.hash });
      ledger.digest('2025-03-02T00:00:00.000Z');

      const result = await verifyLedgerFrom(ledger);

      expectFailure(result, '(digests)', /disagree on entry pn-3f9a#6 \(forged\)$/);
      expect(
        result.failures.some((f) => f.chain === 'pn-3f9a' && /#3: does not match the digest/.test(f.problem)),
      ).toBe(true);
    });

    it('does not depend on the order digests are listed in', async () => {
      const ledger = pristine.clone();
      ledger.digestList.reverse();
      expect((await verifyLedgerFrom(ledger)).ok).toBe(true);
    });
  });
});
