import { appendFileSync, existsSync, mkdirSync, readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { GetObjectCommand, ListObjectVersionsCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { Config } from '../config.ts';
import {
  type ChainHead,
  type Digest,
  type LedgerEntry,
  type LedgerReader,
  makeDigest,
  type StoredChain,
} from '../domain/ledger/index.ts';
import { scanAll } from './dynamodb/scan.ts';

/** Where digests of chain heads go: somewhere the engine's own role cannot rewrite. */
export interface DigestStore {
  readonly where: string;
  list(): Promise<Digest[]>;
  put(d: Digest): Promise<void>;
}

/** Local digest store: an append-only JSONL file under the data directory. */
export class FileDigestStore implements DigestStore {
  constructor(private readonly file: string) {}
  get where(): string {
    return this.file;
  }
  async list(): Promise<Digest[]> {
    if (!existsSync(this.file)) return [];
    return readFileSync(this.file, 'utf8')
      .split('\n')
      .filter((l) => l.trim())
      .map((l) => JSON.parse(l) as Digest);
  }
  async put(d: Digest): Promise<void> {
    mkdirSync(dirname(this.file), { recursive: true });
    appendFileSync(this.file, `${JSON.stringify(d)}\n`);
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
  /** Puts a digest under a key of its own; a key that exists already is refused (`If-None-Match`). */
  async put(d: Digest): Promise<void> {
    await this.s3.send(
      new PutObjectCommand({
        Bucket: this.bucket,
        Key: `digests/${d.createdAt}-${d.digestHash.slice(0, 16)}.json`,
        Body: JSON.stringify(d),
        ContentType: 'application/json',
        ChecksumAlgorithm: 'SHA256',
        IfNoneMatch: '*',
      }),
    );
  }
}

/** The digest store for this environment: S3 when `PB_DIGEST_BUCKET` is set, else the local file. */
export function digestStore(config: Config): DigestStore {
  const bucket = process.env.PB_DIGEST_BUCKET;
  return bucket
    ? new S3DigestStore(new S3Client({}), bucket)
    : new FileDigestStore(resolve(config.dataDir, 'ledger-digests.jsonl'));
}

/** Chain heads as recorded with the profiles. */
async function profileHeads(doc: DynamoDBDocumentClient, config: Config): Promise<Map<string, ChainHead>> {
  const heads = new Map<string, ChainHead>();
  for await (const p of scanAll(doc, config.table('profiles'))) {
    const h = p.ledger as ChainHead | undefined;
    if (h) heads.set(p.pk as string, { seq: h.seq, hash: h.hash });
  }
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
}

/** Writes a digest of every chain head now, chained to the latest digest. Returns it. */
export async function writeDigest(
  doc: DynamoDBDocumentClient,
  config: Config,
  store: DigestStore,
  at: Date,
): Promise<Digest> {
  const heads = await profileHeads(doc, config);
  const previous = (await store.list()).sort((a, b) => a.createdAt.localeCompare(b.createdAt)).at(-1);
  const digest = makeDigest(
    [...heads].map(([chain, h]) => ({ chain, ...h })),
    previous,
    at.toISOString(),
  );
  await store.put(digest);
  return digest;
}
