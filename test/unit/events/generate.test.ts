import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EVENT_TYPES } from '../../../events/schemas.ts';
import { generate } from '../../../src/cli/commands/events.ts';
import { pseudonym } from '../../../src/cli/commands/pseudonym.ts';
import type { Io } from '../../../src/cli/io.ts';
import { generateEvents } from '../../../src/domain/events/generate.ts';
import { parseAgencyEvent } from '../../../src/domain/events/parse.ts';
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
