/**
 * The decision ledger: append-only, one hash chain per subject, with periodic digests of the chain
 * heads written where the engine cannot rewrite them.
 *
 * - Each entry carries its chain id, its number `seq` (1, 2, 3…), the hash of the entry before it
 *   (`prevHash`, 64 zeros for the first) and its own `hash`: SHA-256 over the RFC 8785 canonical
 *   JSON of the entry without `hash`. Any change to any field changes the hash; any removal,
 *   insertion or reordering breaks a `seq` step or a `prevHash` link.
 * - What the chain alone cannot show is a cut at its end, or a chain rewritten wholesale with
 *   recomputed hashes. The chain head (kept with the subject's profile, written in the same
 *   transaction as the entry) catches the first; digests (chained to each other, stored under
 *   Object Lock or in a digest file) catch both, because the engine's own role cannot change them.
 *
 * Nothing here touches storage: adapters implement {@link LedgerReader}, and `verifyLedger` reads
 * through it.
 */
import { createHash } from 'node:crypto';
import canonicalize from 'canonicalize';

/** `prevHash` of a chain's first entry, and `previousDigestHash` of the first digest. */
export const GENESIS = '0'.repeat(64);

/** What a ledger entry records. The open `string` keeps room for kinds added later. */
export type LedgerKind =
  | 'grant'
  | 'eligibility-changed'
  | 'review.confirm'
  | 'review.revoke'
  | 'review.resolve'
  | 'citizen.objection'
  | 'citizen.decline'
  | (string & {});

/** A JSON object: the entry's payload (decision key, policy, version, period, amount, event ids…). */
export type LedgerPayload = Record<string, unknown>;

/** One entry of a chain, exactly as stored. */
export interface LedgerEntry {
  /** Chain id: the subject's pseudonym. */
  chain: string;
  /** Position in the chain, from 1, without gaps. */
  seq: number;
  /** `hash` of the entry before this one; {@link GENESIS} for seq 1. */
  prevHash: string;
  /** When the entry was written (ISO date-time, from the injected clock). */
  at: string;
  kind: LedgerKind;
  /** Who caused it: `engine`, or a reviewer's / citizen's id (never a raw identity number). */
  actor: string;
  payload: LedgerPayload;
  /** SHA-256 (hex) of the canonical JSON of every field above. */
  hash: string;
}

/** The last entry of a chain, as recorded beside the subject's profile and in digests. */
export interface ChainHead {
  seq: number;
  hash: string;
}

/** The fields a caller chooses for a new entry; the chain position and hashes are derived. */
export interface EntryFields {
  chain: string;
  at: string;
  kind: LedgerKind;
  actor: string;
  payload: LedgerPayload;
}

/** One chain head inside a digest. */
export interface DigestHead extends ChainHead {
  chain: string;
}

/**
 * A signed-off snapshot of chain heads. Digests form a chain of their own through
 * `previousDigestHash`, so a digest removed from the middle, or one slipped in, shows.
 */
export interface Digest {
  createdAt: string;
  /** `digestHash` of the digest before this one; {@link GENESIS} for the first. */
  previousDigestHash: string;
  /** Sorted by chain, one head per chain. */
  heads: DigestHead[];
  /** SHA-256 (hex) of the canonical JSON of `{ createdAt, previousDigestHash, heads }`. */
  digestHash: string;
}

/** One chain as a {@link LedgerReader} yields it. */
export interface StoredChain {
  chain: string;
  /**
   * The chain's entries in storage order (by the store's sort key), each exactly as stored. Do not
   * re-sort them by their own `seq` field, nor fill `seq` from the key: a reordering must stay
   * visible to the verifier.
   */
  entries: LedgerEntry[];
  /** The head recorded with the subject's profile, when there is one. */
  head?: ChainHead;
}

/**
 * The port through which `pb audit verify` reads a ledger. Adapters: DynamoDB (ledger table +
 * profile heads + the Object Lock bucket), local files (ledger JSONL + digest file), memory (tests).
 */
export interface LedgerReader {
  /** Every chain, one at a time, so a large ledger need not fit in memory. */
  chains(): AsyncIterable<StoredChain> | Iterable<StoredChain>;
  /** Every digest written so far, in any order. */
  digests(): Promise<Digest[]>;
  /** The latest digest as recorded beside the ledger when it was written, if any. */
  anchor?(): Promise<DigestAnchor | undefined>;
}

