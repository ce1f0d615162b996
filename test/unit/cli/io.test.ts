import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  parseOptions,
  readInputFile,
  requireDir,
  requireFile,
  stripBom,
  UsageError,
} from '../../../src/cli/io.ts';

const work = mkdtempSync(join(tmpdir(), 'pb-io-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

describe('Function: parseOptions', () => {
  const options = {
    baseline: { type: 'string' },
    tag: { type: 'string', multiple: true },
    all: { type: 'boolean' },
  } as const;

  it('refuses a single-valued option given twice, in either form', () => {
    for (const args of [
      ['--baseline', 'a', '--baseline', 'b'],
      ['--baseline=a', '--baseline', 'b'],
      ['--baseline', 'a', '--baseline=a'],
    ]) {
      expect(() => parseOptions(args, options)).toThrow(
        new UsageError('option --baseline given more than once: give it once'),
      );
    }
  });

  it('accepts an option given once, a repeatable option, a repeated flag and options after --', () => {
    const r = parseOptions(
      ['--baseline', 'a', '--tag', 'x', '--tag', 'y', '--all', '--all', '--', '--baseline'],
      options,
      true,
    );
    expect(r.values).toEqual({ baseline: 'a', tag: ['x', 'y'], all: true });
    expect(r.positionals).toEqual(['--baseline']);
  });

  it('turns node errors into one-line usage errors', () => {
    expect(() => parseOptions(['--bogus'], options)).toThrow(UsageError);
    expect(() => parseOptions(['--bogus'], options)).toThrow(/^Unknown option '--bogus'/);
  });
});

describe('Functions: requireFile, readInputFile, requireDir', () => {
  const file = join(work, 'in.jsonl');
  writeFileSync(file, '\uFEFF{"a":1}\n');

  it('name the option and the path of a missing file or a directory in one usage line', () => {
    expect(() => requireFile('profiles', join(work, 'nope.jsonl'))).toThrow(
      new UsageError(`--profiles ${join(work, 'nope.jsonl')}: no such file`),
    );
    expect(() => requireFile('profiles', join(file, 'below'))).toThrow(
      new UsageError(`--profiles ${join(file, 'below')}: no such file`),
    );
    expect(() => readInputFile('policy', work)).toThrow(
      new UsageError(`--policy ${work}: is a directory, not a file`),
    );
    expect(() => requireDir('dir', join(work, 'none'))).toThrow(
      new UsageError(`--dir ${join(work, 'none')}: no such directory`),
    );
    expect(() => requireDir('dir', file)).toThrow(
      new UsageError(`--dir ${file}: is a file, not a directory`),
    );
  });

  it('return the path, or the text without its byte order mark', () => {
    expect(requireFile('profiles', file)).toBe(file);
    expect(requireDir('dir', work)).toBe(work);
    expect(readInputFile('policy', file)).toBe('{"a":1}\n');
    expect(stripBom('\uFEFFx\uFEFF')).toBe('x\uFEFF');
    expect(stripBom('x')).toBe('x');
  });
});
