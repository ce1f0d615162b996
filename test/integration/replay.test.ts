import { execSync, spawn } from 'node:child_process';
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

  it('exits 1 naming the messages that failed every attempt (a notification channel that cannot be reached)', async () => {
    await useTestEngine('replay-dlq');
    const saved = { topic: process.env.PB_NOTIFY_TOPIC_ARN, sns: process.env.AWS_ENDPOINT_URL_SNS };
    process.env.PB_NOTIFY_TOPIC_ARN = 'arn:aws-cn:sns:cn-north-1:000000000000:pb-nowhere.fifo';
    process.env.AWS_ENDPOINT_URL_SNS = 'http://127.0.0.1:9';
    try {
      const r = capture();
      const code = await replay(
        ['--events', 'events/samples/demo.jsonl', '--now', '2026-06-15T10:00:00+08:00'],
        r.io,
      );
      expect(code).toBe(1);
      expect(r.out.at(-1)).toMatch(
        /^events: 22, accepted: 22, rejected: 0, decisions: \d+, notifications: 0$/,
      );
      expect(r.err).toEqual([
        expect.stringMatching(
          /^pb replay: \d+ messages? of the notifications queue failed every attempt and went to its dead-letter queue \(pb quarantine list\): the run is incomplete$/,
        ),
      ]);
    } finally {
      for (const [k, v] of [
        ['PB_NOTIFY_TOPIC_ARN', saved.topic],
        ['AWS_ENDPOINT_URL_SNS', saved.sns],
      ] as const) {
        if (v === undefined) delete process.env[k];
        else process.env[k] = v;
      }
    }
  }, 120_000);

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
      { line: 2, id: null, reason: expect.stringMatching(/^malformed-json: /) },
      { line: 4, id: 'ps-bad', reason: expect.stringMatching(/^source-mismatch: /) },
    ]);
    expect(r.out.at(-1)).toMatch(/^events: 3, accepted: 1, rejected: 2, /);
  });

  it('keeps the earlier of two bodies under one id, refuses lines too large to queue, and names ids as sent', async () => {
    // Prepare: the elderly allowance for three very old persons. Line 1's id comes back on line 13
    // (another batch) and on line 3 (the same batch) about other persons; lines 5 and 6 are far
    // over any queue's limit; line 7 has an id with a long digit run (a timestamp) and a bad region.
    const dir = mkdtempSync(join(tmpdir(), 'pb-replay-'));
    const registered = (id: string, subject: string) =>
      JSON.stringify({
        id,
        type: 'person.registered',
        schemaVersion: 1,
        source: 'public-security',
        occurredAt: '2025-01-01T10:00:00+08:00',
        subject: { kind: 'person', id: subject },
        data: { birthDate: '1940-01-01', hukouRegion: '110105' },
      });
    const A = '110101194001010012';
    const B = '11010519491231002X';
    const C = '110105194501010014';
    const padded = (id: string, bytes: number) =>
      JSON.stringify({ ...JSON.parse(registered(id, C)), padding: ' '.repeat(bytes) });
    const lines = [
      registered('ps-dup-1', A), // 1: kept
      registered('ps-c', C), // 2
      registered('ps-dup-1', B), // 3: same batch, another body: the conflict
      registered('ps-b', B), // 4
      padded('ps-big-1', 300_000), // 5
      padded('ps-big-2', 1_200_000), // 6
      JSON.stringify({
        ...JSON.parse(registered('ps-20250601100000123', C)),
        data: { birthDate: '1940-01-01', hukouRegion: '1101' },
      }), // 7
      ...Array.from({ length: 5 }, (_, i) => registered(`ps-filler-${i}`, C)), // 8-12
      registered('ps-dup-1', C), // 13: a later batch, another body: the conflict
    ];
    const file = join(dir, 'order.jsonl');
    writeFileSync(file, `${lines.join('\n')}\n`);
    await useTestEngine('replay-order');
    const r = capture();
    // Act
    const code = await replay(
      [
        '--events',
        file,
        '--now',
        '2025-06-15T10:00:00+08:00',
        '--rejected',
        join(dir, 'r.jsonl'),
        '--concurrency',
        '4',
      ],
      r.io,
    );
    // Assess
    expect(code).toBe(0);
    const rejected = readFileSync(join(dir, 'r.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(rejected.map((x) => [x.line, x.id, x.reason.split(':')[0]])).toEqual([
      [3, 'ps-dup-1', 'id-conflict'],
      [5, 'ps-big-1', 'too-large'],
      [6, 'ps-big-2', 'too-large'],
      [7, 'ps-20250601100000123', 'invalid-field'],
      [13, 'ps-dup-1', 'id-conflict'],
    ]);
    expect(r.out.at(-1)).toMatch(/^events: 13, accepted: 8, rejected: 5, /);
    expect(r.err.filter((l) => l.startsWith('pb replay: line '))).toHaveLength(2);
  });

  it('reports only what this run decided when the stack was already running', async () => {
    // Prepare: the demo stream already replayed on this stack.
    const dir = mkdtempSync(join(tmpdir(), 'pb-replay-'));
    const now = '2026-03-15T10:00:00+08:00';
    await useTestEngine('replay-d');
    const first = capture();
    const run = (events: string, out: string, io: Io) =>
      replay(['--events', events, '--now', now, '--out', out], io);
    expect(await run('events/samples/demo.jsonl', join(dir, 'first.jsonl'), first.io)).toBe(0);
    const extra = join(dir, 'extra.jsonl');
    // A later summary for an enterprise of the stream: its refund for 2025 changes.
    const summary = JSON.parse(readFileSync('events/samples/hrss.ui-annual-summary.jsonl', 'utf8'));
    writeFileSync(
      extra,
      `${JSON.stringify({
        ...summary,
        id: 'hrss-2026-900001',
        occurredAt: '2026-03-10T09:30:00+08:00',
        data: { ...summary.data, premiumsPaid: summary.data.premiumsPaid + 100_000 },
      })}\n`,
    );
    // Act: the same stream again (nothing new to decide), then one more event on the same stack.
    const again = capture();
    expect(await run('events/samples/demo.jsonl', join(dir, 'again.jsonl'), again.io)).toBe(0);
    const more = capture();
    expect(await run(extra, join(dir, 'more.jsonl'), more.io)).toBe(0);
    // Assess
    const firstLines = readFileSync(join(dir, 'first.jsonl'), 'utf8').trim().split('\n');
    expect(firstLines.length).toBeGreaterThan(3);
    expect(readFileSync(join(dir, 'again.jsonl'), 'utf8')).toBe('');
    expect(again.out.at(-1)).toMatch(/, decisions: 0, /);
    const moreLines = readFileSync(join(dir, 'more.jsonl'), 'utf8').trim().split('\n').filter(Boolean);
    expect(more.out.at(-1)).toMatch(new RegExp(`, decisions: ${moreLines.length}, `));
    expect(moreLines.length).toBeGreaterThan(0);
    expect(moreLines.length).toBeLessThan(firstLines.length);
    expect(moreLines.map((l) => JSON.parse(l).status)).toContain('eligibility-changed');
    for (const l of moreLines) expect(firstLines).not.toContain(l);
  });
});

