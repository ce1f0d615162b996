import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { hasIdConflict } from '../../../src/cli/commands/replay.ts';

const KEY = Buffer.alloc(32, 9);
const sample = JSON.parse(readFileSync('events/samples/person.registered.jsonl', 'utf8').split('\n')[0]!) as {
  id: string;
  data: { hukouRegion: string };
};
const body = (over: Record<string, unknown>) => JSON.stringify({ ...sample, ...over });

describe('Function: hasIdConflict (when pb replay must keep file order)', () => {
  it('finds two bodies under one id', () => {
    const other = body({ data: { ...sample.data, hukouRegion: '110108' } });
    expect(hasIdConflict([body({}), body({ id: 'ps-other' }), other], KEY)).toBe(true);
  });

  it('finds none in repeated bodies, whatever their key order or spacing', () => {
    const reordered = JSON.stringify(
      Object.fromEntries(Object.entries(JSON.parse(body({}))).reverse()),
      null,
      2,
    );
    expect(hasIdConflict([body({}), body({}), reordered.replace(/\n/g, ' ')], KEY)).toBe(false);
  });

  it('ignores events that are rejected anyway, and names ids as ingest keys them', () => {
    expect(hasIdConflict([body({}), '{"id":', body({ source: 'tax' })], KEY)).toBe(false);
    const upper = body({ id: 'ev-11010519491231002X' });
    const lower = body({ id: 'ev-11010519491231002x', data: { ...sample.data, hukouRegion: '110108' } });
    expect(hasIdConflict([upper, lower], KEY)).toBe(true);
  });
});
