import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { COMMAND_HELP } from '../../../src/cli/main.ts';
import { RULES, run } from './run.ts';

/** The module and export of every command, to read its `parseOptions` call. */
const SOURCES: Record<string, [string, string]> = {
  'rules validate': ['rules.ts', 'validate'],
  'rules test': ['rules.ts', 'test'],
  'rules publish': ['publish.ts', 'publish'],
  evaluate: ['evaluate.ts', 'evaluate'],
  simulate: ['simulate.ts', 'simulate'],
  replay: ['replay.ts', 'replay'],
  tick: ['tick.ts', 'tick'],
  pseudonym: ['pseudonym.ts', 'pseudonym'],
  'audit verify': ['audit.ts', 'verify'],
  'audit digest': ['audit.ts', 'digest'],
  'quarantine list': ['quarantine.ts', 'list'],
  'quarantine replay': ['quarantine.ts', 'replay'],
  'quarantine redrive': ['quarantine.ts', 'redrive'],
  'events generate': ['events.ts', 'generate'],
  'events profiles': ['events.ts', 'profiles'],
};

/** The option names of the `parseOptions` call in a command's source (the call's text, balanced). */
function optionsInSource(file: string, name: string): string[] {
  const text = readFileSync(new URL(`../../../src/cli/commands/${file}`, import.meta.url), 'utf8');
  const start = text.indexOf(`export const ${name}: Command`);
  expect(start).toBeGreaterThanOrEqual(0);
  const call = text.indexOf('parseOptions(', start);
  expect(call).toBeGreaterThan(start);
  let depth = 0;
  let end = call + 'parseOptions'.length;
  do {
    if (text[end] === '(') depth++;
    else if (text[end] === ')') depth--;
    end++;
  } while (depth > 0);
  const args = text.slice(call, end);
  return [...args.matchAll(/(?:'([a-z-]+)'|([a-z]+)):\s*\{\s*type:/g)].map((m) => (m[1] ?? m[2])!).sort();
}

describe('Command: pb (usage and help)', () => {
  it('without arguments prints the usage on stderr and exits 2', async () => {
    const r = await run();
    expect(r.code).toBe(2);
    expect(r.out).toEqual([]);
    expect(r.err.join('\n')).toMatch(/^usage: pb <command> \[options\]\n/);
    expect(r.err.join('\n')).toContain('pb rules validate');
  });

  it('prints the usage on stdout and exits 0 for --help, -h and help', async () => {
    for (const argv of [['--help'], ['-h'], ['help']]) {
      const r = await run(...argv);
      expect(r).toMatchObject({ code: 0, err: [] });
      expect(r.out[0]).toBe('usage: pb <command> [options]');
      expect(r.out).toContainEqual(expect.stringMatching(/^ {2}pb evaluate +evaluate profiles \(pure\)$/));
    }
  });

  it("prints a command's usage, one line per option, for help <command>, --help and -h", async () => {
    const viaHelp = await run('help', 'evaluate');
    expect(viaHelp.code).toBe(0);
    expect(viaHelp.err).toEqual([]);
    expect(viaHelp.out[0]).toMatch(/^usage: pb evaluate --profiles <file\.jsonl> --period <P> /);
    expect(viaHelp.out[1]).toBe('evaluate profiles (pure)');
    expect(viaHelp.out).toContainEqual(expect.stringMatching(/^ {2}--engine reference\|compiled +\S/));
    expect(await run('evaluate', '--help')).toEqual(viaHelp);
    expect(await run('evaluate', '--period', '2025', '-h')).toEqual(viaHelp);
    const rulesTest = await run('rules', 'test', '-h');
    expect(rulesTest.code).toBe(0);
    expect(rulesTest.out[0]).toBe('usage: pb rules test [--dir <dir>]');
    expect((await run('help', 'audit', 'verify')).out).toEqual([
      'usage: pb audit verify',
      'verify the decision ledger',
      'options: none',
    ]);
  });

  it("documents exactly the options of every command's parseOptions call", () => {
    expect(COMMAND_HELP.map((c) => c.words.join(' ')).sort()).toEqual(Object.keys(SOURCES).sort());
    for (const c of COMMAND_HELP) {
      const [file, name] = SOURCES[c.words.join(' ')]!;
      const documented = c.options
        .map(([form]) => form.split(' ')[0]!)
        .filter((f) => f !== '--')
        .map((f) => f.slice(2))
        .sort();
      expect({ command: c.words.join(' '), options: documented }).toEqual({
        command: c.words.join(' '),
        options: optionsInSource(file, name),
      });
      for (const [form, description] of c.options) {
        expect(form).toMatch(/^--/);
        expect(description).not.toBe('');
        expect(description).not.toContain('\n');
      }
    }
  });

  it('names the subcommands of a group: pb rules exits 2, pb help rules and pb rules --help exit 0', async () => {
    const bare = await run('rules');
    expect(bare).toEqual({
      code: 2,
      out: [],
      err: ["pb rules: name a subcommand: validate, test, publish (run 'pb help rules')"],
    });
    const help = await run('help', 'rules');
    expect(help.code).toBe(0);
    expect(help.out[0]).toBe('usage: pb rules <validate|test|publish> [options]');
    expect(help.out).toHaveLength(4);
    expect(await run('rules', '--help')).toEqual(help);
    const unknown = await run('rules', 'bogus');
    expect(unknown.code).toBe(2);
    expect(unknown.err).toEqual([
      "pb: unknown command 'rules bogus' (pb rules has: validate, test, publish)",
    ]);
  });

  it('exits 2 for help about an unknown command', async () => {
    expect(await run('help', 'nope')).toEqual({
      code: 2,
      out: [],
      err: ["pb help: unknown command 'nope' (run 'pb --help' for the list)"],
    });
  });
});

describe('Options given twice', () => {
  it('are a usage error (exit 2), not last-wins', async () => {
    for (const argv of [
      ['evaluate', '--profiles', 'a.jsonl', '--period', '2025', '--period', '2026'],
      ['simulate', '--policy', 'a.json', '--baseline', 'a.json', '--baseline=b.json'],
      ['rules', 'validate', '--dir', RULES, '--dir', RULES],
      ['events', 'generate', '--persons', '1', '--persons', '2'],
    ]) {
      const r = await run(...argv);
      expect(r.code).toBe(2);
      expect(r.out).toEqual([]);
      expect(r.err).toHaveLength(1);
      expect(r.err[0]).toMatch(/^pb [a-z ]+: option --[a-z]+ given more than once: give it once$/);
    }
  });
});

describe('Command: pb pseudonym', () => {
  afterEach(() => {
    vi.unstubAllEnvs();
  });

  it('treats an argument starting with - as an unknown option (exit 2), printing nothing', async () => {
    for (const argv of [
      ['--key', 'foo', '11010519491231002X'],
      ['11010519491231002X', '-k'],
    ]) {
      const r = await run('pseudonym', ...argv);
      expect(r.code).toBe(2);
      expect(r.out).toEqual([]);
      expect(r.err).toHaveLength(1);
      expect(r.err[0]).toMatch(/^pb pseudonym: Unknown option '-(-key|k)'/);
    }
  });

  it('refuses a key file named in PB_PSEUDONYM_KEY_FILE that does not exist, creating nothing', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'pb-key-'));
    const file = join(dir, 'missing.key');
    vi.stubEnv('PB_PSEUDONYM_KEY', undefined);
    vi.stubEnv('PB_PSEUDONYM_KEY_FILE', file);
    const r = await run('pseudonym', '11010519491231002X');
    expect(r.code).toBe(1);
    expect(r.out).toEqual([]);
    expect(r.err).toHaveLength(1);
    expect(r.err[0]).toContain(`PB_PSEUDONYM_KEY_FILE names ${file}, which does not exist`);
    expect(existsSync(file)).toBe(false);

    writeFileSync(file, 'cd'.repeat(32));
    const ok = await run('pseudonym', '11010519491231002X');
    expect(ok.code).toBe(0);
    vi.stubEnv('PB_PSEUDONYM_KEY', 'cd'.repeat(32));
    vi.stubEnv('PB_PSEUDONYM_KEY_FILE', undefined);
    expect((await run('pseudonym', '11010519491231002X')).out).toEqual(ok.out);
  });

  it('takes every argument after a lone -- as an identifier', async () => {
    vi.stubEnv('PB_PSEUDONYM_KEY', 'ab'.repeat(32));
    const r = await run('pseudonym', '--', '11010519491231002X', '-5');
    expect(r.code).toBe(1);
    expect(r.out).toHaveLength(1);
    expect(r.out[0]).toMatch(/^11010519491231002X\t\S+$/);
    expect(r.err).toEqual([
      "pb pseudonym: '-5' is not a valid resident identity number or unified social credit code",
    ]);
  });
});
