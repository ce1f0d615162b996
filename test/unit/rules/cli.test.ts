import { cpSync, mkdtempSync, rmSync, unlinkSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it, vi } from 'vitest';
import type { Io } from '../../../src/cli/io.ts';
import { main } from '../../../src/cli/main.ts';

const RULES = new URL('../../../rules', import.meta.url).pathname;
const work = mkdtempSync(join(tmpdir(), 'pb-cli-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

async function run(...argv: string[]): Promise<{ code: number; out: string[]; err: string[] }> {
  const out: string[] = [];
  const err: string[] = [];
  const io: Io = { out: (l) => out.push(l), err: (l) => err.push(l), progress: () => {} };
  const code = await main(argv, io);
  return { code, out, err };
}

function profiles(name: string, lines: string[]): string {
  const file = join(work, name);
  writeFileSync(file, `${lines.join('\n')}\n`);
  return file;
}

describe('Command: pb evaluate', () => {
  it('prints one line per subject and policy with keys in the fixed order', async () => {
    // Prepare
    const file = profiles('a.jsonl', [
      JSON.stringify({
        subject: 'p1',
        kind: 'person',
        facts: { birthDate: '1945-03-01', hukouRegion: '110105' },
      }),
      '',
      JSON.stringify({ subject: 'e1', kind: 'enterprise', facts: { taxableIncome: { '2025': 1 } } }),
    ]);
    // Act
    const r = await run('evaluate', '--profiles', file, '--period', '2025-03', '--rules', RULES);
    // Assess
    expect(r.code).toBe(0);
    expect(r.err).toEqual([]);
    expect(r.out).toEqual([
      '{"subject":"p1","policy":"disability-living-subsidy","period":"2025-03","outcome":"not-eligible","amount":null,"reasons":["disabilityLevel-not-1-to-4","missing-fact:dibaoEnrolled"]}',
      '{"subject":"p1","policy":"disability-nursing-subsidy","period":"2025-03","outcome":"not-eligible","amount":null,"reasons":["disabilityLevel-not-1-or-2"]}',
      '{"subject":"p1","policy":"elderly-allowance","period":"2025-03","outcome":"eligible","amount":10000,"reasons":[]}',
    ]);
  });

  it('filters by --policy and adds the explanation with --explain', async () => {
    const file = profiles('b.jsonl', [
      JSON.stringify({
        subject: 'e1',
        kind: 'enterprise',
        facts: { vatTaxpayerType: 'small-scale', localTaxesDue: { '2025': 3 } },
      }),
    ]);
    const r = await run(
      'evaluate',
      '--profiles',
      file,
      '--period',
      '2025',
      '--policy',
      'six-taxes-two-fees',
      '--explain',
      '--rules',
      RULES,
    );
    expect(r.code).toBe(0);
    expect(r.out).toHaveLength(1);
    const line = JSON.parse(r.out[0]!);
    expect(Object.keys(line)).toEqual([
      'subject',
      'policy',
      'period',
      'outcome',
      'amount',
      'reasons',
      'explanation',
    ]);
    expect(line).toMatchObject({ outcome: 'eligible', amount: 2, explanation: { ruleVersion: '1.0.0' } });
  });

  it('names each line that is no profile, evaluates the others, and exits 1', async () => {
    const file = profiles('c.jsonl', [
      '{"subject":"p1","kind":"person","facts":{"birthDate":"1945-03-01","hukouRegion":"110105"}}',
      'not json',
      '{"subject":"p2","kind":"robot","facts":{}}',
      '{"subject":"p3","kind":"person","facts":{"birthDate":"1945-02-30"}}',
      '{"subject":"p4","kind":"person","facts":{"birthDate":"1945-03-01","hukouRegion":"110105"}}',
    ]);
    const r = await run(
      'evaluate',
      '--profiles',
      file,
      '--period',
      '2025-03',
      '--policy',
      'elderly-allowance',
      '--rules',
      RULES,
    );
    expect(r.code).toBe(1);
    // p3's birth date is no date: evaluated with the fact unknown, and warned about.
    expect(r.out.map((l) => JSON.parse(l).subject)).toEqual(['p1', 'p3', 'p4']);
    expect(JSON.parse(r.out[1]!)).toMatchObject({
      outcome: 'not-eligible',
      reasons: ['missing-fact:hukouRegion', 'missing-fact:birthDate'],
    });
    expect(r.err[0]).toMatch(new RegExp(`^${file}:2: not valid JSON`));
    expect(r.err[1]).toBe(`${file}:3: "kind" must be "person" or "enterprise"`);
    expect(r.err[2]).toBe(
      'pb evaluate: warning: line 4: fact birthDate must be a calendar date YYYY-MM-DD: read as unknown (1 line)',
    );
    expect(r.err[3]).toBe(
      'pb evaluate: 2 of 5 input lines were not valid profiles (see above); the others were evaluated',
    );
  });

  it('exits 2 on an invalid period', async () => {
    const r = await run('evaluate', '--profiles', 'x.jsonl', '--period', '2025-3');
    expect(r.code).toBe(2);
    expect(r.err).toEqual([
      "pb evaluate: invalid --period '2025-3': use YYYY (e.g. 2025) or YYYY-MM (e.g. 2025-03)",
    ]);
  });

  it('exits 2 for a policy decided per another period unit', async () => {
    const r = await run(
      'evaluate',
      '--profiles',
      'x.jsonl',
      '--period',
      '2025',
      '--policy',
      'elderly-allowance',
      '--rules',
      RULES,
    );
    expect(r.code).toBe(2);
    expect(r.err[0]).toBe(
      'pb evaluate: policy elderly-allowance is decided per month: give --period YYYY-MM',
    );
  });

  it('gives byte-identical output with the compiled engine', async () => {
    const file = join(work, 'engines.jsonl');
    writeFileSync(
      file,
      [
        '{"subject":"e1","kind":"enterprise","facts":{"enterpriseType":"company","taxableIncome":{"2025":300000000},"industryRestricted":{"2025":false},"employeesAvg":{"2025":300},"totalAssetsAvg":{"2025":5000000000},"localTaxesDue":{"2025":3}}}',
        '{"subject":"p1","kind":"person","facts":{"birthDate":"2024-02-29","hukouRegion":"110105"}}',
        'not json',
        '{"subject":"e2","kind":"enterprise","facts":{}}',
      ].join('\n'),
    );
    const reference = await run('evaluate', '--profiles', file, '--period', '2025', '--rules', RULES);
    const compiled = await run(
      'evaluate',
      '--profiles',
      file,
      '--period',
      '2025',
      '--engine',
      'compiled',
      '--rules',
      RULES,
    );
    expect(compiled.code).toBe(1);
    expect(reference.code).toBe(1);
    expect(compiled.out.join('\n')).toBe(reference.out.join('\n'));
    expect(compiled.out.join('\n').split('\n').length).toBe(7);
    expect(compiled.err).toEqual(reference.err);
  });

  it('exits 2 without --profiles', async () => {
    expect((await run('evaluate', '--period', '2025')).code).toBe(2);
  });
});

describe('Command: pb rules validate', () => {
  it('prints a one-line summary for valid rules', async () => {
    const r = await run('rules', 'validate', '--dir', RULES);
    expect(r.code).toBe(0);
    expect(r.out).toHaveLength(1);
    expect(r.out[0]).toMatch(/^rules: 7 policies, 19 parameters, \d+ test cases: ok$/);
  });

  it('prints one line per problem and exits 1', async () => {
    const dir = join(work, 'broken-rules');
    cpSync(RULES, dir, { recursive: true });
    writeFileSync(
      join(dir, 'params', 'extra.json'),
      JSON.stringify({
        parameters: [{ name: 'elderly.min-age', values: [{ from: '2024-01-01', value: 70 }] }],
      }),
    );
    const r = await run('rules', 'validate', '--dir', dir);
    expect(r.code).toBe(1);
    expect(r.out).toEqual([]);
    expect(r.err).toEqual([
      `${dir}/params/extra.json: $.parameters[0].name: parameter elderly.min-age is already defined in params/elderly-allowance.json`,
    ]);
  });

  it('exits 2 with one line on stderr when --dir does not exist or is a file', async () => {
    const missing = join(work, 'no-such-rules');
    expect(await run('rules', 'validate', '--dir', missing)).toEqual({
      code: 2,
      out: [],
      err: [`pb rules validate: --dir ${missing}: no such directory`],
    });
    const file = profiles('not-a-dir.json', []);
    expect(await run('rules', 'validate', '--dir', file)).toEqual({
      code: 2,
      out: [],
      err: [`pb rules validate: --dir ${file}: is a file, not a directory`],
    });
  });
});

describe('Command: pb rules test', () => {
  it('ends with the counts and exits 0 when every case passes', async () => {
    const r = await run('rules', 'test', '--dir', RULES);
    expect(r.code).toBe(0);
    expect(r.out.at(-1)).toMatch(/^\d+ passed, 0 failed$/);
  });

  it('prints each failure with its difference and exits 1', async () => {
    const dir = join(work, 'failing-rules');
    cpSync(RULES, dir, { recursive: true });
    writeFileSync(
      join(dir, 'elderly-allowance.test.json'),
      JSON.stringify([
        {
          name: 'wrong amount',
          kind: 'person',
          period: '2025-03',
          facts: { birthDate: '1945-03-01', hukouRegion: '110105' },
          expected: { outcome: 'eligible', amount: 20000 },
        },
        {
          name: 'right',
          kind: 'person',
          period: '2025-03',
          facts: { birthDate: '1945-03-01', hukouRegion: '110105' },
          expected: { outcome: 'eligible', amount: 10000, reasons: [] },
        },
      ]),
    );
    const r = await run('rules', 'test', '--dir', dir);
    expect(r.code).toBe(1);
    expect(r.out).toContain(
      `FAIL ${dir}/elderly-allowance.test.json [0] wrong amount: amount: expected 20000, got 10000`,
    );
    expect(r.out.at(-1)).toMatch(/^\d+ passed, 1 failed$/);
  });

  it('prints the problems of rules that do not validate and says that no test ran', async () => {
    const dir = join(work, 'invalid-rules');
    cpSync(RULES, dir, { recursive: true });
    writeFileSync(join(dir, 'params', 'extra.json'), '{');
    writeFileSync(join(dir, 'extra.json'), '[');
    const r = await run('rules', 'test', '--dir', dir);
    expect(r.code).toBe(1);
    expect(r.err.filter((l) => !l.includes('warning')).sort()).toEqual([
      expect.stringMatching(new RegExp(`^${dir}/extra\\.json: \\$: not valid JSON`)),
      expect.stringMatching(new RegExp(`^${dir}/params/extra\\.json: \\$: not valid JSON`)),
    ]);
    expect(r.out).toEqual([
      `no test ran: the rules in ${dir} have 2 problems (see above; pb rules validate lists them too)`,
      '0 passed, 0 failed',
    ]);
  });

  it('exits 2 with one line on stderr when --dir does not exist', async () => {
    const missing = join(work, 'no-such-rules');
    expect(await run('rules', 'test', '--dir', missing)).toEqual({
      code: 2,
      out: [],
      err: [`pb rules test: --dir ${missing}: no such directory`],
    });
  });
});

describe('Command: pb rules validate and pb rules test (rules directory, warnings, failures)', () => {
  afterEach(() => {
    vi.unstubAllEnvs();
  });

  it('read $PB_RULES_DIR when --dir is not given, and name the directory checked', async () => {
    const dir = join(work, 'env-rules');
    cpSync(RULES, dir, { recursive: true });
    writeFileSync(join(dir, 'params', 'extra.json'), '{');
    vi.stubEnv('PB_RULES_DIR', dir);
    const v = await run('rules', 'validate');
    expect(v.code).toBe(1);
    expect(v.out).toEqual([]);
    expect(v.err).toEqual([
      expect.stringMatching(new RegExp(`^${dir}/params/extra\\.json: \\$: not valid JSON`)),
    ]);
    const t = await run('rules', 'test');
    expect(t.code).toBe(1);
    expect(t.out.at(-2)).toBe(
      `no test ran: the rules in ${dir} have 1 problem (see above; pb rules validate lists them too)`,
    );
    // --dir still wins over the environment.
    const given = await run('rules', 'test', '--dir', RULES);
    expect(given.code).toBe(0);
    expect(given.out.slice(-2)).toEqual([
      expect.stringMatching(/^rules: \d+ test cases in 7 files$/),
      expect.stringMatching(/^\d+ passed, 0 failed$/),
    ]);
  });

  it('exit 2 naming PB_RULES_DIR when it is not a directory', async () => {
    const missing = join(work, 'no-such-env-rules');
    vi.stubEnv('PB_RULES_DIR', missing);
    expect(await run('rules', 'validate')).toEqual({
      code: 2,
      out: [],
      err: [`pb rules validate: PB_RULES_DIR ${missing}: no such directory (give --dir <dir>)`],
    });
    // Every command that reads rules names it the same way, with its own option.
    const profiles = join(work, 'one-profile.jsonl');
    writeFileSync(profiles, '{"subject":"a","kind":"person","facts":{}}\n');
    expect(await run('evaluate', '--profiles', profiles, '--period', '2025')).toEqual({
      code: 2,
      out: [],
      err: [`pb evaluate: PB_RULES_DIR ${missing}: no such directory (give --rules <dir>)`],
    });
    const draft = join(RULES, 'elderly-allowance.json');
    const sim = await run('simulate', '--policy', draft, '--profiles', profiles, '--period', '2025-01');
    expect(sim.code).toBe(2);
    expect(sim.err).toEqual([`pb simulate: PB_RULES_DIR ${missing}: no such directory (give --rules <dir>)`]);
    // Commands that run the engine check its rules before they start anything.
    for (const argv of [
      ['replay', '--events', profiles, '--now', '2026-06-15T10:00:00+08:00'],
      ['tick', '--now', '2026-06-15T10:00:00+08:00'],
    ]) {
      expect(await run(...argv)).toEqual({
        code: 2,
        out: [],
        err: [
          `pb ${argv[0]}: PB_RULES_DIR ${missing}: no such directory (set PB_RULES_DIR to the rules directory)`,
        ],
      });
    }
    const empty = join(work, 'no-rules-here');
    mkdirSync(empty, { recursive: true });
    vi.stubEnv('PB_RULES_DIR', empty);
    expect(await run('tick', '--now', '2026-06-15T10:00:00+08:00')).toEqual({
      code: 1,
      out: [],
      err: [`pb tick: no rule file in ${empty}: the engine would decide nothing`],
    });
    vi.stubEnv('PB_RULES_DIR', missing);
    const pub = await run('rules', 'publish');
    expect(pub.code).toBe(2);
    expect(pub.err).toEqual([
      `pb rules publish: PB_RULES_DIR ${missing}: no such directory (give --dir <dir>)`,
    ]);
  });

  it('warn on stderr about a policy without test cases, without changing the exit code', async () => {
    const dir = join(work, 'untested-rules');
    cpSync(RULES, dir, { recursive: true });
    unlinkSync(join(dir, 'six-taxes-two-fees.test.json'));
    const warning = (command: string) =>
      `pb rules ${command}: warning: ${dir}/six-taxes-two-fees.json: $: no test cases: add six-taxes-two-fees.test.json beside it`;
    const v = await run('rules', 'validate', '--dir', dir);
    expect(v.code).toBe(0);
    expect(v.err).toEqual([warning('validate')]);
    const t = await run('rules', 'test', '--dir', dir);
    expect(t.code).toBe(0);
    expect(t.err).toEqual([warning('test')]);
  });

  it('show the actual reasons when the outcome differs', async () => {
    const dir = join(work, 'outcome-rules');
    cpSync(RULES, dir, { recursive: true });
    writeFileSync(
      join(dir, 'elderly-allowance.test.json'),
      JSON.stringify([
        {
          name: 'too young',
          kind: 'person',
          period: '2025-03',
          facts: { birthDate: '1955-03-01', hukouRegion: '310105' },
          expected: { outcome: 'eligible', amount: 10000 },
        },
      ]),
    );
    const r = await run('rules', 'test', '--dir', dir);
    expect(r.code).toBe(1);
    expect(r.out).toContain(
      `FAIL ${dir}/elderly-allowance.test.json [0] too young: outcome: expected eligible, got not-eligible (reasons: hukouRegion-not-eligible-region, age-below-80); amount: expected 10000, got null`,
    );
  });
});
