import {
  GetObjectCommand,
  ListObjectVersionsCommand,
  PutObjectCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import {
  existsSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { type DynamoDBDocumentClient, ScanCommand, type UpdateCommand } from '@aws-sdk/lib-dynamodb';
import {
  appendDigest,
  DigestConflict,
  type DigestStore,
  FileDigestStore,
  HEAD_SCAN_SEGMENTS,
  S3DigestStore,
  writeDigest,
} from '../../../src/adapters/ledger-store.ts';
import { loadConfig } from '../../../src/config.ts';
import { type Digest, makeDigest, verifyLedger } from '../../../src/domain/ledger/index.ts';

/** An S3 bucket with versioning, as far as the digest store uses it: two pages of versions. */
function versionedBucket(versions: Array<{ key: string; version: string; digest: Partial<Digest> }>) {
  const sent: unknown[] = [];
  const client = {
    send: async (command: unknown) => {
      sent.push(command);
      if (command instanceof ListObjectVersionsCommand) {
        const first = command.input.KeyMarker === undefined;
        const page = first ? versions.slice(0, 2) : versions.slice(2);
        return {
          Versions: page.map((v) => ({ Key: v.key, VersionId: v.version })),
          IsTruncated: first,
          ...(first ? { NextKeyMarker: versions[1]!.key, NextVersionIdMarker: versions[1]!.version } : {}),
        };
      }
      if (command instanceof GetObjectCommand) {
        const v = versions.find((x) => x.key === command.input.Key && x.version === command.input.VersionId)!;
        return { Body: { transformToString: async () => JSON.stringify(v.digest) } };
      }
      return {};
    },
  } as unknown as S3Client;
  return { client, sent };
}

describe('Class: S3DigestStore', () => {
  it('lists every version of every digest, so a digest written over another is seen with the original', async () => {
    // Prepare: digests/b.json was written twice; the locked original is the older version.
    const { client } = versionedBucket([
      { key: 'digests/a.json', version: 'v1', digest: { digestHash: 'a' } },
      { key: 'digests/b.json', version: 'v3', digest: { digestHash: 'b-rewritten' } },
      { key: 'digests/b.json', version: 'v2', digest: { digestHash: 'b-original' } },
    ]);
    // Act
    const listed = await new S3DigestStore(client, 'bucket').list();
    // Assess
    expect(listed.map((d) => d.digestHash)).toEqual(['a', 'b-rewritten', 'b-original']);
  });

  it('puts a digest under the key of its position, only when that key does not exist yet', async () => {
    const { client, sent } = versionedBucket([]);
    await new S3DigestStore(client, 'bucket').put(
      { createdAt: '2026-04-01T00:00:00.000Z', digestHash: 'f'.repeat(64) } as Digest,
      42,
    );
    const put = sent.find((c) => c instanceof PutObjectCommand) as PutObjectCommand;
    expect(put.input).toMatchObject({ Bucket: 'bucket', Key: 'digests/0000000042.json', IfNoneMatch: '*' });
  });

  it.each([412, 409])(
    'reports a position taken by another writer (HTTP %i) as a conflict',
    async (status) => {
      const client = {
        send: async () => {
          throw Object.assign(new Error('PreconditionFailed'), { $metadata: { httpStatusCode: status } });
        },
      } as unknown as S3Client;
      await expect(new S3DigestStore(client, 'bucket').put({} as Digest, 3)).rejects.toBeInstanceOf(
        DigestConflict,
      );
    },
  );

  it('passes any other failure on as it is', async () => {
    const denied = Object.assign(new Error('AccessDenied'), { $metadata: { httpStatusCode: 403 } });
    const client = { send: async () => Promise.reject(denied) } as unknown as S3Client;
    await expect(new S3DigestStore(client, 'bucket').put({} as Digest, 1)).rejects.toBe(denied);
  });
});

/** A bucket that keeps objects by key and refuses an existing key, as S3 with If-None-Match does. */
function conditionalBucket() {
  const objects = new Map<string, string>();
  const client = {
    send: async (command: unknown) => {
      // A network round trip: lets concurrent writers interleave between list and put.
      await new Promise((r) => setTimeout(r, 1));
      if (command instanceof ListObjectVersionsCommand) {
        // In key order, as S3 lists them.
        return {
          Versions: [...objects.keys()].sort().map((Key) => ({ Key, VersionId: 'v1' })),
          IsTruncated: false,
        };
      }
      if (command instanceof GetObjectCommand) {
        const body = objects.get(command.input.Key!)!;
        return { Body: { transformToString: async () => body } };
      }
      if (command instanceof PutObjectCommand) {
        if (objects.has(command.input.Key!)) {
          throw Object.assign(new Error('PreconditionFailed'), { $metadata: { httpStatusCode: 412 } });
        }
        objects.set(command.input.Key!, command.input.Body as string);
        return {};
      }
      throw new Error('unexpected command');
    },
  } as unknown as S3Client;
  return { client, objects };
}

const HEADS = [{ chain: 's-1', seq: 1, hash: 'a'.repeat(64) }];

describe('Function: appendDigest', () => {
  it('keeps the digests one chain when writers run at the same moment (S3)', async () => {
    // Prepare
    const { client } = conditionalBucket();
    const store = new S3DigestStore(client, 'bucket');
    const at = new Date('2026-05-01T00:00:00Z');
    // Act: five writers read the same latest digest (none) at once.
    await Promise.all([1, 2, 3, 4, 5].map(() => appendDigest(store, HEADS, at)));
    // Assess: five digests, each following the one before; the digests verify.
    const digests = await store.list();
    expect(digests).toHaveLength(5);
    const result = await verifyLedger({ chains: [], digests });
    expect(result.failures.filter((f) => f.chain === '(digests)')).toEqual([]);
  });

  it('keeps the digests one chain when writers run at the same moment (local file)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'pb-digests-'));
    try {
      const store = new FileDigestStore(join(dir, 'ledger-digests.jsonl'));
      const at = new Date('2026-05-01T00:00:00Z');
      await Promise.all([1, 2, 3, 4].map(() => appendDigest(store, HEADS, at)));
      const digests = await store.list();
      expect(digests).toHaveLength(4);
      expect(digests.slice(1).map((d) => d.previousDigestHash)).toEqual(
        digests.slice(0, -1).map((d) => d.digestHash),
      );
      expect(existsSync(join(dir, 'ledger-digests.jsonl.lock'))).toBe(false);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('dates a digest no earlier than the digest it follows', async () => {
    const { client } = conditionalBucket();
    const store = new S3DigestStore(client, 'bucket');
    await appendDigest(store, HEADS, new Date('2026-05-01T00:00:00Z'));
    const late = await appendDigest(store, HEADS, new Date('2026-04-30T23:59:00Z'));
    expect(late.createdAt).toBe('2026-05-01T00:00:00.000Z');
    const result = await verifyLedger({ chains: [], digests: await store.list() });
    expect(result.failures.filter((f) => f.chain === '(digests)')).toEqual([]);
  });

  it('follows the end of the digest chain, not the latest key or date, next to digests of the old key format', async () => {
    // Prepare: a digest under a key of the old format, dated a few seconds after this writer's clock.
    const { client, objects } = conditionalBucket();
    const old = makeDigest(HEADS, undefined, '2026-05-01T00:00:05.000Z');
    objects.set(`digests/${old.createdAt}-${old.digestHash.slice(0, 16)}.json`, JSON.stringify(old));
    const store = new S3DigestStore(client, 'bucket');
    // Act: two digests, both dated (clamped) to the old one's date.
    const at = new Date('2026-05-01T00:00:00Z');
    await appendDigest(store, HEADS, at);
    await appendDigest(store, HEADS, at);
    // Assess
    const digests = await store.list();
    expect(digests).toHaveLength(3);
    const result = await verifyLedger({ chains: [], digests });
    expect(result.failures.filter((f) => f.chain === '(digests)')).toEqual([]);
  });

  it('takes over a lock file a crashed writer left behind', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'pb-digests-'));
    try {
      const file = join(dir, 'ledger-digests.jsonl');
      writeFileSync(`${file}.lock`, '');
      const longAgo = new Date(Date.now() - 60_000);
      utimesSync(`${file}.lock`, longAgo, longAgo);
      const store = new FileDigestStore(file);
      await appendDigest(store, HEADS, new Date('2026-05-01T00:00:00Z'));
      expect(await store.list()).toHaveLength(1);
      expect(readdirSync(dir)).toEqual(['ledger-digests.jsonl']);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('names the digest file and line that is not JSON', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'pb-digests-'));
    try {
      const file = join(dir, 'ledger-digests.jsonl');
      const store = new FileDigestStore(file);
      await appendDigest(store, HEADS, new Date('2026-05-01T00:00:00Z'));
      writeFileSync(file, `${readFileSync(file, 'utf8')}{oops\n`);
      await expect(store.list()).rejects.toThrow(new RegExp(`^digest file ${file}:2: not valid JSON`));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('gives up after five lost positions with the conflict', async () => {
    let puts = 0;
    const store: DigestStore = {
      where: 'test',
      list: async () => [],
      put: async (_d, position) => {
        puts += 1;
        throw new DigestConflict(position);
      },
    };
    await expect(appendDigest(store, HEADS, new Date())).rejects.toBeInstanceOf(DigestConflict);
    expect(puts).toBe(5);
  });
});

describe('Function: writeDigest', () => {
  it('reads every chain head, segment by segment in parallel, keys and heads only', async () => {
    // Prepare: 50 profiles (some without a chain yet), pages of 3 items per segment.
    const profiles = Array.from({ length: 50 }, (_, i) => ({
      pk: `s-${String(i).padStart(2, '0')}`,
      facts: { big: 'x'.repeat(100) },
      ...(i % 7 === 0 ? {} : { ledger: { seq: i, hash: 'c'.repeat(64) } }),
    }));
    const scans: ScanCommand[] = [];
    const others: UpdateCommand[] = [];
    const doc = {
      send: async (command: ScanCommand | UpdateCommand) => {
        if (!(command instanceof ScanCommand)) {
          others.push(command);
          return {};
        }
        scans.push(command);
        const { Segment, TotalSegments, ExclusiveStartKey } = command.input;
        const mine = profiles.filter((_, i) => i % TotalSegments! === Segment);
        const from = ExclusiveStartKey ? mine.findIndex((p) => p.pk === ExclusiveStartKey.pk) + 1 : 0;
        const page = mine.slice(from, from + 3);
        const names = Object.values(command.input.ExpressionAttributeNames ?? {});
        return {
          Items: page.map((p) => Object.fromEntries(Object.entries(p).filter(([k]) => names.includes(k)))),
          LastEvaluatedKey: from + 3 < mine.length ? { pk: page.at(-1)!.pk } : undefined,
        };
      },
    } as unknown as DynamoDBDocumentClient;
    const { client } = conditionalBucket();
    // Act
    const digest = await writeDigest(doc, loadConfig({}), new S3DigestStore(client, 'b'), new Date());
    // Assess: one head per profile with a chain, whichever segment it was in.
    expect(digest.heads.map((h) => h.chain)).toEqual(profiles.filter((p) => p.ledger).map((p) => p.pk));
    expect(new Set(scans.map((c) => c.input.Segment)).size).toBe(HEAD_SCAN_SEGMENTS);
    expect(scans.every((c) => c.input.TotalSegments === HEAD_SCAN_SEGMENTS)).toBe(true);
    expect(Object.values(scans[0]!.input.ExpressionAttributeNames ?? {}).sort()).toEqual(['ledger', 'pk']);
    // The digest is recorded beside the ledger, as the latest written unless a later one is.
    expect(others.map((c) => c.input)).toEqual([
      expect.objectContaining({
        TableName: loadConfig({}).table('meta'),
        Key: { pk: 'ledger-digest' },
        ExpressionAttributeValues: { ':h': digest.digestHash, ':c': digest.createdAt },
      }),
    ]);
  });
});