describe('Command: pb replay, bad usage (exit 2, before any stack starts)', () => {
  it.each([
    [
      ['--events', 'events/samples/demo.jsonl', '--now', '2025-02-30T10:00:00+08:00'],
      /--now '2025-02-30T10:00:00\+08:00' is not a real/,
    ],
    [
      ['--events', 'events/samples/demo.jsonl', '--now', '2025-03-01T24:00:00+08:00'],
      /is not a real ISO 8601/,
    ],
    [
      ['--events', 'no/such.jsonl', '--now', '2025-03-01T10:00:00+08:00'],
      /--events no\/such.jsonl: no such file/,
    ],
    [['--events', 'events', '--now', '2025-03-01T10:00:00+08:00'], /--events events: is a directory/],
    [
      [
        '--events',
        'events/samples/demo.jsonl',
        '--now',
        '2025-03-01T10:00:00+08:00',
        '--out',
        '/no/such/dir/d.jsonl',
      ],
      /--out \/no\/such\/dir\/d.jsonl: directory \/no\/such\/dir does not exist/,
    ],
  ])('%j', async (args, message) => {
    const { main } = await import('../../src/cli/main.ts');
    const c = capture();
    expect(await main(['replay', ...args], c.io)).toBe(2);
    expect(c.out).toEqual([]);
    expect(c.err).toHaveLength(1);
    expect(c.err[0]).toMatch(message);
  });
});

/** DynamoDB Local processes whose parent is `pid`. */
function javaChildrenOf(pid: number): number[] {
  return execSync('ps -eo pid,ppid,args', { encoding: 'utf8' })
    .split('\n')
    .map((l) => l.trim().split(/\s+/))
    .filter((f) => f[1] === String(pid) && f.slice(2).join(' ').includes('DynamoDBLocal'))
    .map((f) => Number(f[0]));
}

const alive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

describe('Command: pb replay, interrupted', () => {
  it.each(['SIGINT', 'SIGTERM'] as const)('stops the DynamoDB Local it started on %s', async (signal) => {
    // Prepare: a replay that starts a stack of its own (no running stack in its environment).
    const env = Object.fromEntries(
      Object.entries(process.env).filter(([k]) => !k.startsWith('PB_') && !k.startsWith('AWS_ENDPOINT_URL')),
    );
    const child = spawn(
      process.execPath,
      ['bin/pb.mjs', 'replay', '--events', 'events/samples/demo.jsonl', '--now', '2026-03-15T10:00:00+08:00'],
      { env: { ...env, POWERTOOLS_LOG_LEVEL: 'ERROR' }, stdio: 'ignore' },
    );
    try {
      let java: number[] = [];
      const deadline = Date.now() + 60_000;
      while (java.length === 0 && Date.now() < deadline && child.exitCode === null) {
        await new Promise((r) => setTimeout(r, 100));
        java = javaChildrenOf(child.pid!);
      }
      expect(java).toHaveLength(1);
      // Act
      const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
      child.kill(signal);
      const code = await exited;
      // Assess: the JVM is gone (give the kernel a moment to reap it), and the exit code says why.
      const gone = Date.now() + 5_000;
      while (alive(java[0]!) && Date.now() < gone) await new Promise((r) => setTimeout(r, 50));
      expect(alive(java[0]!)).toBe(false);
      expect(code).toBe(signal === 'SIGINT' ? 130 : 143);
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
    }
  });
});