/**
 * The latest digest written, recorded beside the ledger as well as in the digest store: a store
 * that lost digests (a deleted digest file) then fails to verify instead of verifying nothing.
 */
export interface DigestAnchor {
  digestHash: string;
  createdAt: string;
}

/** Where a ledger first fails to verify. */
export interface LedgerFailure {
  /** The chain id, or `(digests)` for a problem with the digests themselves. */
  chain: string;
  /** The entry concerned, when the problem is about one entry. */
  seq: number | null;
  /** One line, naming the entry and what is wrong with it. */
  problem: string;
}

/** The outcome of {@link verifyLedger}. */
export interface VerifyResult {
  ok: boolean;
  /** Entries read (a chain stops being read at its first failure). */
  checked: number;
  /** Chains read. */
  chains: number;
  /** Digests read. */
  digests: number;
  /** The first failure in reading order: digests first, then chains as the reader yields them. */
  firstFailure?: LedgerFailure;
  /** Every failure found, at most one per chain, capped at {@link MAX_FAILURES}. */
  failures: LedgerFailure[];
}

/** How many failures {@link verifyLedger} keeps; past this only the count of chains grows. */
export const MAX_FAILURES = 100;

const DIGESTS = '(digests)';
const HEX64 = /^[0-9a-f]{64}$/;

const sha256 = (text: string): string => createHash('sha256').update(text, 'utf8').digest('hex');

function canonical(value: unknown): string {
  const text = canonicalize(value);
  if (text === undefined) throw new Error('value has no JSON form');
  return text;
}

/**
 * The hash an entry must carry: SHA-256 (hex) of the RFC 8785 canonical JSON of the entry without
 * its `hash` field. Throws when the entry holds something JSON cannot represent (NaN, Infinity,
 * lone surrogates, cycles).
 */
export function entryHash(entry: Omit<LedgerEntry, 'hash'> | LedgerEntry): string {
  const { hash: _ignored, ...content } = entry as LedgerEntry;
  return sha256(canonical(content));
}

/**
 * The entry that follows `head` on its chain (or starts the chain when `head` is undefined).
 * Pure: the caller stores it and moves the head to `{ seq, hash }` of the result, in one
 * transaction.
 */
export function nextEntry(head: ChainHead | undefined, fields: EntryFields): LedgerEntry {
  if (!fields.chain) throw new Error('a ledger entry needs a chain id');
  if (head && !(Number.isSafeInteger(head.seq) && head.seq >= 1 && HEX64.test(head.hash))) {
    throw new Error(`chain head of ${fields.chain} is not a valid head: ${JSON.stringify(head)}`);
  }
  // Rebuilt field by field so nothing else the caller's object carries ends up hashed.
  const content: Omit<LedgerEntry, 'hash'> = {
    chain: fields.chain,
    seq: head ? head.seq + 1 : 1,
    prevHash: head ? head.hash : GENESIS,
    at: fields.at,
    kind: fields.kind,
    actor: fields.actor,
    payload: fields.payload,
  };
  return { ...content, hash: entryHash(content) };
}

function digestContentHash(d: Pick<Digest, 'createdAt' | 'previousDigestHash' | 'heads'>): string {
  return sha256(
    canonical({
      createdAt: d.createdAt,
      previousDigestHash: d.previousDigestHash,
      heads: d.heads.map((h) => ({ chain: h.chain, seq: h.seq, hash: h.hash })),
    }),
  );
}

/**
 * A digest of chain heads, chained to `previousDigest` (the latest digest written, if any).
 * Heads are sorted by chain so the same heads always give the same hash; `createdAt` comes from the
 * injected clock, keeping this pure. Throws on a chain listed twice.
 */
export function makeDigest(
  heads: Iterable<DigestHead>,
  previousDigest: Digest | undefined,
  createdAt: string,
): Digest {
  const sorted = [...heads]
    .map((h) => ({ chain: h.chain, seq: h.seq, hash: h.hash }))
    .sort((a, b) => compareChains(a.chain, b.chain));
  for (let i = 1; i < sorted.length; i++) {
    if (sorted[i]!.chain === sorted[i - 1]!.chain) {
      throw new Error(`chain ${sorted[i]!.chain} appears twice in one digest`);
    }
  }
  const content = {
    createdAt,
    previousDigestHash: previousDigest ? previousDigest.digestHash : GENESIS,
    heads: sorted,
  };
  return { ...content, digestHash: digestContentHash(content) };
}

