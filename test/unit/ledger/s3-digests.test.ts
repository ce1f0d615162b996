import {
  GetObjectCommand,
  ListObjectVersionsCommand,
  PutObjectCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { describe, expect, it } from 'vitest';
import { S3DigestStore } from '../../../src/adapters/ledger-store.ts';
import type { Digest } from '../../../src/domain/ledger/index.ts';

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

  it('puts a digest only under a key that does not exist yet', async () => {
    const { client, sent } = versionedBucket([]);
    await new S3DigestStore(client, 'bucket').put({
      createdAt: '2026-04-01T00:00:00.000Z',
      digestHash: 'f'.repeat(64),
    } as Digest);
    const put = sent.find((c) => c instanceof PutObjectCommand) as PutObjectCommand;
    expect(put.input).toMatchObject({
      Bucket: 'bucket',
      Key: `digests/2026-04-01T00:00:00.000Z-${'f'.repeat(16)}.json`,
      IfNoneMatch: '*',
    });
  });
});
