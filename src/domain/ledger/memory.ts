/**
 * An in-memory ledger: the reference implementation of the ledger's storage contract, for tests.
 * Its state is public on purpose, so a test can tamper with stored entries, heads and digests the
 * way an attacker with write access to the tables would, and show that verification notices.
 */
import {
  type ChainHead,
  type Digest,
  type EntryFields,
  type LedgerEntry,
  type LedgerReader,
  makeDigest,
  nextEntry,
  type StoredChain,
} from './index.ts';

/** A ledger held in memory; implements {@link LedgerReader} and the append/digest side. */
export class MemoryLedger implements LedgerReader {
  /** Entries per chain, in storage order. */
  readonly entries = new Map<string, LedgerEntry[]>();
  /** Heads as the profile store would record them. */
  readonly heads = new Map<string, ChainHead>();
  /** Digests in the order written. */
  readonly digestList: Digest[] = [];

  /** Appends an entry to its chain and moves the chain's head, as the grant transaction does. */
  append(fields: EntryFields): LedgerEntry {
    const entry = nextEntry(this.heads.get(fields.chain), fields);
    const list = this.entries.get(fields.chain) ?? [];
    list.push(entry);
    this.entries.set(fields.chain, list);
    this.heads.set(fields.chain, { seq: entry.seq, hash: entry.hash });
    return entry;
  }

  /** Writes a digest of every current head, chained to the latest digest. */
  digest(createdAt: string): Digest {
    const heads = [...this.heads].map(([chain, h]) => ({ chain, seq: h.seq, hash: h.hash }));
    const d = makeDigest(heads, this.digestList.at(-1), createdAt);
    this.digestList.push(d);
    return d;
  }

  /** A deep copy, so one test's tampering never leaks into another's ledger. */
  clone(): MemoryLedger {
    const copy = new MemoryLedger();
    for (const [chain, list] of this.entries) copy.entries.set(chain, structuredClone(list));
    for (const [chain, head] of this.heads) copy.heads.set(chain, { ...head });
    copy.digestList.push(...structuredClone(this.digestList));
    return copy;
  }

  *chains(): Iterable<StoredChain> {
    // Chains that have only a head (all entries gone) are yielded too, so truncation to nothing shows.
    const ids = new Set([...this.entries.keys(), ...this.heads.keys()]);
    for (const chain of ids) {
      const head = this.heads.get(chain);
      yield { chain, entries: this.entries.get(chain) ?? [], ...(head ? { head } : {}) };
    }
  }

  async digests(): Promise<Digest[]> {
    return this.digestList;
  }
}
