import { describe, expect, it } from 'vitest';
import { nowOption } from '../../../src/cli/now.ts';
import { run } from './run.ts';

describe('Function: nowOption', () => {
  it('takes a real date-time with offset in the years 2000 to 2100', () => {
    expect(nowOption('2026-03-01T09:00:00+08:00')).toBe('2026-03-01T09:00:00+08:00');
    expect(nowOption('2100-12-31T23:59:59Z')).toBe('2100-12-31T23:59:59Z');
  });

  it.each([
    ['2025-02-30T10:00:00+08:00', /is not a real ISO 8601/],
    ['2026-03-01', /is not a real ISO 8601/],
    ['9999-12-31T23:59:59+14:00', /the year must be 2000 to 2100/],
    ['0001-01-01T00:00:00+00:00', /the year must be 2000 to 2100/],
  ])('refuses %s', (value, message) => {
    expect(() => nowOption(value)).toThrow(message);
  });
});

describe('Commands that start the local stack: bad usage exits 2 before anything starts', () => {
  it.each([
    [['tick', '--now', '9999-12-31T23:59:59+14:00'], /the year must be 2000 to 2100/],
    [
      ['tick', '--now', '2026-04-01T00:00:00+08:00', '--segments', '1e1'],
      /--segments must be a whole number from 1 to 64/,
    ],
    [
      ['tick', '--now', '2026-04-01T00:00:00+08:00', '--segments', '0'],
      /--segments must be a whole number from 1 to 64/,
    ],
    [['rules', 'publish', '--dir', '/no/such/rules'], /--dir \/no\/such\/rules: no such directory/],
    [['rules', 'publish', '--now', '2025-02-30T00:00:00Z'], /is not a real ISO 8601/],
    [
      ['quarantine', 'replay', 'k1', '--body-file', '/no/such.json'],
      /--body-file \/no\/such.json: no such file/,
    ],
    [
      ['events', 'generate', '--persons', '5000000', '--enterprises', '1', '--seed', 'x'],
      /together must be at most 5,000,000/,
    ],
    [
      [
        'events',
        'generate',
        '--persons',
        '1',
        '--enterprises',
        '1',
        '--seed',
        'x',
        '--out',
        '/no/such/dir/e.jsonl',
      ],
      /directory \/no\/such\/dir does not exist/,
    ],
    [['evaluate', '--profiles', '--period', '2025'], /^pb evaluate: option --profiles needs a value/],
    [
      [
        'replay',
        '--events',
        'events/samples/demo.jsonl',
        '--now',
        '2026-03-15T10:00:00+08:00',
        '--out',
        './events/samples/demo.jsonl',
      ],
      /^pb replay: --events and --out name the same file/,
    ],
    [
      [
        'replay',
        '--events',
        'events/samples/demo.jsonl',
        '--now',
        '2026-03-15T10:00:00+08:00',
        '--out',
        '/tmp/pb-same.jsonl',
        '--rejected',
        '/tmp/pb-same.jsonl',
      ],
      /^pb replay: --out and --rejected name the same file/,
    ],
    [
      ['events', 'profiles', '--events', 'events/samples/demo.jsonl', '--out', 'events/samples/demo.jsonl'],
      /^pb events profiles: --events and --out name the same file/,
    ],
  ])('pb %j', async (argv, message) => {
    const r = await run(...argv);
    expect(r.code).toBe(2);
    expect(r.out).toEqual([]);
    expect(r.err).toHaveLength(1);
    expect(r.err[0]).toMatch(message);
  });
});