// Code-unit order, not locale order: every runtime must sort heads identically.
const compareChains = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

/** Why an entry is not even shaped like an entry, or undefined when it is. */
function malformed(e: unknown): string | undefined {
  if (typeof e !== 'object' || e === null) return 'not an object';
  const r = e as Record<string, unknown>;
  if (typeof r.chain !== 'string' || r.chain === '') return 'chain';
  if (typeof r.seq !== 'number' || !Number.isSafeInteger(r.seq) || r.seq < 1) return 'seq';
  if (typeof r.prevHash !== 'string' || !HEX64.test(r.prevHash)) return 'prevHash';
  if (typeof r.hash !== 'string' || !HEX64.test(r.hash)) return 'hash';
  for (const f of ['at', 'kind', 'actor'] as const) if (typeof r[f] !== 'string') return f;
  if (typeof r.payload !== 'object' || r.payload === null || Array.isArray(r.payload)) return 'payload';
  return undefined;
}

function hashOrUndefined(e: LedgerEntry): string | undefined {
  try {
    return entryHash(e);
  } catch {
    return undefined;
  }
}

/** What the digests say each chain must contain: chain → seq → (hash, the digest that says so). */
type DigestIndex = Map<string, Map<number, { hash: string; createdAt: string }>>;

/**
 * Checks the digests' own chain and indexes their heads. Returns the failures found and the index
 * built from every digest whose own hash holds (a broken link does not make a digest's heads wrong).
 */
function checkDigests(digests: readonly Digest[]): { failures: LedgerFailure[]; index: DigestIndex } {
  const failures: LedgerFailure[] = [];
  const fail = (problem: string) => failures.push({ chain: DIGESTS, seq: null, problem });
  const index: DigestIndex = new Map();
  const valid: Digest[] = [];

  for (const d of digests) {
    const name = `ledger digest ${typeof d?.createdAt === 'string' ? d.createdAt : '(no date)'}`;
    const shapeOk =
      typeof d === 'object' &&
      d !== null &&
      typeof d.createdAt === 'string' &&
      typeof d.previousDigestHash === 'string' &&
      typeof d.digestHash === 'string' &&
      Array.isArray(d.heads) &&
      d.heads.every(
        (h) =>
          typeof h?.chain === 'string' &&
          Number.isSafeInteger(h.seq) &&
          h.seq >= 1 &&
          typeof h.hash === 'string' &&
          HEX64.test(h.hash),
      );
    if (!shapeOk) {
      fail(`${name}: is not a well-formed digest`);
      continue;
    }
    let hash: string | undefined;
    try {
      hash = digestContentHash(d);
    } catch {
      hash = undefined;
    }
    if (hash !== d.digestHash) {
      fail(`${name}: hash does not match its content (modified)`);
      continue;
    }
    const unsorted = d.heads.findIndex((h, i) => i > 0 && compareChains(d.heads[i - 1]!.chain, h.chain) >= 0);
    if (unsorted >= 0) {
      fail(`${name}: heads are not sorted by chain, or list ${d.heads[unsorted]!.chain} twice (forged)`);
      continue;
    }
    valid.push(d);
  }

  // Follow the links from GENESIS rather than trusting dates or storage order: exactly one digest
  // may follow each one, and every digest must be reached.
  const byPrevious = new Map<string, Digest[]>();
  for (const d of valid) {
    const list = byPrevious.get(d.previousDigestHash);
    if (list) list.push(d);
    else byPrevious.set(d.previousDigestHash, [d]);
  }
  const reached = new Set<Digest>();
  let link = GENESIS;
  let previous: Digest | undefined;
  let forked = false;
  for (;;) {
    const next = byPrevious.get(link) ?? [];
    if (next.length === 0) break;
    if (next.length > 1) {
      const names = next.map((d) => d.createdAt).join(', ');
      fail(
        `ledger digest ${next[1]!.createdAt}: more than one digest (${names}) follows the same one (inserted)`,
      );
      forked = true;
      break;
    }
    const d = next[0]!;
    if (previous && d.createdAt < previous.createdAt) {
      fail(
        `ledger digest ${d.createdAt}: dated before the digest it follows, ${previous.createdAt} (forged)`,
      );
    }
    reached.add(d);
    previous = d;
    link = d.digestHash;
  }
  const orphans = valid
    .filter((d) => !reached.has(d))
    .sort((a, b) => compareChains(a.createdAt, b.createdAt));
  if (orphans.length > 0 && !forked) {
    fail(
      `ledger digest ${orphans[0]!.createdAt}: does not follow any digest before it ` +
        '(a digest was deleted, inserted or modified)',
    );
  }

  for (const d of valid) {
    for (const h of d.heads) {
      const seqs = index.get(h.chain) ?? new Map<number, { hash: string; createdAt: string }>();
      index.set(h.chain, seqs);
      const known = seqs.get(h.seq);
      if (known && known.hash !== h.hash) {
        fail(
          `ledger digests ${known.createdAt} and ${d.createdAt} disagree on entry ${h.chain}#${h.seq} (forged)`,
        );
      } else if (!known || d.createdAt > known.createdAt) {
        // Name the latest digest in messages: it is the one an auditor would look up first.
        seqs.set(h.seq, { hash: h.hash, createdAt: d.createdAt });
      }
    }
  }
  return { failures, index };
}

