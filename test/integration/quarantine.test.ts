import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { docClient, sqsClient } from '../../src/adapters/aws.ts';
import { scanAll } from '../../src/adapters/dynamodb/scan.ts';
import { list, replay } from '../../src/cli/commands/quarantine.ts';
import type { Io } from '../../src/cli/io.ts';
import { findIdentityNumbers } from '../../src/domain/identity.ts';
import { drainQueues, sendLines } from '../../src/local/pipeline.ts';
import { TABLES, type TableId } from '../../src/resources.ts';
import { runtimeConfig } from '../../src/runtime/engine.ts';
import { useTestEngine } from './helpers.ts';

const demo = readFileSync('events/samples/demo.jsonl', 'utf8')
  .split('\n')
  .filter((l) => l.trim());
const vat = readFileSync('events/samples/tax.vat-status-changed.jsonl', 'utf8').trim();

function io() {
  const out: string[] = [];
  const value: Io = { out: (l) => out.push(l), err: (l) => out.push(l), progress: () => undefined };
  return { out, io: value };
}

/** Malformed events mixed into a good stream, each with the reason prefix it must be kept under. */
function badLines(): Array<{ body: string; reason: string }> {
  const ev = JSON.parse(vat) as Record<string, unknown>;
  const wrongSource = { ...ev, id: 'tax-bad-source', source: 'samr' };
  return [
    { body: vat.slice(0, 60), reason: 'malformed-json' },
    { body: JSON.stringify(wrongSource), reason: 'source-mismatch' },
    {
      body: JSON.stringify({
        ...ev,
        id: 'tax-bad-check',
        subject: { kind: 'enterprise', id: '91110105000056GKMA' },
      }),
      reason: 'invalid-identity',
    },
    {
      body: JSON.stringify({ ...ev, id: 'tax-extra', data: { vatTaxpayerType: 'general', x: 1 } }),
      reason: 'unknown-field',
    },
    {
      body: JSON.stringify({ ...ev, id: 'tax-proto', data: JSON.parse('{"__proto__": {"polluted": 1}}') }),
      reason: 'forbidden-key',
    },
    { body: JSON.stringify({ ...ev, data: { vatTaxpayerType: 'small-scale' } }), reason: 'id-conflict' },
  ];
}

describe('Quarantine: rejected events are kept, listed and replayed', () => {
  it('accepts every good line, keeps every bad one with its reason, replays a fixed one, leaks no identity number', async () => {
    // Prepare: capture every log line of the run.
    const logged: string[] = [];
    const write = process.stdout.write.bind(process.stdout);
    process.stdout.write = ((chunk: string | Uint8Array, ...rest: unknown[]) => {
      logged.push(String(chunk));
      return (write as (c: string | Uint8Array, ...r: unknown[]) => boolean)(chunk, ...rest);
    }) as typeof process.stdout.write;
    // Every log line, debug included: the handlers' logger is built when they are first loaded.
    process.env.POWERTOOLS_LOG_LEVEL = 'DEBUG';
    try {
      const engine = await useTestEngine('quar', '2026-03-15T10:00:00+08:00');
      const bad = badLines();
      const good = demo;
      const stream = [...good.slice(0, 10), ...bad.slice(0, 3), ...good.slice(10), ...bad.slice(3)];
      // Act
      await sendLines(
        sqsClient(),
        engine.queues.agencyEvents.url,
        stream.map((l, i) => ({ line: i + 1, body: typeof l === 'string' ? l : l.body })),
      );
      await drainQueues(engine.queues, engine.consumers);
      // Assess: every good event has its receipt; every bad one is in the quarantine, once.
      const receipts: Record<string, unknown>[] = [];
      for await (const r of scanAll(docClient(), runtimeConfig().table('events'))) receipts.push(r);
      expect(receipts).toHaveLength(good.length);
      const listed = io();
      expect(await list(['--json'], listed.io)).toBe(0);
      const kept = listed.out
        .slice(0, -1)
        .map((l) => JSON.parse(l) as { key: string; reason: string; eventId: string | null });
      expect(kept.map((k) => k.reason.split(':')[0]).sort()).toEqual(bad.map((b) => b.reason).sort());
      expect(listed.out.at(-1)).toBe(`${bad.length} rejected events open`);
      expect(({} as Record<string, unknown>).polluted).toBeUndefined();

      // A fixed event (the right source) is replayed from the quarantine and accepted.
      const wrong = kept.find((k) => k.reason.startsWith('source-mismatch'))!;
      const fixedFile = join(engine.dataDir, 'fixed.json');
      writeFileSync(fixedFile, JSON.stringify({ ...JSON.parse(vat), id: 'tax-bad-source' }));
      const replayed = io();
      expect(await replay([wrong.key, '--body-file', fixedFile], replayed.io)).toBe(0);
      expect(replayed.out).toEqual(['1 rejected event replayed: 1 accepted, 0 rejected again']);
      const after: Record<string, unknown>[] = [];
      for await (const r of scanAll(docClient(), runtimeConfig().table('events'))) after.push(r);
      expect(after.map((r) => r.pk)).toContain('tax-bad-source');
      const open = io();
      await list([], open.io);
      expect(open.out.at(-1)).toBe(`${bad.length - 1} rejected events open`);
      // Replaying it again sends nothing: it was replayed already (no duplicate rejection appears).
      const again = io();
      await expect(replay([wrong.key, wrong.key], again.io)).rejects.toThrow(/replayed already/);
      expect(again.out.join('\n')).toMatch(/was replayed already \(replayed\); skipped/);
      const still = io();
      await list([], still.io);
      expect(still.out.at(-1)).toBe(`${bad.length - 1} rejected events open`);
      // An event replayed unchanged is rejected again: the command says so, with the new key, and fails.
      const unchanged = kept.find((k) => k.key !== wrong.key && k.eventId !== null)!;
      const retried = io();
      expect(await replay([unchanged.key], retried.io)).toBe(1);
      expect(retried.out.at(-1)).toBe('1 rejected event replayed: 0 accepted, 1 rejected again');
      expect(retried.out.join('\n')).toMatch(
        new RegExp(`pb quarantine replay: ${unchanged.eventId} rejected again: .* \\(now .+\\)`),
      );
      const last = io();
      await list([], last.io);
      expect(last.out.at(-1)).toBe(`${bad.length - 1} rejected events open`);

      // No raw identity number in any table or any log line.
      for (const id of Object.keys(TABLES) as TableId[]) {
        for await (const item of scanAll(docClient(), runtimeConfig().table(id))) {
          expect(
            findIdentityNumbers(JSON.stringify(item)),
            `${id}: ${JSON.stringify(item).slice(0, 200)}`,
          ).toEqual([]);
        }
      }
      expect(logged.length).toBeGreaterThan(good.length);
      expect(findIdentityNumbers(logged.join(''))).toEqual([]);
    } finally {
      process.stdout.write = write;
      delete process.env.POWERTOOLS_LOG_LEVEL;
    }
  });
});
