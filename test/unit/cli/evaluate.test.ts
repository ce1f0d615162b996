import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { RULES, run } from './run.ts';

const work = mkdtempSync(join(tmpdir(), 'pb-evaluate-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

function file(name: string, text: string): string {
  const path = join(work, name);
  writeFileSync(path, text);
  return path;
}

const ENGINES = ['reference', 'compiled'];
const elderly = (...more: string[]) => [
  'evaluate',
  '--period',
  '2025-03',
  '--policy',
  'elderly-allowance',
  '--rules',
  RULES,
  ...more,
];
/** `pb evaluate` of a profiles file for a period with an engine, on the shipped rules. */
const evaluateWith = (profiles: string, period: string, engine: string) =>
  run('evaluate', '--profiles', profiles, '--period', period, '--engine', engine, '--rules', RULES);

describe('Command: pb evaluate, input paths', () => {
  it('exits 2 with one line when --profiles does not exist or is a directory', async () => {
    for (const engine of ENGINES) {
      const missing = join(work, 'no', 'such.jsonl');
      expect(await run(...elderly('--profiles', missing, '--engine', engine))).toEqual({
        code: 2,
        out: [],
        err: [`pb evaluate: --profiles ${missing}: no such file`],
      });
      expect(await run(...elderly('--profiles', work, '--engine', engine))).toEqual({
        code: 2,
        out: [],
        err: [`pb evaluate: --profiles ${work}: is a directory, not a file`],
      });
    }
  });

  it('exits 2 with one line when --rules is not a directory', async () => {
    const profiles = file('one.jsonl', '{"subject":"p1","kind":"person","facts":{}}\n');
    const r = await run('evaluate', '--profiles', profiles, '--period', '2025', '--rules', profiles);
    expect(r).toEqual({
      code: 2,
      out: [],
      err: [`pb evaluate: --rules ${profiles}: is a file, not a directory`],
    });
  });
});

describe('Command: pb evaluate, profiles files', () => {
  it('reads a file that starts with a UTF-8 byte order mark', async () => {
    const profiles = file(
      'bom.jsonl',
      '\uFEFF{"subject":"p1","kind":"person","facts":{"birthDate":"1945-03-01","hukouRegion":"110105"}}\n',
    );
    for (const engine of ENGINES) {
      const r = await run(...elderly('--profiles', profiles, '--engine', engine));
      expect(r.err).toEqual([]);
      expect(r.code).toBe(0);
      expect(r.out.map((l) => JSON.parse(l))).toMatchObject([{ subject: 'p1', outcome: 'eligible' }]);
    }
  });

  it('warns on stderr, once per distinct problem, about facts no rule reads; stdout and exit code unchanged', async () => {
    // Prepare: the same people with the ignored facts and without them.
    const person = (subject: string, extra: object) =>
      JSON.stringify({
        subject,
        kind: 'person',
        facts: { birthDate: '1945-03-01', hukouRegion: '110105', ...extra },
      });
    const clean = file('clean.jsonl', ['p1', 'p2', 'p3', 'p4'].map((s) => person(s, {})).join('\n'));
    const odd = file(
      'odd.jsonl',
      [
        person('p1', {}),
        '',
        person('p2', { hukouRegon: '110105' }),
        person('p3', { hukouRegon: '110105', taxableIncome: { '2025': 1 } }),
        person('p4', { hukouRegon: null }),
      ].join('\n'),
    );
    for (const engine of ENGINES) {
      // Act
      const want = await run('evaluate', '--profiles', clean, '--period', '2025-03', '--rules', RULES);
      const got = await evaluateWith(odd, '2025-03', engine);
      // Assess
      expect(got.code).toBe(0);
      expect(got.out).toEqual(want.out);
      expect(got.err).toEqual([
        "pb evaluate: warning: line 3: unknown fact 'hukouRegon' ignored (3 lines)",
        "pb evaluate: warning: line 4: enterprise fact 'taxableIncome' ignored on a person (1 line)",
      ]);
    }
  });

  it('reads a fact value that does not fit the catalogue as unknown, warns once per distinct problem, exits 0', async () => {
    // Prepare: a level 5, a level-5 twin, a birth date that is no date, and an enterprise with a
    // bad value only in a year other than the one evaluated.
    const ui = (layoffs2024: unknown) =>
      JSON.stringify({
        subject: 'e1',
        kind: 'enterprise',
        facts: {
          uiPremiumsPaid: { '2025': 12345 },
          uiInsuredHeadcount: { '2025': 10 },
          uiLayoffs: { '2024': layoffs2024, '2025': 0 },
          uiArrears: { '2025': false },
          enterpriseSize: { '2025': 'small' },
        },
      });
    const person = (subject: string, facts: object) => JSON.stringify({ subject, kind: 'person', facts });
    const base = { birthDate: '1945-03-01', hukouRegion: '110105', dibaoEnrolled: true };
    const persons = file(
      'malformed-persons.jsonl',
      [
        person('p1', { ...base, disabilityLevel: 5 }),
        person('p2', { ...base, disabilityLevel: 5 }),
        person('p3', { ...base, birthDate: '1945-02-30' }),
        person('p4', base),
      ].join('\n'),
    );
    const enterprises = file('malformed-enterprise.jsonl', `${ui(-1)}\n`);
    const fine = file('fine-enterprise.jsonl', `${ui(0)}\n`);
    const outs: string[][] = [];
    for (const engine of ENGINES) {
      // Act
      const p = await evaluateWith(persons, '2025-03', engine);
      const e = await evaluateWith(enterprises, '2025', engine);
      const f = await evaluateWith(fine, '2025', engine);
      // Assess
      expect([p.code, e.code, f.code]).toEqual([0, 0, 0]);
      const rows = p.out.map((l) => JSON.parse(l));
      const of = (subject: string, policy: string) =>
        rows.find((r) => r.subject === subject && r.policy === policy);
      // A level 5 is unknown: never granting, and named as missing (an absent level is no certificate).
      expect(of('p1', 'disability-nursing-subsidy')).toMatchObject({
        outcome: 'not-eligible',
        reasons: ['missing-fact:disabilityLevel'],
      });
      expect(of('p4', 'disability-nursing-subsidy')).toMatchObject({
        outcome: 'not-eligible',
        reasons: ['disabilityLevel-not-1-or-2'],
      });
      expect(of('p1', 'elderly-allowance')).toMatchObject({ outcome: 'eligible', amount: 10000 });
      expect(of('p3', 'elderly-allowance')).toMatchObject({
        outcome: 'not-eligible',
        reasons: ['missing-fact:birthDate'],
      });
      expect(p.err).toEqual([
        'pb evaluate: warning: line 1: fact disabilityLevel must be at most 4: read as unknown (2 lines)',
        'pb evaluate: warning: line 3: fact birthDate must be a calendar date YYYY-MM-DD: read as unknown (1 line)',
      ]);
      // A bad value for 2024 leaves 2025 as it is.
      expect(e.out).toEqual(f.out);
      expect(
        e.out.map((l) => JSON.parse(l)).find((r) => r.policy === 'job-stabilization-refund'),
      ).toMatchObject({
        outcome: 'eligible',
      });
      expect(e.err).toEqual([
        'pb evaluate: warning: line 1: fact uiLayoffs for 2024 must be at least 0: read as unknown (1 line)',
      ]);
      outs.push([...p.out, ...e.out]);
    }
    expect(outs[1]).toEqual(outs[0]);
  });

  it('names the first 20 lines that are no profiles, then only counts them (a wrong input file)', async () => {
    const good = '{"subject":"p","kind":"person","facts":{}}';
    const profiles = file(
      'events.jsonl',
      [...Array.from({ length: 30 }, (_, i) => `{"id":"e${i}"}`), good].join('\n'),
    );
    for (const engine of ENGINES) {
      const r = await evaluateWith(profiles, '2025', engine);
      expect(r.code).toBe(1);
      expect(r.err).toHaveLength(22);
      expect(r.err.slice(0, 20).every((l, i) => l.startsWith(`${profiles}:${i + 1}: `))).toBe(true);
      expect(r.err.slice(20)).toEqual([
        `${profiles}: more lines that cannot be read follow: only counted from here on`,
        'pb evaluate: 30 of 31 input lines were not valid profiles (the first 20 are named above); the others were evaluated',
      ]);
      expect(r.out.length).toBeGreaterThan(0);
    }
  });

  it('prints the warnings before the line that ends a run with bad lines (exit 1)', async () => {
    const profiles = file(
      'bad.jsonl',
      ['not json', '{"subject":"e1","kind":"enterprise","facts":{"birthDate":"1945-03-01"}}'].join('\n'),
    );
    for (const engine of ENGINES) {
      const r = await evaluateWith(profiles, '2025', engine);
      expect(r.code).toBe(1);
      expect(r.err.slice(1)).toEqual([
        "pb evaluate: warning: line 2: person fact 'birthDate' ignored on an enterprise (1 line)",
        'pb evaluate: 1 of 2 input lines were not valid profiles (see above); the others were evaluated',
      ]);
    }
  });
});