/** Checks one chain; returns its first problem, if any, and how many entries were read. */
function checkChain(
  stored: StoredChain,
  digestHeads: Map<number, { hash: string; createdAt: string }> | undefined,
): { checked: number; failure?: LedgerFailure } {
  const { chain, entries, head } = stored;
  const at = (seq: number | null, problem: string) => ({ chain, seq, problem });
  const entry = (seq: number, what: string) => at(seq, `ledger entry ${chain}#${seq}: ${what}`);
  let checked = 0;
  let prev: ChainHead = { seq: 0, hash: GENESIS };
  const seqs = new Set<number>();
  for (const e of entries) if (malformed(e) === undefined) seqs.add(e.seq);

  for (const [i, e] of entries.entries()) {
    checked++;
    const shape = malformed(e);
    if (shape !== undefined) {
      const label = typeof e?.seq === 'number' ? `#${e.seq}` : ` (position ${i + 1})`;
      return {
        checked,
        failure: at(
          null,
          `ledger entry ${chain}${label}: is not a well-formed entry, bad ${shape} (modified)`,
        ),
      };
    }
    if (e.chain !== chain) return { checked, failure: entry(e.seq, `names chain ${e.chain} (moved)`) };
    if (hashOrUndefined(e) !== e.hash) {
      return { checked, failure: entry(e.seq, 'hash does not match its content (modified)') };
    }
    // Look ahead as well as back: when a forgery precedes the genuine entry it shares a number
    // with, the forgery may fail a digest check first, and "inserted" is the truer account.
    const nextSeq = (entries[i + 1] as Partial<LedgerEntry> | undefined)?.seq;
    if (e.seq === prev.seq || e.seq === nextSeq) {
      return { checked, failure: entry(e.seq, 'two entries carry this number (inserted)') };
    }
    if (e.seq < prev.seq) {
      return { checked, failure: entry(e.seq, `stored after #${prev.seq} (reordered)`) };
    }
    if (e.seq > prev.seq + 1) {
      const missing = prev.seq + 1;
      if (seqs.has(missing)) {
        return { checked, failure: entry(e.seq, `stored before #${missing} (reordered)`) };
      }
      const from = prev.seq === 0 ? 'starts at' : `jumps from #${prev.seq} to`;
      return { checked, failure: entry(missing, `missing: the chain ${from} #${e.seq} (deleted)`) };
    }
    if (e.prevHash !== prev.hash) {
      const what = prev.seq === 0 ? 'does not start the chain' : `does not link to #${prev.seq}`;
      return { checked, failure: entry(e.seq, `${what} (inserted, deleted or replaced)`) };
    }
    const promised = digestHeads?.get(e.seq);
    if (promised && promised.hash !== e.hash) {
      return {
        checked,
        failure: entry(e.seq, `does not match the digest of ${promised.createdAt} (rewritten)`),
      };
    }
    prev = { seq: e.seq, hash: e.hash };
  }

  if (head) {
    if (!(Number.isSafeInteger(head.seq) && head.seq >= 1 && typeof head.hash === 'string')) {
      return { checked, failure: at(null, `ledger chain ${chain}: its recorded head is not a valid head`) };
    }
    if (prev.seq < head.seq) {
      const ends = prev.seq === 0 ? 'has no entries' : `ends at #${prev.seq}`;
      return {
        checked,
        failure: at(prev.seq + 1, `ledger chain ${chain}: ${ends} but its head is #${head.seq} (truncated)`),
      };
    }
    if (prev.seq > head.seq) {
      return {
        checked,
        failure: entry(head.seq + 1, `lies beyond the chain's head #${head.seq} (inserted)`),
      };
    }
    if (prev.hash !== head.hash) {
      return { checked, failure: entry(prev.seq, "does not match the chain's head (rewritten)") };
    }
  }
  if (digestHeads) {
    let furthest: { seq: number; createdAt: string } | undefined;
    for (const [seq, { createdAt }] of digestHeads)
      if (!furthest || seq > furthest.seq) furthest = { seq, createdAt };
    if (furthest && furthest.seq > prev.seq) {
      const ends = prev.seq === 0 ? 'has no entries' : `ends at #${prev.seq}`;
      return {
        checked,
        failure: at(
          prev.seq + 1,
          `ledger chain ${chain}: ${ends} but the digest of ${furthest.createdAt} records #${furthest.seq} (truncated)`,
        ),
      };
    }
  }
  return { checked };
}

