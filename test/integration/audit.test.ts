import { renameSync } from 'node:fs';
import { DeleteCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { describe, expect, it } from 'vitest';
import { docClient } from '../../src/adapters/aws.ts';
import { scanAll } from '../../src/adapters/dynamodb/scan.ts';
import { verify } from '../../src/cli/commands/audit.ts';
import type { Io } from '../../src/cli/io.ts';
import { runtimeConfig } from '../../src/runtime/engine.ts';
import { decideDemo, useTestEngine } from './helpers.ts';

function captureIo() {
  const out: string[] = [];
  const err: string[] = [];
  const io: Io = { out: (l) => out.push(l), err: (l) => err.push(l), progress: () => undefined };
  return { io, out, err };
}

async function runVerify() {
  const c = captureIo();
  const code = await verify([], c.io);
  return { code, ...c };
}

/** A test stack of its own with the demo stream decided on it: a real ledger. */
async function demoLedger(prefix: string): Promise<void> {
  const engine = await useTestEngine(prefix, '2026-03-15T10:00:00+08:00');
  await decideDemo(engine);
}

describe('Command: pb audit verify', () => {
  it('passes on the untouched ledger and fails on every modified, deleted, reordered or inserted entry', async () => {
    // Prepare: a real ledger from the demo stream.
    await demoLedger('audit');
    const table = runtimeConfig().table('ledger');
    const doc = docClient();
    const entries: Record<string, unknown>[] = [];
    for await (const e of scanAll(doc, table)) entries.push(e);
    expect(entries.length).toBeGreaterThan(3);
    const clean = await runVerify();
    expect(clean.code).toBe(0);
    expect(clean.out[0]).toMatch(new RegExp(`^${entries.length} ledger entries checked`));

    const put = (item: Record<string, unknown>) => doc.send(new PutCommand({ TableName: table, Item: item }));
    const del = (item: Record<string, unknown>) =>
      doc.send(new DeleteCommand({ TableName: table, Key: { pk: item.pk, seq: item.seq } }));

    for (const entry of entries) {
      // Modified
      await put({ ...entry, payload: { ...(entry.payload as object), amount: 1 } });
      let r = await runVerify();
      expect(r.code, `modified ${entry.pk}#${entry.seq}`).toBe(1);
      expect(r.err[0]).toMatch(/^audit failed: /);
      await put(entry);
      // Deleted
      await del(entry);
      r = await runVerify();
      expect(r.code, `deleted ${entry.pk}#${entry.seq}`).toBe(1);
      await put(entry);
      // Inserted after it (a forged entry with its own hash recomputed would still break the head)
      await put({ ...entry, seq: (entry.seq as number) + 1000, prevHash: entry.hash, kind: 'grant' });
      r = await runVerify();
      expect(r.code, `inserted after ${entry.pk}#${entry.seq}`).toBe(1);
      await del({ ...entry, seq: (entry.seq as number) + 1000 });
    }
    // Reordered: swap the contents of two neighbouring entries of one chain.
    const byChain = new Map<string, Record<string, unknown>[]>();
    for (const e of entries) byChain.set(e.pk as string, [...(byChain.get(e.pk as string) ?? []), e]);
    const chain = [...byChain.values()].find((c) => c.length >= 2);
    if (chain) {
      const [a, b] = chain as [Record<string, unknown>, Record<string, unknown>];
      await put({ ...b, seq: a.seq });
      await put({ ...a, seq: b.seq });
      const r = await runVerify();
      expect(r.code).toBe(1);
      await put(a);
      await put(b);
    }
    expect((await runVerify()).code).toBe(0);
  });

  it('audits the DynamoDB the environment points at without needing its queues', async () => {
    // Prepare: a ledger on a running stack, and an environment that names only its DynamoDB.
    await demoLedger('audit-env');
    let entries = 0;
    for await (const _ of scanAll(docClient(), runtimeConfig().table('ledger'))) entries += 1;
    const saved = Object.entries(process.env).filter(([k]) => /^PB_(DLQ|QUEUE)_URL_/.test(k));
    for (const [k] of saved) delete process.env[k];
    try {
      // Act
      const r = await runVerify();
      // Assess: the stack's own entries, not a fresh local one's.
      expect(entries).toBeGreaterThan(3);
      expect(r.code, r.err.join('\n')).toBe(0);
      expect(r.out[0]).toMatch(
        new RegExp(`^${entries} ledger entries checked in \\d+ chains against 0 digests`),
      );
      expect(r.err).toEqual([
        'pb audit verify: note: no digest written yet: the chain heads are not anchored outside the ledger (pb audit digest anchors them)',
      ]);
      // pb audit digest anchors the heads; verify still passes against the new digest.
      const { main } = await import('../../src/cli/main.ts');
      const d = captureIo();
      expect(await main(['audit', 'digest'], d.io), d.err.join('\n')).toBe(0);
      expect(d.out[0]).toMatch(/^digest [0-9a-f]{64} of \d+ chains written to /);
      const anchored = await runVerify();
      expect(anchored.code).toBe(0);
      expect(anchored.out[0]).toMatch(/ against 1 digest \(/);
      expect(anchored.err).toEqual([]);
      // The digest is recorded beside the ledger too: a digest file that went away does not verify.
      const file = /written to (.+)$/.exec(d.out[0]!)![1]!;
      renameSync(file, `${file}.away`);
      try {
        const lost = await runVerify();
        expect(lost.code).toBe(1);
        expect(lost.err[0]).toMatch(
          /^audit failed: ledger digest \S+: recorded beside the ledger as the latest written, but missing from the 0 digests read \(removed\)$/,
        );
      } finally {
        renameSync(`${file}.away`, file);
      }
      expect((await runVerify()).code).toBe(0);
    } finally {
      for (const [k, v] of saved) process.env[k] = v;
    }
  });
});
