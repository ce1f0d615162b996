import {
  appendFileSync,
  closeSync,
  existsSync,
  mkdirSync,
  openSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
} from 'node:fs';
import { dirname, resolve } from 'node:path';
import { GetObjectCommand, ListObjectVersionsCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { type DynamoDBDocumentClient, GetCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { Config } from '../config.ts';
import {
  type ChainHead,
  type Digest,
  type DigestAnchor,
  type DigestHead,
  GENESIS,
  type LedgerEntry,
  type LedgerReader,
  makeDigest,
  type StoredChain,
} from '../domain/ledger/index.ts';
import { scanAll } from './dynamodb/scan.ts';

/**
 * Where digests of chain heads go: somewhere the engine's own role cannot rewrite.
 *
 * Writers are serialised through `position`, the number of digests stored before this one plus one:
 * a store takes at most one digest per position, so two writers that read the same latest digest
 * (the scheduled tick and an operator's `pb audit digest` at the same moment) cannot both chain to
 * it. The one that loses gets {@link DigestConflict} and starts again from the new latest digest.
 */
export interface DigestStore {
  readonly where: string;
  list(): Promise<Digest[]>;
  put(d: Digest, position: number): Promise<void>;
}

/** Another digest took the position first; read the digests again and chain to the new latest. */
export class DigestConflict extends Error {
  constructor(position: number) {
    super(`another digest was written at position ${position} first`);
    this.name = 'DigestConflict';
  }
}

/** A lock file older than this is left over from a writer that died holding it. */
const STALE_LOCK_MS = 30_000;
/** Waits of 25 ms for the lock: longer in all than a lock takes to turn stale. */
const LOCK_ATTEMPTS = Math.ceil((STALE_LOCK_MS + 10_000) / 25);

/** Local digest store: an append-only JSONL file under the data directory. */
export class FileDigestStore implements DigestStore {
  constructor(private readonly file: string) {}
  get where(): string {
    return this.file;
  }
  async list(): Promise<Digest[]> {
    if (!existsSync(this.file)) return [];
    const out: Digest[] = [];
    for (const [i, l] of readFileSync(this.file, 'utf8').split('\n').entries()) {
      if (!l.trim()) continue;
      try {
        out.push(JSON.parse(l) as Digest);
      } catch (e) {
        throw new Error(`digest file ${this.file}:${i + 1}: not valid JSON (${(e as Error).message})`);
      }
    }
    return out;
  }
  /** Appends under a lock file (created exclusively), after checking nobody appended meanwhile. */
  async put(d: Digest, position: number): Promise<void> {
    mkdirSync(dirname(this.file), { recursive: true });
    const lock = `${this.file}.lock`;
    let fd: number | undefined;
    for (let attempt = 0; fd === undefined; attempt++) {
      try {
        fd = openSync(lock, 'wx');
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
        let age = 0;
        try {
          age = Date.now() - statSync(lock).mtimeMs;
        } catch {
          continue; // released between the two calls
        }
        if (age > STALE_LOCK_MS) {
          // Taken over by a rename, which only one of several waiters can win; the winner removes it.
          const grave = `${lock}.stale-${process.pid}-${attempt}`;
          try {
            renameSync(lock, grave);
            rmSync(grave, { force: true });
          } catch {
            // another waiter took it over first
          }
        } else if (attempt >= LOCK_ATTEMPTS) {
          throw new Error(`${lock} is held by another digest writer`);
        } else await new Promise((r) => setTimeout(r, 25));
      }
    }
    try {
      if ((await this.list()).length !== position - 1) throw new DigestConflict(position);
      appendFileSync(this.file, `${JSON.stringify(d)}\n`);
    } finally {
      closeSync(fd);
      rmSync(lock, { force: true });
    }
  }
}

/**
 * AWS digest store: one object per digest in the Object Lock bucket (`PB_DIGEST_BUCKET`). The
 * bucket's default retention keeps the engine's role from deleting or overwriting them.
 */
export class S3DigestStore implements DigestStore {
  constructor(
    private readonly s3: S3Client,
    private readonly bucket: string,
  ) {}
  get where(): string {
    return `s3://${this.bucket}/digests/`;
  }
  /**
   * Every version of every digest object, not only the current ones: a digest written again under
   * an existing key leaves the locked original as an older version, and the verifier then sees both
   * (a second digest after the same one, which it reports) instead of only the rewritten one.
   */
  async list(): Promise<Digest[]> {
    const out: Digest[] = [];
    let keyMarker: string | undefined;
    let versionMarker: string | undefined;
    do {
      const r = await this.s3.send(
        new ListObjectVersionsCommand({
          Bucket: this.bucket,
          Prefix: 'digests/',
          KeyMarker: keyMarker,
          VersionIdMarker: versionMarker,
        }),
      );
      for (const v of r.Versions ?? []) {
        const body = await this.s3.send(
          new GetObjectCommand({ Bucket: this.bucket, Key: v.Key, VersionId: v.VersionId }),
        );
        out.push(JSON.parse(await body.Body!.transformToString()) as Digest);
      }
      keyMarker = r.IsTruncated ? r.NextKeyMarker : undefined;
      versionMarker = r.IsTruncated ? r.NextVersionIdMarker : undefined;
    } while (keyMarker !== undefined);
    return out;
  }
  /**
   * Puts a digest under the key of its position (`digests/0000000042.json`); S3 refuses a key that
   * exists already (`If-None-Match: *`), so of two writers at one position only the first succeeds.
   */
  async put(d: Digest, position: number): Promise<void> {
    try {
      await this.s3.send(
        new PutObjectCommand({
          Bucket: this.bucket,
          Key: digestKey(position),
          Body: JSON.stringify(d),
          ContentType: 'application/json',
          ChecksumAlgorithm: 'SHA256',
          IfNoneMatch: '*',
        }),
      );
    } catch (e) {
      // 412: the key exists; 409: a concurrent conditional write to the same key is in flight.
      const status = (e as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
      if (status === 412 || status === 409) throw new DigestConflict(position);
      throw e;
    }
  }
}

/** The object key of the digest at `position` (1 for the first). */
export const digestKey = (position: number): string => `digests/${String(position).padStart(10, '0')}.json`;

/** The digest store for this environment: S3 when `PB_DIGEST_BUCKET` is set, else the local file. */
export function digestStore(config: Config): DigestStore {
  const bucket = process.env.PB_DIGEST_BUCKET;
  return bucket
    ? new S3DigestStore(new S3Client({}), bucket)
    : new FileDigestStore(resolve(config.dataDir, 'ledger-digests.jsonl'));
}

/**
 * Segments of the parallel scan that reads the chain heads: the scheduled tick writes a digest
 * within its timeout on a large population, reading each segment at once.
 */
export const HEAD_SCAN_SEGMENTS = 8;

/** Chain heads as recorded with the profiles (the key and the head only, segments in parallel). */
async function profileHeads(doc: DynamoDBDocumentClient, config: Config): Promise<Map<string, ChainHead>> {
  const heads = new Map<string, ChainHead>();
  const table = config.table('profiles');
  await Promise.all(
    Array.from({ length: HEAD_SCAN_SEGMENTS }, async (_, segment) => {
      for await (const p of scanAll(doc, table, { segment, total: HEAD_SCAN_SEGMENTS }, ['pk', 'ledger'])) {
        const h = p.ledger as ChainHead | undefined;
        if (h) heads.set(p.pk as string, { seq: h.seq, hash: h.hash });
      }
    }),
  );
  return heads;
}

/** Reads the ledger table (entries in key order per chain), profile heads and digests. */
export class DynamoLedgerReader implements LedgerReader {
  constructor(
    private readonly doc: DynamoDBDocumentClient,
    private readonly config: Config,
    private readonly digestsFrom: DigestStore,
  ) {}

  async *chains(): AsyncIterable<StoredChain> {
    const heads = await profileHeads(this.doc, this.config);
    const byChain = new Map<string, LedgerEntry[]>();
    for await (const item of scanAll(this.doc, this.config.table('ledger'))) {
      const { pk, ...entry } = item;
      const list = byChain.get(pk as string) ?? [];
      list.push(entry as unknown as LedgerEntry);
      byChain.set(pk as string, list);
    }
    for (const chain of new Set([...byChain.keys(), ...heads.keys()])) {
      const head = heads.get(chain);
      yield { chain, entries: byChain.get(chain) ?? [], ...(head ? { head } : {}) };
    }
  }

  digests(): Promise<Digest[]> {
    return this.digestsFrom.list();
  }

  async anchor(): Promise<DigestAnchor | undefined> {
    const item = (
      await this.doc.send(
        new GetCommand({
          TableName: this.config.table('meta'),
          Key: { pk: ANCHOR_KEY },
          ConsistentRead: true,
        }),
      )
    ).Item;
    return typeof item?.digestHash === 'string' && typeof item.createdAt === 'string'
      ? { digestHash: item.digestHash, createdAt: item.createdAt }
      : undefined;
  }
}

/** The meta item holding the latest digest written ({@link DigestAnchor}). */
const ANCHOR_KEY = 'ledger-digest';

/** Writes a digest of every chain head now, chained to the latest digest. Returns it. */
export async function writeDigest(
  doc: DynamoDBDocumentClient,
  config: Config,
  store: DigestStore,
  at: Date,
): Promise<Digest> {
  const heads = await profileHeads(doc, config);
  const digest = await appendDigest(
    store,
    [...heads].map(([chain, h]) => ({ chain, ...h })),
    at,
  );
  // Beside the ledger too, unless a later digest is recorded already (another writer's).
  try {
    await doc.send(
      new UpdateCommand({
        TableName: config.table('meta'),
        Key: { pk: ANCHOR_KEY },
        UpdateExpression: 'SET digestHash = :h, createdAt = :c',
        ConditionExpression: 'attribute_not_exists(createdAt) OR createdAt <= :c',
        ExpressionAttributeValues: { ':h': digest.digestHash, ':c': digest.createdAt },
      }),
    );
  } catch (e) {
    if (!(e instanceof ConditionalCheckFailedException)) throw e;
  }
  return digest;
}

/**
 * The digest a new one follows: the end of the chain of links from GENESIS (at a fork, which verify
 * reports, the later branch), not merely the latest date, which old key names or equal dates could
 * mislead. With no chain from GENESIS at all (a damaged store), the latest by date.
 */
export function latestDigest(digests: readonly Digest[]): Digest | undefined {
  const next = new Map<string, Digest[]>();
  for (const d of digests) {
    const list = next.get(d.previousDigestHash);
    if (list) list.push(d);
    else next.set(d.previousDigestHash, [d]);
  }
  let tip: Digest | undefined;
  let link = GENESIS;
  for (let steps = 0; steps < digests.length; steps++) {
    const candidates = next.get(link);
    if (!candidates) break;
    tip = candidates.reduce((a, b) => (b.createdAt > a.createdAt ? b : a));
    link = tip.digestHash;
  }
  return tip ?? [...digests].sort((a, b) => a.createdAt.localeCompare(b.createdAt)).at(-1);
}

/** How often a writer that lost its position to another starts again before it gives up. */
const DIGEST_ATTEMPTS = 5;

/**
 * Chains a digest of `heads` to the latest stored digest and stores it at the next position; when
 * another writer took that position first, reads the digests again and chains to the new latest.
 * The digest is dated `at`, or the latest digest's date when that is later (a digest dated before
 * the one it follows does not verify).
 */
export async function appendDigest(store: DigestStore, heads: DigestHead[], at: Date): Promise<Digest> {
  for (let attempt = 1; ; attempt++) {
    const stored = await store.list();
    const previous = latestDigest(stored);
    const iso = at.toISOString();
    const createdAt = previous && previous.createdAt > iso ? previous.createdAt : iso;
    const digest = makeDigest(heads, previous, createdAt);
    try {
      await store.put(digest, stored.length + 1);
      return digest;
    } catch (e) {
      if (!(e instanceof DigestConflict) || attempt >= DIGEST_ATTEMPTS) throw e;
    }
  }
}