/**
 * Verifies a whole ledger: every entry's hash, every `seq` step and `prevHash` link, each chain
 * against its recorded head, the digests' own chain, and every head a digest records against the
 * entry at that position. Detects a modified, deleted, reordered, inserted or truncated entry, a
 * chain deleted outright (when a digest knows it), and a chain rewritten with recomputed hashes
 * (when a digest or the stored head predates the rewrite).
 */
export async function verifyLedger(input: {
  chains: AsyncIterable<StoredChain> | Iterable<StoredChain>;
  digests?: readonly Digest[];
  anchor?: DigestAnchor | undefined;
}): Promise<VerifyResult> {
  const digests = input.digests ?? [];
  const { failures: digestFailures, index } = checkDigests(digests);
  const failures: LedgerFailure[] = [...digestFailures];
  const anchor = input.anchor;
  if (anchor && !digests.some((d) => d?.digestHash === anchor.digestHash)) {
    failures.unshift({
      chain: DIGESTS,
      seq: null,
      problem: `ledger digest ${anchor.createdAt}: recorded beside the ledger as the latest written, but missing from the ${digests.length} digests read (removed)`,
    });
  }
  let failureCount = failures.length;
  const record = (f: LedgerFailure) => {
    failureCount++;
    if (failures.length < MAX_FAILURES) failures.push(f);
  };
  let checked = 0;
  let chains = 0;
  const seen = new Set<string>();

  for await (const stored of input.chains) {
    chains++;
    const digestHeads = index.get(stored.chain);
    // Only chains a digest knows need remembering; the rest are checked and forgotten.
    if (digestHeads) seen.add(stored.chain);
    const result = checkChain(stored, digestHeads);
    checked += result.checked;
    if (result.failure) record(result.failure);
  }

  for (const [chain, seqs] of index) {
    if (seen.has(chain)) continue;
    const furthest = Math.max(...seqs.keys());
    const createdAt = seqs.get(furthest)!.createdAt;
    record({
      chain,
      seq: null,
      problem: `ledger chain ${chain}: missing, but the digest of ${createdAt} records it at #${furthest} (deleted)`,
    });
  }

  return {
    ok: failureCount === 0,
    checked,
    chains,
    digests: digests.length,
    ...(failures[0] ? { firstFailure: failures[0] } : {}),
    failures,
  };
}

/** Reads a whole ledger through its port and verifies it (see {@link verifyLedger}). */
export async function verifyLedgerFrom(reader: LedgerReader): Promise<VerifyResult> {
  return verifyLedger({
    chains: reader.chains(),
    digests: await reader.digests(),
    anchor: await reader.anchor?.(),
  });
}
