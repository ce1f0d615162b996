import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { replay } from '../../src/cli/commands/replay.ts';
import type { Io } from '../../src/cli/io.ts';
import { useTestEngine } from './helpers.ts';

function capture() {
  const out: string[] = [];
  const err: string[] = [];
  const io: Io = { out: (l) => out.push(l), err: (l) => err.push(l), progress: () => undefined };
  return { out, err, io };
}

/** Seeded shuffle, so a failure can be reproduced. */
function shuffled<T>(items: T[], seed: number): T[] {
  const out = [...items];
  let s = seed;
  const rnd = () => {
    s = (s * 1103515245 + 12345) % 2147483648;
    return s / 2147483648;
  };
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(rnd() * (i + 1));
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}

describe('Command: pb replay', () => {
  it('gives the same decisions for the sample events and for them repeated and shuffled', async () => {
    // Prepare
    const dir = mkdtempSync(join(tmpdir(), 'pb-replay-'));
    const demo = readFileSync('events/samples/demo.jsonl', 'utf8')
      .split('\n')
      .filter((l) => l.trim());
    const noisy = shuffled(
      demo.flatMap((l, i) => Array.from({ length: 1 + (i % 3) }, () => l)),
      42,
    );
    const noisyFile = join(dir, 'noisy.jsonl');
    writeFileSync(noisyFile, `${noisy.join('\n')}\n`);
    const now = '2026-03-15T10:00:00+08:00';
    // Act: each run on fresh tables of its own.
    await useTestEngine('replay-a');
    const first = capture();
    expect(
      await replay(
        ['--events', 'events/samples/demo.jsonl', '--now', now, '--out', join(dir, 'a.jsonl')],
        first.io,
      ),
    ).toBe(0);
    await useTestEngine('replay-b');
    const second = capture();
    expect(
      await replay(
        [
          '--events',
          noisyFile,
          '--now',
          now,
          '--out',
          join(dir, 'b.jsonl'),
          '--rejected',
          join(dir, 'r.jsonl'),
        ],
        second.io,
      ),
    ).toBe(0);
    // Assess
    const a = readFileSync(join(dir, 'a.jsonl'), 'utf8');
    const b = readFileSync(join(dir, 'b.jsonl'), 'utf8');
    expect(a.trim().split('\n').length).toBeGreaterThan(3);
    expect(b).toBe(a);
    for (const line of a.trim().split('\n')) {
      expect(Object.keys(JSON.parse(line))).toEqual(['subject', 'policy', 'period', 'status', 'amount']);
    }
    const decisions = a.trim().split('\n').length;
    expect(first.out.at(-1)).toMatch(
      new RegExp(
        `^events: ${demo.length}, accepted: ${demo.length}, rejected: 0, decisions: ${decisions}, notifications: \\d+$`,
      ),
    );
    expect(second.out.at(-1)).toMatch(
      new RegExp(
        `^events: ${noisy.length}, accepted: ${noisy.length}, rejected: 0, decisions: ${decisions}, `,
      ),
    );
    expect(first.out.at(-1)!.split('notifications: ')[1]).toBe(
      second.out.at(-1)!.split('notifications: ')[1],
    );
  });

  it('writes every rejected line with its number, id and reason', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'pb-replay-'));
    const file = join(dir, 'bad.jsonl');
    const good = readFileSync('events/samples/person.registered.jsonl', 'utf8').trim();
    writeFileSync(
      file,
      [
        good,
        '{"id":"x-1","type":"nope"',
        '',
        JSON.stringify({ ...JSON.parse(good), id: 'ps-bad', source: 'tax' }),
      ].join('\n'),
    );
    await useTestEngine('replay-c');
    const r = capture();
    expect(
      await replay(
        ['--events', file, '--now', '2026-03-15T10:00:00+08:00', '--rejected', join(dir, 'r.jsonl')],
        r.io,
      ),
    ).toBe(0);
    const rejected = readFileSync(join(dir, 'r.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(rejected).toEqual([
      { line: 2, id: 'x-1', reason: expect.stringMatching(/^malformed-json: /) },
      { line: 4, id: 'ps-bad', reason: expect.stringMatching(/^source-mismatch: /) },
    ]);
    expect(r.out.at(-1)).toMatch(/^events: 3, accepted: 1, rejected: 2, /);
  });
});
