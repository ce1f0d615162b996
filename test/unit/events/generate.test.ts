import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EVENT_TYPES } from '../../../events/schemas.ts';
import { parseProfileLine } from '../../../src/cli/commands/evaluate.ts';
import { generate, profiles } from '../../../src/cli/commands/events.ts';
import { pseudonym } from '../../../src/cli/commands/pseudonym.ts';
import type { Io } from '../../../src/cli/io.ts';
import { generateEvents } from '../../../src/domain/events/generate.ts';
import { parseAgencyEvent } from '../../../src/domain/events/parse.ts';
import { findIdentityNumbers } from '../../../src/domain/identity.ts';
import { pseudonymise } from '../../../src/domain/pseudonym.ts';

function captureIo(): Io & { outLines: string[]; errLines: string[] } {
  const outLines: string[] = [];
  const errLines: string[] = [];
  return {
    outLines,
    errLines,
    out: (l) => outLines.push(l),
    err: (l) => errLines.push(l),
    progress: () => {},
  };
}

describe('Function: generateEvents', () => {
  it('is reproducible: the same seed gives the same stream, another seed another', () => {
    const a = [...generateEvents({ persons: 300, enterprises: 100, seed: 's1' })];
    const b = [...generateEvents({ persons: 300, enterprises: 100, seed: 's1' })];
    const c = [...generateEvents({ persons: 300, enterprises: 100, seed: 's2' })];
    expect(b).toEqual(a);
    expect(c).not.toEqual(a);
  });

  it('writes only valid events with unique ids, covering every type', () => {
    const subjects = new Set<string>();
    const ids = new Set<string>();
    const types = new Set<string>();
    let count = 0;
    for (const line of generateEvents({ persons: 2000, enterprises: 500, seed: 'mix', year: 2026 })) {
      const r = parseAgencyEvent(line);
      if (!r.ok) throw new Error(`${r.reason}: ${line}`);
      ids.add(r.event.id);
      types.add(r.event.type);
      subjects.add(`${r.event.subject.kind}:${r.event.subject.id}`);
      count++;
    }
    expect(ids.size).toBe(count);
    expect([...types].sort()).toEqual([...EVENT_TYPES].sort());
    expect(subjects.size).toBe(2500);
  });
});

describe('Command: pb events generate', () => {
  it('writes the same bytes for the same seed, to stdout or a file', async () => {
    const io = captureIo();
    expect(await generate(['--persons', '50', '--enterprises', '20', '--seed', '7'], io)).toBe(0);
    const file = join(mkdtempSync(join(tmpdir(), 'pb-gen-')), 'events.jsonl');
    const io2 = captureIo();
    expect(
      await generate(['--persons', '50', '--enterprises', '20', '--seed', '7', '--out', file], io2),
    ).toBe(0);
    expect(readFileSync(file, 'utf8')).toBe(`${io.outLines.join('\n')}\n`);
    expect(io2.errLines).toEqual([
      `wrote ${readFileSync(file, 'utf8').trim().split('\n').length} events to ${file}`,
    ]);
  });

  it('refuses bad usage', async () => {
    await expect(generate(['--persons', '5', '--seed', '1'], captureIo())).rejects.toThrow(/--enterprises/);
    await expect(
      generate(['--persons', '-5', '--enterprises', '1', '--seed', '1'], captureIo()),
    ).rejects.toThrow();
    await expect(
      generate(['--persons', '1', '--enterprises', '1', '--seed', '1', '--year', '20x5'], captureIo()),
    ).rejects.toThrow(/--year/);
  });
});

describe('Command: pb pseudonym', () => {
  const saved = process.env.PB_PSEUDONYM_KEY;
  beforeAll(() => {
    process.env.PB_PSEUDONYM_KEY = '3c'.repeat(32);
  });
  afterAll(() => {
    if (saved === undefined) delete process.env.PB_PSEUDONYM_KEY;
    else process.env.PB_PSEUDONYM_KEY = saved;
  });

  it('prints ID<TAB>pseudonym under the configured key, names invalid ids and exits 1', async () => {
    const io = captureIo();
    const code = await pseudonym(['11010519491231002X', '110105194912310021', '91330100716105852F'], io);
    const key = Buffer.from('3c'.repeat(32), 'hex');
    expect(code).toBe(1);
    expect(io.outLines).toEqual([
      `11010519491231002X\t${pseudonymise(key, '11010519491231002X')}`,
      `91330100716105852F\t${pseudonymise(key, '91330100716105852F')}`,
    ]);
    expect(io.errLines).toHaveLength(1);
    expect(io.errLines[0]).toContain('110105194912310021');
  });
});

