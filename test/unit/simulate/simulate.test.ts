import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { Io } from '../../../src/cli/io.ts';
import { main } from '../../../src/cli/main.ts';

const RULES = new URL('../../../rules', import.meta.url).pathname;
const work = mkdtempSync(join(tmpdir(), 'pb-simulate-test-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

/** Runs `pb …`; output lines split (the command may write several lines at once). */
async function run(
  ...argv: string[]
): Promise<{ code: number; out: string[]; err: string[]; progress: string[] }> {
  const out: string[] = [];
  const err: string[] = [];
  const progress: string[] = [];
  const io: Io = {
    out: (l) => out.push(...l.split('\n')),
    err: (l) => err.push(l),
    progress: (t) => progress.push(t),
  };
  const code = await main(argv, io);
  return { code, out, err, progress };
}

function file(name: string, text: string): string {
  const path = join(work, name);
  writeFileSync(path, text);
  return path;
}

/** The parts of a rule file these tests edit. */
interface RuleJson {
  version: string;
  conditions: { all: Array<{ operator: string; value: unknown }> };
  amount: { tiers: Array<{ min?: unknown; amount: unknown }> };
}

/** `pb simulate` of a draft against a baseline, over profiles, with the shipped parameters. */
const compare = (draft: string, profiles: string, period: string, baseline: string) =>
  run(
    'simulate',
    '--policy',
    draft,
    '--profiles',
    profiles,
    '--period',
    period,
    '--baseline',
    baseline,
    '--rules',
    RULES,
  );

/** A published rule file with a change applied, as a draft file. */
function draftOf(policy: string, name: string, change: (rule: RuleJson) => void): string {
  const rule = JSON.parse(readFileSync(join(RULES, `${policy}.json`), 'utf8')) as RuleJson;
  change(rule);
  return file(name, JSON.stringify(rule, null, 2));
}

const line = (subject: string, kind: string, facts: object): string =>
  JSON.stringify({ subject, kind, facts });

/** Four persons around the age bands and an enterprise (another kind: skipped). */
const PROFILES = file(
  'people.jsonl',
  [
    line('p-80', 'person', { birthDate: '1945-03-01', hukouRegion: '110105' }), // 80 on 2025-03-01
    line('p-89', 'person', { birthDate: '1935-03-02', hukouRegion: '110105' }), // 89
    line('p-90', 'person', { birthDate: '1935-03-01', hukouRegion: '110105' }), // 90
    line('p-79', 'person', { birthDate: '1945-03-02', hukouRegion: '110105' }), // 79
    line('p-out', 'person', { birthDate: '1930-01-01', hukouRegion: '310115' }), // other municipality
    '',
    line('e-1', 'enterprise', { localTaxesDue: { '2025': 3 } }),
  ].join('\n'),
);

/** A general-VAT company that is a small low-profit enterprise in 2025 (and so gets six-taxes too). */
const GENERAL_VAT_COMPANY = {
  enterpriseType: 'company',
  vatTaxpayerType: 'general',
  industryRestricted: { '2025': false },
  taxableIncome: { '2025': 100000000 },
  employeesAvg: { '2025': 100 },
  totalAssetsAvg: { '2025': 1000000000 },
  localTaxesDue: { '2025': 1000000 },
};

describe('Command: pb simulate', () => {
  it('shows exactly the subjects whose amount a draft raises, with the totals of the change', async () => {
    // Prepare: the 80-89 band raised from 10000 to 15000 fen.
    const draft = draftOf('elderly-allowance', 'elderly-raise.json', (r) => {
      r.version = '1.1.0';
      r.amount.tiers[0]!.amount = { kind: 'fixed', value: 15000 };
    });
    // Act
    const r = await compare(draft, PROFILES, '2025-03', join(RULES, 'elderly-allowance.json'));
    // Assess
    expect(r.err).toEqual([]);
    expect(r.code).toBe(0);
    const changes = r.out.filter((l) => l.startsWith('{'));
    expect(changes.map((l) => JSON.parse(l))).toEqual([
      {
        subject: 'p-80',
        policy: 'elderly-allowance',
        period: '2025-03',
        before: { outcome: 'eligible', amount: 10000 },
        after: { outcome: 'eligible', amount: 15000 },
      },
      {
        subject: 'p-89',
        policy: 'elderly-allowance',
        period: '2025-03',
        before: { outcome: 'eligible', amount: 10000 },
        after: { outcome: 'eligible', amount: 15000 },
      },
    ]);
    expect(r.out).toContain('subjects evaluated: 5 (persons; 1 of the other kind skipped) for 2025-03');
    // Draft: 15000 + 15000 + 50000; baseline: 10000 + 10000 + 50000.
    expect(r.out).toContainEqual(
      expect.stringMatching(/^ {2}elderly-allowance +2025-03 +3 +80000 +800\.00$/),
    );
    expect(r.out).toContainEqual(
      expect.stringMatching(/^ {2}elderly-allowance +2025-03 +3 +70000 +700\.00$/),
    );
    expect(r.out.at(-1)).toBe(
      'change: 2 subjects, 2 decisions (newly eligible 0, no longer eligible 0, amount changed 2); total amount +10000 fen (+100.00 yuan)',
    );
  });

  it('reports subjects who become eligible when a draft lowers the minimum age', async () => {
    const draft = draftOf('elderly-allowance', 'elderly-79.json', (r) => {
      r.conditions.all[2]!.value = 79;
      r.amount.tiers[0]!.min = 79;
    });
    const r = await compare(draft, PROFILES, '2025-03', join(RULES, 'elderly-allowance.json'));
    expect(r.code).toBe(0);
    expect(r.out.filter((l) => l.startsWith('{')).map((l) => JSON.parse(l))).toEqual([
      {
        subject: 'p-79',
        policy: 'elderly-allowance',
        period: '2025-03',
        before: { outcome: 'not-eligible', amount: null },
        after: { outcome: 'eligible', amount: 10000 },
      },
    ]);
    expect(r.out.at(-1)).toContain('newly eligible 1');
  });

  it('reports the policies that rest on the draft (eligibleFor) and changes in them', async () => {
    // Prepare: the small low-profit ceiling lowered, so a general-VAT company loses both preferences
    // (results in policy-id order).
    const draft = draftOf('small-low-profit-cit', 'cit.json', (r) => {
      r.conditions.all[4]!.value = 99;
    });
    const profiles = file('companies.jsonl', line('e-100', 'enterprise', GENERAL_VAT_COMPANY));
    const r = await compare(draft, profiles, '2025', join(RULES, 'small-low-profit-cit.json'));
    expect(r.code).toBe(0);
    expect(r.out.filter((l) => l.startsWith('{')).map((l) => JSON.parse(l))).toEqual([
      {
        subject: 'e-100',
        policy: 'six-taxes-two-fees',
        period: '2025',
        before: { outcome: 'eligible', amount: 500000 },
        after: { outcome: 'not-eligible', amount: null },
      },
      {
        subject: 'e-100',
        policy: 'small-low-profit-cit',
        period: '2025',
        before: { outcome: 'eligible', amount: 20000000 },
        after: { outcome: 'not-eligible', amount: null },
      },
    ]);
    expect(r.out.at(-1)).toBe(
      'change: 1 subject, 2 decisions (newly eligible 0, no longer eligible 2, amount changed 0); total amount -20500000 fen (-205,000.00 yuan)',
    );
  });

  it('compares a variant saved under an id of its own with the policy it varies', async () => {
    // Prepare: the 80-89 band raised, saved as a policy of its own id.
    const draft = draftOf('elderly-allowance', 'elderly-variant.json', (r) => {
      (r as unknown as { id: string }).id = 'elderly-allowance-variant';
      r.amount.tiers[0]!.amount = { kind: 'fixed', value: 15000 };
    });
    // Act
    const r = await compare(draft, PROFILES, '2025-03', join(RULES, 'elderly-allowance.json'));
    // Assess: the same two subjects as a new version of the policy would show, both ids named.
    expect(r.err).toEqual([]);
    expect(r.code).toBe(0);
    expect(r.out.filter((l) => l.startsWith('{')).map((l) => JSON.parse(l))).toEqual(
      ['p-80', 'p-89'].map((subject) => ({
        subject,
        policy: 'elderly-allowance-variant',
        baselinePolicy: 'elderly-allowance',
        period: '2025-03',
        before: { outcome: 'eligible', amount: 10000 },
        after: { outcome: 'eligible', amount: 15000 },
      })),
    );
    expect(r.out).toContainEqual(
      expect.stringMatching(/^ {2}elderly-allowance-variant +2025-03 +3 +80000 +800\.00$/),
    );
    expect(r.out).toContainEqual(
      expect.stringMatching(/^ {2}elderly-allowance +2025-03 +3 +70000 +700\.00$/),
    );
    expect(r.out.at(-1)).toBe(
      'change: 2 subjects, 2 decisions (newly eligible 0, no longer eligible 0, amount changed 2); total amount +10000 fen (+100.00 yuan)',
    );
  });

  it('says which policies still rest on the baseline when the variant has an id of its own', async () => {
    const draft = draftOf('small-low-profit-cit', 'cit-variant.json', (r) => {
      (r as unknown as { id: string }).id = 'small-low-profit-cit-variant';
      r.conditions.all[4]!.value = 99;
    });
    const profiles = file('company-variant.jsonl', line('e-200', 'enterprise', GENERAL_VAT_COMPANY));
    const r = await compare(draft, profiles, '2025', join(RULES, 'small-low-profit-cit.json'));
    expect(r.code).toBe(0);
    expect(r.err).toEqual([
      'pb simulate: note: six-taxes-two-fees depends on small-low-profit-cit, not on small-low-profit-cit-variant: not part of this comparison',
    ]);
    expect(r.out.filter((l) => l.startsWith('{')).map((l) => JSON.parse(l))).toEqual([
      {
        subject: 'e-200',
        policy: 'small-low-profit-cit-variant',
        baselinePolicy: 'small-low-profit-cit',
        period: '2025',
        before: { outcome: 'eligible', amount: 20000000 },
        after: { outcome: 'not-eligible', amount: null },
      },
    ]);
  });

  it('compares the other way round too: the published policy as the draft, its variant as the baseline', async () => {
    const variant = draftOf('small-low-profit-cit', 'cit-variant-base.json', (r) => {
      (r as unknown as { id: string }).id = 'small-low-profit-cit-variant';
      r.conditions.all[4]!.value = 99;
    });
    const profiles = file('company-reverse.jsonl', line('e-300', 'enterprise', GENERAL_VAT_COMPANY));
    const r = await compare(join(RULES, 'small-low-profit-cit.json'), profiles, '2025', variant);
    expect(r.code).toBe(0);
    expect(r.err).toEqual([
      'pb simulate: note: six-taxes-two-fees depends on small-low-profit-cit, not on small-low-profit-cit-variant: not part of this comparison',
    ]);
    expect(r.out.filter((l) => l.startsWith('{')).map((l) => JSON.parse(l))).toEqual([
      {
        subject: 'e-300',
        policy: 'small-low-profit-cit',
        baselinePolicy: 'small-low-profit-cit-variant',
        period: '2025',
        before: { outcome: 'not-eligible', amount: null },
        after: { outcome: 'eligible', amount: 20000000 },
      },
    ]);
  });

  it('without a baseline prints the eligible count and total by period, a year of months with a total', async () => {
    const r = await run(
      'simulate',
      '--policy',
      join(RULES, 'elderly-allowance.json'),
      '--profiles',
      PROFILES,
      '--period',
      '2025',
      '--rules',
      RULES,
    );
    expect(r.code).toBe(0);
    expect(r.out.filter((l) => l.startsWith('{'))).toEqual([]);
    const rows = r.out.filter((l) => l.startsWith('  elderly-allowance'));
    expect(rows).toHaveLength(13);
    // January: p-89 and p-90 are 89 (10000 each). March: p-80 turns 80, p-90 is 90 (50000).
    // April to December: p-79 turns 80 and p-89 90: 10000 + 50000 + 50000 + 10000.
    expect(rows[0]).toMatch(/^ {2}elderly-allowance +2025-01 +2 +20000 +200\.00$/);
    expect(rows[2]).toMatch(/^ {2}elderly-allowance +2025-03 +3 +70000 +700\.00$/);
    expect(rows[3]).toMatch(/^ {2}elderly-allowance +2025-04 +4 +120000 +1,200\.00$/);
    expect(rows[12]).toMatch(/^ {2}elderly-allowance +total +43 +1190000 +11,900\.00$/);
    expect(r.progress.at(-1)).toBe('');
    // The counts of twelve months (the total above all) are of subject-months, and the header says so.
    expect(r.out[r.out.indexOf('draft:') + 1]).toMatch(
      /^ {2}policy +period +eligible \(subject-months\) +amount \(fen\) +amount \(yuan\)$/,
    );
    expect(r.err).toEqual([]);
  });

  it('labels the eligible column of one period as subjects', async () => {
    const r = await run(
      'simulate',
      '--policy',
      join(RULES, 'elderly-allowance.json'),
      '--profiles',
      PROFILES,
      '--period',
      '2025-03',
      '--rules',
      RULES,
    );
    expect(r.code).toBe(0);
    expect(r.out[r.out.indexOf('draft:') + 1]).toMatch(/^ {2}policy +period +eligible +amount \(fen\)/);
  });

  it('warns on stderr when the period is outside the effective window of the draft or the baseline', async () => {
    // Prepare: a draft in force from April 2025; the published policy from 2024-01.
    const april = draftOf('elderly-allowance', 'elderly-april.json', (r) => {
      (r as unknown as { effective: { from: string } }).effective.from = '2025-04';
    });
    const args = ['--profiles', PROFILES, '--rules', RULES];
    // Act
    const before = await run('simulate', '--policy', april, '--period', '2023', ...args);
    const partly = await run('simulate', '--policy', april, '--period', '2025', ...args);
    const baseline = await run(
      'simulate',
      '--policy',
      join(RULES, 'elderly-allowance.json'),
      '--baseline',
      april,
      '--period',
      '2025-02',
      ...args,
    );
    // Assess: stdout as without the warning, exit 0.
    expect(before.code).toBe(0);
    expect(before.err).toEqual([
      'pb simulate: warning: 2023 is outside the effective window of the draft elderly-allowance v1.0.0 (2025-04 onwards): no subject can be eligible, every amount is 0',
    ]);
    expect(before.out).toContainEqual(expect.stringMatching(/^ {2}elderly-allowance +total +0 +0 +0\.00$/));
    expect(partly.code).toBe(0);
    expect(partly.err).toEqual([
      'pb simulate: warning: 3 of the 12 months of 2025 (2025-01, 2025-02, 2025-03) are outside the effective window of the draft elderly-allowance v1.0.0 (2025-04 onwards): no subject can be eligible in them',
    ]);
    expect(baseline.code).toBe(0);
    expect(baseline.err).toEqual([
      'pb simulate: warning: 2025-02 is outside the effective window of the baseline elderly-allowance v1.0.0 (2025-04 onwards): no subject can be eligible, every amount is 0',
    ]);
  });

  it('reads profiles with a byte order mark and warns about facts no rule reads, stdout unchanged', async () => {
    const policy = join(RULES, 'elderly-allowance.json');
    const args = ['--policy', policy, '--period', '2025-03', '--rules', RULES];
    const want = await run('simulate', '--profiles', PROFILES, ...args);
    const odd = file(
      'odd.jsonl',
      `\uFEFF${readFileSync(PROFILES, 'utf8')
        .replace('"p-89","kind":"person","facts":{', '"p-89","kind":"person","facts":{"hukouRegon":"1",')
        .replace(
          '"p-90","kind":"person","facts":{',
          '"p-90","kind":"person","facts":{"taxableIncome":{"2025":1},',
        )}`,
    );
    const got = await run('simulate', '--profiles', odd, ...args);
    expect(got.code).toBe(0);
    expect(got.out).toEqual(want.out.map((l) => l.replace(PROFILES, odd)));
    expect(got.err).toEqual([
      "pb simulate: warning: line 2: unknown fact 'hukouRegon' ignored (1 line)",
      "pb simulate: warning: line 3: enterprise fact 'taxableIncome' ignored on a person (1 line)",
    ]);
  });

  it('exits 2 with one line when an input file or the rules directory does not exist', async () => {
    const policy = join(RULES, 'elderly-allowance.json');
    const missing = join(work, 'missing.json');
    const base = ['--policy', policy, '--profiles', PROFILES, '--period', '2025-03', '--rules', RULES];
    const cases: Array<[string[], string]> = [
      [['--policy', missing], `--policy ${missing}: no such file`],
      [['--profiles', missing], `--profiles ${missing}: no such file`],
      [['--profiles', work], `--profiles ${work}: is a directory, not a file`],
      [['--baseline', missing], `--baseline ${missing}: no such file`],
      [['--baseline', RULES], `--baseline ${RULES}: is a directory, not a file`],
      [['--rules', missing], `--rules ${missing}: no such directory`],
    ];
    for (const [change, message] of cases) {
      const argv = [...base];
      const at = argv.indexOf(change[0]!);
      if (at === -1) argv.push(...change);
      else argv[at + 1] = change[1]!;
      expect(await run('simulate', ...argv)).toMatchObject({
        code: 2,
        out: [],
        err: [`pb simulate: ${message}`],
      });
    }
  });

  it('exits 1 with the problem line when the draft does not validate, and simulates nothing', async () => {
    const draft = draftOf('elderly-allowance', 'elderly-bad.json', (r) => {
      r.conditions.all[2]!.operator = 'biggerThan';
    });
    const r = await run(
      'simulate',
      '--policy',
      draft,
      '--profiles',
      PROFILES,
      '--period',
      '2025-03',
      '--rules',
      RULES,
    );
    expect(r.code).toBe(1);
    expect(r.out).toEqual([]);
    expect(r.err).toEqual([
      `${draft}: $.conditions.all[2].operator: unknown operator 'biggerThan' (allowed: equal, notEqual, lessThan, lessThanInclusive, greaterThan, greaterThanInclusive, in, notIn, contains, doesNotContain, startsWith)`,
      'pb simulate: 1 problem: nothing was simulated',
    ]);
  });

  it('exits 1 naming the draft when it is not JSON', async () => {
    const draft = file('broken.json', '{"id": "elderly-allowance",');
    const r = await run(
      'simulate',
      '--policy',
      draft,
      '--profiles',
      PROFILES,
      '--period',
      '2025-03',
      '--rules',
      RULES,
    );
    expect(r.code).toBe(1);
    expect(r.out).toEqual([]);
    expect(r.err).toHaveLength(2);
    expect(r.err[0]).toMatch(new RegExp(`^${draft.replace(/[.]/g, '\\.')}: \\$: not valid JSON`));
  });

  it('names a test-case file given as the draft or the baseline, and an event stream given as profiles', async () => {
    const tests = join(RULES, 'elderly-allowance.test.json');
    const draft = join(RULES, 'elderly-allowance.json');
    const asDraft = await run('simulate', '--policy', tests, '--profiles', PROFILES, '--period', '2025-03');
    const asBaseline = await run(
      'simulate',
      '--policy',
      draft,
      '--baseline',
      tests,
      '--profiles',
      PROFILES,
      '--period',
      '2025-03',
    );
    const events = file(
      'events.jsonl',
      `${JSON.stringify({ id: 'e-1', type: 'person.registered', schemaVersion: 1, data: {} })}\n`,
    );
    const asProfiles = await run('simulate', '--policy', draft, '--profiles', events, '--period', '2025-03');
    for (const r of [asDraft, asBaseline]) {
      expect(r.code).toBe(1);
      expect(r.out).toEqual([]);
      expect(r.err[0]).toBe(
        `${tests}: $: a list of test cases, not a rule file: pass the policy's own file (--${r === asDraft ? 'policy' : 'baseline'} <id>.json)`,
      );
    }
    expect(asProfiles.err[0]).toBe(
      `${events}:1: an agency event, not a profile: fold the event stream into profiles first (pb events profiles --events <file>)`,
    );
  });

  it('reads the parameters of each side from the params/ beside its file: a new dated value shows as a change', async () => {
    // Prepare: a draft directory whose only change is a dated value of the 80-89 amount from 2025-03.
    const draftDir = join(work, 'draft-dir');
    cpSync(RULES, draftDir, { recursive: true });
    const paramsFile = join(draftDir, 'params', 'elderly-allowance.json');
    const params = JSON.parse(readFileSync(paramsFile, 'utf8')) as {
      parameters: Array<{ name: string; values: unknown[] }>;
    };
    params.parameters.find((p) => p.name === 'elderly.amount.80-89')!.values = [
      { from: '2024-01-01', to: '2025-02-28', value: 10000 },
      { from: '2025-03-01', value: 12000 },
    ];
    writeFileSync(paramsFile, JSON.stringify(params, null, 2));
    const draft = join(draftDir, 'elderly-allowance.json');
    const published = join(RULES, 'elderly-allowance.json');
    // Act: with and without --rules (the draft's own directory's parameters either way).
    for (const r of [
      await compare(draft, PROFILES, '2025-03', published),
      await run(
        'simulate',
        '--policy',
        draft,
        '--profiles',
        PROFILES,
        '--period',
        '2025-03',
        '--baseline',
        published,
      ),
    ]) {
      // Assess
      expect(r.err).toEqual([]);
      expect(r.out[0]).toMatch(
        new RegExp(
          `^draft: ${draft} \\(elderly-allowance v\\S+\\) against \\S+, parameters from ${draftDir}/params over \\S+$`,
        ),
      );
      expect(r.out[1]).toMatch(
        /^baseline: .*elderly-allowance\.json \(elderly-allowance v\S+\), parameters from rules\/params$/,
      );
      const changes = r.out
        .filter((l) => l.startsWith('{'))
        .map((l) => JSON.parse(l) as { subject: string; after: { amount: number } });
      expect(changes.map((c) => [c.subject, c.after.amount])).toEqual([
        ['p-80', 12000],
        ['p-89', 12000],
      ]);
    }
  });

  it('takes the parameter files of a partial draft directory over those of the rules directory', async () => {
    // Prepare: a directory with the draft rule and only the one parameter file it changes.
    const partial = join(work, 'partial-draft');
    mkdirSync(join(partial, 'params'), { recursive: true });
    cpSync(join(RULES, 'elderly-allowance.json'), join(partial, 'elderly-allowance.json'));
    const params = JSON.parse(readFileSync(join(RULES, 'params', 'elderly-allowance.json'), 'utf8')) as {
      parameters: Array<{ name: string; values: unknown[] }>;
    };
    params.parameters.find((p) => p.name === 'elderly.amount.80-89')!.values = [
      { from: '2024-01-01', value: 11000 },
    ];
    writeFileSync(join(partial, 'params', 'elderly-allowance.json'), JSON.stringify(params));
    // Act
    const r = await compare(
      join(partial, 'elderly-allowance.json'),
      PROFILES,
      '2025-03',
      join(RULES, 'elderly-allowance.json'),
    );
    // Assess
    expect(r.err).toEqual([]);
    expect(r.code).toBe(0);
    const amounts = r.out
      .filter((l) => l.startsWith('{'))
      .map((l) => (JSON.parse(l) as { after: { amount: number } }).after.amount);
    expect(amounts).toEqual([11000, 11000]);
  });

  it('says where the parameters of a draft outside the rules directory were read', async () => {
    const draft = draftOf('elderly-allowance', 'elsewhere.json', (r) => {
      (r.conditions.all[2] as { value: unknown }).value = { param: 'elsewhere.min-age' };
    });
    const r = await run('simulate', '--policy', draft, '--profiles', PROFILES, '--period', '2025-03');
    expect(r.code).toBe(1);
    expect(r.err.at(-2)).toMatch(
      new RegExp(
        `^${draft.replace(/[.]/g, '\\.')}: note: its parameters are read from .*params: put a params/ directory beside the draft`,
      ),
    );
  });

  it('exits 2 with one line on bad usage', async () => {
    const draft = join(RULES, 'elderly-allowance.json');
    const missing = await run('simulate', '--policy', draft, '--period', '2025-03', '--rules', RULES);
    expect(missing).toMatchObject({ code: 2, err: ['pb simulate: missing required option --profiles'] });
    const period = await run('simulate', '--policy', draft, '--profiles', PROFILES, '--period', '2025-3');
    expect(period.code).toBe(2);
    expect(period.err).toHaveLength(1);
    expect(period.err[0]).toContain("invalid --period '2025-3'");
    const yearly = await run(
      'simulate',
      '--policy',
      join(RULES, 'small-low-profit-cit.json'),
      '--profiles',
      PROFILES,
      '--period',
      '2025-03',
      '--rules',
      RULES,
    );
    expect(yearly).toMatchObject({
      code: 2,
      err: ['pb simulate: policy small-low-profit-cit is decided per year: give --period YYYY'],
    });
    const unknown = await run('simulate', '--policy', draft, '--bogus');
    expect(unknown.code).toBe(2);
    expect(unknown.err).toHaveLength(1);
  });
});