describe('Command: pb events profiles', () => {
  const saved = process.env.PB_PSEUDONYM_KEY;
  const KEY = '5d'.repeat(32);
  beforeAll(() => {
    process.env.PB_PSEUDONYM_KEY = KEY;
  });
  afterAll(() => {
    if (saved === undefined) delete process.env.PB_PSEUDONYM_KEY;
    else process.env.PB_PSEUDONYM_KEY = saved;
  });
  const dir = mkdtempSync(join(tmpdir(), 'pb-profiles-'));
  const fold = async (lines: string[]) => {
    const file = join(dir, `events-${Math.random().toString(36).slice(2)}.jsonl`);
    writeFileSync(file, `${lines.join('\n')}\n`);
    const io = captureIo();
    expect(await profiles(['--events', file], io)).toBe(0);
    return io;
  };

  it('folds a stream into one valid profile per subject, under pseudonyms, whatever the order', async () => {
    // Prepare
    const events = [...generateEvents({ persons: 60, enterprises: 20, seed: 'fold', year: 2025 })];
    const ids = new Set(events.map((l) => (JSON.parse(l) as { subject: { id: string } }).subject.id));
    const shuffled = [...events].reverse();
    // Act
    const inOrder = await fold(events);
    const reversed = await fold([...shuffled, ...shuffled.slice(0, 10)]);
    // Assess
    const key = Buffer.from(KEY, 'hex');
    expect(inOrder.outLines.length).toBe(ids.size);
    expect(new Set(inOrder.outLines.map((l) => (JSON.parse(l) as { subject: string }).subject))).toEqual(
      new Set([...ids].map((id) => pseudonymise(key, id))),
    );
    for (const line of inOrder.outLines) expect(parseProfileLine(line).ok, line).toBe(true);
    expect(findIdentityNumbers(inOrder.outLines.join('\n'))).toEqual([]);
    expect(reversed.outLines).toEqual(inOrder.outLines);
    expect(inOrder.errLines.at(-1)).toBe(
      `events: ${events.length}, accepted: ${events.length}, rejected: 0, profiles: ${ids.size}`,
    );
  });

  it('keeps the latest fact by occurredAt, and refuses an id seen with another body', async () => {
    // Prepare: a move registered before the registration it follows arrives.
    const id = '11010519491231002X';
    const event = (n: number, at: string, region: string, type = 'public-security.hukou-moved') =>
      JSON.stringify({
        id: `ev-${n}`,
        type,
        schemaVersion: 1,
        source: 'public-security',
        occurredAt: at,
        subject: { kind: 'person', id },
        data:
          type === 'person.registered'
            ? { birthDate: '1949-12-31', hukouRegion: region }
            : { hukouRegion: region },
      });
    // Act
    const io = await fold([
      event(2, '2025-06-01T09:00:00+08:00', '110106'),
      event(1, '2024-01-01T09:00:00+08:00', '110105', 'person.registered'),
      event(2, '2025-06-01T09:00:00+08:00', '310101'),
      'not json',
    ]);
    // Assess
    expect(io.outLines.map((l) => JSON.parse(l))).toEqual([
      {
        subject: pseudonymise(Buffer.from(KEY, 'hex'), id),
        kind: 'person',
        facts: { birthDate: '1949-12-31', hukouRegion: '110106' },
      },
    ]);
    expect(io.errLines.join('\n')).toMatch(
      /rejected line 3: conflict: event id ev-2 was seen with another body/,
    );
    expect(io.errLines.join('\n')).not.toContain(id);
    expect(io.errLines.at(-1)).toBe('events: 4, accepted: 2, rejected: 2, profiles: 1');
  });
});
