/**
 * Hostile rule files for fuzzing the rules loader and evaluators: random condition leaves (facts,
 * operators, JSONPath expressions, prototype keys, values of any shape), random tree shapes and
 * damaged files, written over a copy of a rules directory.
 */
import { cpSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { FACTS, type FactType } from '../domain/facts/catalogue.ts';
import { DERIVED_FACTS } from '../domain/facts/derived.ts';
import { createCompiledEvaluator } from '../domain/rules/compiled/index.ts';
import {
  createReferenceEvaluator,
  loadPolicySet,
  type PolicySet,
  validateRulesDir,
} from '../domain/rules/index.ts';
import { OPERATORS } from '../domain/rules/model.ts';
import { dirLabel, factTypeOf } from '../domain/rules/validate.ts';
import type { FactValues } from '../domain/types.ts';
import type { SubjectKind } from '../domain/types.ts';

/** A JSONPath payload that would run code if a path were ever evaluated as JSONPath (CVE-2024-21534). */
export const CODE_PATH = "$..[?(@.constructor.constructor('globalThis.__pbPwned = true')())]";

/** Fact names worth trying: real ones of both kinds, derived ones, and hostile or unknown names. */
export const fuzzFact = fc.oneof(
  fc.constantFrom(...FACTS.map((f) => f.name)),
  fc.constantFrom(...DERIVED_FACTS.map((f) => f.name)),
  fc.constantFrom(
    '__proto__',
    'constructor',
    'prototype',
    '$context',
    'param:elderly.min-age',
    'eligibleFor:elderly-allowance',
    'eligibleFor:__proto__',
    'eligibleFor:no-such-policy',
    '',
    'birthDate.year',
    'toString',
    'hasOwnProperty',
    // A forged second problem line, if names were printed unescaped.
    'x\nrules/forged.json: $: forged problem',
  ),
  fc.string({ maxLength: 20 }),
  fc.string({ maxLength: 20, unit: 'binary' }),
);

/** Operators: the allow-listed ones, json-rules-engine's decorators and other names. */
export const fuzzOperator = fc.oneof(
  fc.constantFrom(...OPERATORS),
  fc.constantFrom(
    'everyFact:equal',
    'someValue:in',
    'not:equal',
    'swap:lessThan',
    'regex',
    'eval',
    '__proto__',
    'constructor',
    'toString',
    '',
  ),
  fc.string({ maxLength: 12 }),
);

/** Condition paths: absent, dotted, JSONPath expressions (code included) and prototype walks. */
export const fuzzPath = fc.option(
  fc.oneof(
    fc.constantFrom(
      CODE_PATH,
      '$..x',
      '$.a[?(@.b)]',
      '$[0]',
      '__proto__.polluted',
      'constructor.prototype.polluted',
      'a.__proto__',
      'prototype',
      'a.b',
      'level',
      '',
    ),
    fc.string({ maxLength: 30 }),
  ),
  { nil: undefined },
);

/** Right-hand values: any JSON, parameter references (hostile ones too) and fact references. */
export const fuzzValue = fc.oneof(
  fc.jsonValue({ maxDepth: 2 }),
  fc.constantFrom(
    { param: 'elderly.min-age' },
    { param: '__proto__' },
    { param: 'no.such.param' },
    { fact: 'birthDate' },
    { fact: '$context' },
    JSON.parse('{"__proto__": {"polluted": true}}') as unknown,
    { param: 'elderly.min-age', extra: 1 },
  ),
);

/** One random condition leaf (and sometimes extra keys a leaf may not have). */
export const fuzzLeaf = fc.record(
  {
    name: fc.oneof(
      fc.constantFrom('fuzz-leaf', 'missing-fact:x', 'outside-effective-period', ''),
      fc.string(),
    ),
    fact: fuzzFact,
    operator: fuzzOperator,
    value: fuzzValue,
    path: fuzzPath,
    params: fc.option(fc.dictionary(fc.string({ maxLength: 8 }), fuzzValue, { maxKeys: 2 }), {
      nil: undefined,
    }),
    priority: fc.option(fc.integer(), { nil: undefined }),
  },
  { requiredKeys: ['name', 'fact', 'operator', 'value'] },
);

/** Values a leaf may compare a fact of this type with, and the operators that fit them. */
function valuesFor(t: FactType | undefined) {
  const lists = <T>(arb: fc.Arbitrary<T>) => fc.array(arb, { minLength: 1, maxLength: 3 });
  const order = ['equal', 'notEqual', 'lessThan', 'lessThanInclusive', 'greaterThan', 'greaterThanInclusive'];
  switch (t?.kind) {
    case 'integer':
    case 'fen': {
      const min = t.kind === 'integer' ? (t.min ?? -10) : -10;
      const max = t.kind === 'integer' ? (t.max ?? 1_000_000) : 1_000_000;
      const n = fc.integer({ min, max });
      return fc.oneof(
        fc.record({ operator: fc.constantFrom(...order), value: n }),
        fc.record({ operator: fc.constantFrom('in', 'notIn'), value: lists(n) }),
      );
    }
    case 'boolean':
      return fc.record({ operator: fc.constantFrom('equal', 'notEqual'), value: fc.boolean() });
    case 'enum':
      return fc.oneof(
        fc.record({ operator: fc.constantFrom('equal', 'notEqual'), value: fc.constantFrom(...t.values) }),
        fc.record({ operator: fc.constantFrom('in', 'notIn'), value: lists(fc.constantFrom(...t.values)) }),
      );
    case 'region':
      return fc.oneof(
        fc.record({
          operator: fc.constantFrom('equal', 'notEqual'),
          value: fc.constantFrom('110105', '310101'),
        }),
        fc.record({ operator: fc.constant('startsWith'), value: fc.constantFrom('11', '1101', '31') }),
      );
    case 'date':
      return fc.record({
        operator: fc.constantFrom(...order),
        value: fc.constantFrom('2000-01-01', '1945-03-01', '2025-12-31'),
      });
    default:
      return fc.record({ operator: fc.constantFrom(...OPERATORS), value: fc.integer({ min: -10, max: 10 }) });
  }
}

/**
 * A leaf a policy author could write for a subject kind: a real fact, an operator and a value that
 * fit the fact's type. Most load (the validator refuses values of another type); those are the
 * ones whose evaluation the fuzz test checks.
 */
export function plausibleLeaf(kind: SubjectKind) {
  const names = [
    ...FACTS.filter((f) => f.subjectKind === kind && f.type.kind !== 'person-ids').map((f) => f.name),
    ...DERIVED_FACTS.filter((d) => d.subjectKind === kind).map((d) => d.name),
  ];
  return fc
    .constantFrom(...names)
    .chain((fact) =>
      fc.record({
        name: fc.constantFrom('fuzz-leaf', 'fuzz.check-1'),
        fact: fc.constant(fact),
        comparison: valuesFor(factTypeOf(fact)),
      }),
    )
    .map(({ name, fact, comparison }) => ({
      name,
      fact,
      operator: comparison.operator,
      value: comparison.value,
    }));
}

/** Where a fuzzed leaf goes in a policy's condition tree. */
export type Placement = 'and' | 'replace-tree' | 'or' | 'not' | 'deep';

/** Puts a leaf into a condition tree; `and` keeps every original condition and adds the leaf to them. */
export function place(tree: unknown, leaf: unknown, how: Placement, depth = 50): unknown {
  switch (how) {
    case 'and':
      return { all: [tree, leaf] };
    case 'replace-tree':
      return leaf;
    case 'or':
      return { any: [tree, leaf] };
    case 'not':
      return { all: [tree, { not: leaf, name: 'fuzz-not' }] };
    case 'deep': {
      let node: unknown = leaf;
      for (let i = 0; i < depth; i++) node = i % 2 ? { all: [node] } : { any: [node] };
      return { all: [tree, node] };
    }
  }
}

/** Ways a whole file can be damaged. */
export const fuzzDamage = fc.oneof(
  fc.constant({ kind: 'truncate' as const }),
  fc.constant({ kind: 'not-json' as const }),
  fc.constant({ kind: 'array' as const }),
  fc.constant({ kind: 'deep-nesting' as const }),
  fc.record({ kind: fc.constant('set-key' as const), key: fc.string({ maxLength: 12 }), value: fuzzValue }),
  fc.record({
    kind: fc.constant('set-key' as const),
    key: fc.constantFrom('__proto__', 'constructor', 'id', 'version', 'amount', 'periodUnit', 'effective'),
    value: fuzzValue,
  }),
);

/** Applies a damage to a file's text. */
export function damage(text: string, d: typeof fuzzDamage extends fc.Arbitrary<infer T> ? T : never): string {
  switch (d.kind) {
    case 'truncate':
      return text.slice(0, Math.floor(text.length / 2));
    case 'not-json':
      return `${text}\n,}`;
    case 'array':
      return `[${text}]`;
    case 'deep-nesting': {
      // Deep enough to overflow a naively recursive walker's stack.
      const json = JSON.parse(text) as Record<string, unknown>;
      json.conditions = '__deep__';
      return JSON.stringify(json).replace('"__deep__"', deepTree(20_000));
    }
    case 'set-key': {
      const json = JSON.parse(text) as Record<string, unknown>;
      Object.defineProperty(json, d.key, {
        value: d.value,
        enumerable: true,
        configurable: true,
        writable: true,
      });
      return JSON.stringify(json);
    }
  }
}

function deepTree(depth: number): string {
  // Built as text: building the object recursively would itself overflow.
  const leaf = '{"name":"x","fact":"birthDate","operator":"equal","value":"2000-01-01"}';
  return `${'{"all":['.repeat(depth)}${leaf}${']}'.repeat(depth)}`;
}

/** A fresh copy of a rules directory to mutate. */
export function copyRules(from = 'rules'): string {
  const dir = mkdtempSync(join(tmpdir(), 'pb-fuzz-rules-'));
  cpSync(from, dir, { recursive: true });
  return dir;
}

/** Rule files (not test cases) of a rules directory. */
export function ruleFiles(dir: string): string[] {
  return readdirSync(dir)
    .filter((f) => f.endsWith('.json') && !f.endsWith('.test.json'))
    .sort();
}

/** Reads a JSON file of the directory. */
export const readJson = (dir: string, file: string): Record<string, unknown> =>
  JSON.parse(readFileSync(join(dir, file), 'utf8')) as Record<string, unknown>;

/** Writes a JSON (or damaged) file into the directory. */
export const writeText = (dir: string, file: string, text: string): void =>
  writeFileSync(join(dir, file), text);

/** A broken promise the fuzzer found, with the smallest detail that shows it. */
export interface FuzzFinding {
  kind:
    | 'validator-threw'
    | 'loader-threw-unlike-validator'
    | 'multi-line-problem'
    | 'problem-format'
    | 'prototype-polluted'
    | 'code-ran'
    | 'evaluator-threw'
    | 'granted-on-missing-fact';
  file: string;
  detail: string;
}

/** What a fuzz run covered and found. */
export interface FuzzReport {
  cases: number;
  refused: number;
  loaded: number;
  /** Evaluations of a loaded policy with the fuzzed leaf's fact unknown. */
  missingChecked: number;
  findings: FuzzFinding[];
}

/** The base facts a fact name rests on, or undefined when its absence is not "unknown". */
export function unknowableInputs(fact: string): string[] | undefined {
  const base = FACTS.find((f) => f.name === fact);
  if (base) return base.absentMeans === undefined ? [fact] : undefined;
  const derived = DERIVED_FACTS.find((d) => d.name === fact);
  if (!derived) return undefined;
  const inputs = derived.inputs.filter((i) => FACTS.find((f) => f.name === i)?.absentMeans === undefined);
  return inputs.length > 0 ? inputs : undefined;
}

const isPolluted = (): 'prototype-polluted' | 'code-ran' | undefined =>
  (({}) as Record<string, unknown>).polluted !== undefined
    ? 'prototype-polluted'
    : (globalThis as Record<string, unknown>).__pbPwned !== undefined
      ? 'code-ran'
      : undefined;

/** Checks one rules directory as the loader sees it; returns the set when it loads. */
function checkLoad(
  dir: string,
  label: string,
  file: string,
  report: FuzzReport,
  under: RulesUnderTest,
): unknown {
  const found = (kind: FuzzFinding['kind'], detail: string) =>
    report.findings.push({ kind, file, detail: detail.slice(0, 300) });
  let problems: Array<{ text: string }>;
  try {
    problems = under.validateRulesDir(dir);
  } catch (e) {
    found('validator-threw', `${(e as Error).name}: ${(e as Error).message}`);
    return undefined;
  }
  for (const p of problems) {
    if (/[\r\n\u2028\u2029]/.test(p.text)) found('multi-line-problem', JSON.stringify(p.text));
    else if (!p.text.startsWith(`${label}/`) || !p.text.includes(': $')) found('problem-format', p.text);
  }
  let set: unknown;
  try {
    set = under.loadPolicySet(dir);
  } catch (e) {
    const lines = (e as Error).message.split('\n');
    if (!(e instanceof Error) || lines.join('\n') !== problems.map((p) => p.text).join('\n'))
      found('loader-threw-unlike-validator', `${(e as Error).name}: ${(e as Error).message.split('\n')[0]}`);
    report.refused++;
  }
  const pollution = isPolluted();
  if (pollution) found(pollution, file);
  if (set !== undefined) report.loaded++;
  return set;
}

/** What the fuzzer runs against: the rules module's entry points and evaluators. */
export interface RulesUnderTest {
  validateRulesDir: (dir: string) => Array<{ text: string }>;
  loadPolicySet: (dir: string) => unknown;
  dirLabel: (dir: string) => string;
  /** Evaluators of a loaded set: name and evaluate(subject facts, period, policy id). */
  evaluators: (set: unknown) => Array<{
    name: string;
    evaluate: (
      kind: SubjectKind,
      facts: Record<string, unknown>,
      period: string,
      policy: string,
    ) => Promise<Array<{ outcome: string; amount: number | null }>>;
  }>;
}

/** The rules module as the engine and `pb` use it: both evaluators. */
export const rulesUnderTest: RulesUnderTest = {
  validateRulesDir,
  loadPolicySet,
  dirLabel,
  evaluators: (set) =>
    [createReferenceEvaluator(set as PolicySet), createCompiledEvaluator(set as PolicySet)].map((ev) => ({
      name: ev.name,
      evaluate: (kind, facts, period, policy) =>
        ev.evaluate({ subject: 'fuzz', kind, facts: facts as FactValues }, period, { policy }),
    })),
};

/**
 * Runs the rule-file fuzzer: `cases` random leaves placed into random policies, then `damaged`
 * damaged files. Collects every broken promise instead of stopping at the first, so a report
 * shows all of them.
 */
export function runRulesFuzz(
  under: RulesUnderTest,
  opts: { cases: number; damaged: number; seed: number; rulesDir?: string },
): Promise<FuzzReport> {
  const dir = copyRules(opts.rulesDir);
  const label = under.dirLabel(dir);
  const report: FuzzReport = { cases: 0, refused: 0, loaded: 0, missingChecked: 0, findings: [] };
  const files = ruleFiles(dir);
  const original = new Map(files.map((f) => [f, readFileSync(join(dir, f), 'utf8')]));
  const testsOf = (f: string) =>
    JSON.parse(readFileSync(join(dir, f.replace(/\.json$/, '.test.json')), 'utf8')) as Array<{
      name: string;
      kind: SubjectKind;
      period: string;
      facts: Record<string, unknown>;
      expected: { outcome: string };
    }>;
  const leafCases = fc.sample(
    fc.constantFrom(...files).chain((file) => {
      const kind = (JSON.parse(original.get(file)!) as { subjectKind: SubjectKind }).subjectKind;
      return fc.tuple(
        fc.constant(file),
        fc.oneof(fuzzLeaf, plausibleLeaf(kind), plausibleLeaf(kind)),
        fc.constantFrom<Placement>('and', 'and', 'and', 'replace-tree', 'or', 'not', 'deep'),
      );
    }),
    { numRuns: opts.cases, seed: opts.seed },
  );
  const run = async () => {
    for (const [file, leaf, how] of leafCases) {
      report.cases++;
      const policy = JSON.parse(original.get(file)!) as Record<string, unknown>;
      writeText(dir, file, JSON.stringify({ ...policy, conditions: place(policy.conditions, leaf, how) }));
      try {
        const set = checkLoad(dir, label, file, report, under);
        if (set === undefined || how !== 'and') continue;
        const removed = unknowableInputs(leaf.fact);
        if (!removed) continue;
        for (const c of testsOf(file).filter((x) => x.expected.outcome === 'eligible')) {
          const facts = { ...c.facts };
          for (const r of removed) delete facts[r];
          for (const ev of under.evaluators(set)) {
            let results: Array<{ outcome: string; amount: number | null }>;
            try {
              results = await ev.evaluate(c.kind, facts, c.period, policy.id as string);
            } catch (e) {
              report.findings.push({
                kind: 'evaluator-threw',
                file,
                detail: `${ev.name}: ${(e as Error).message} (leaf ${JSON.stringify(leaf)})`.slice(0, 300),
              });
              continue;
            }
            for (const r of results) {
              report.missingChecked++;
              if (r.outcome === 'eligible' || r.amount !== null)
                report.findings.push({
                  kind: 'granted-on-missing-fact',
                  file,
                  detail: `${ev.name}: case '${c.name}' without ${removed.join(',')} (leaf ${JSON.stringify(leaf)})`,
                });
            }
          }
        }
      } finally {
        writeText(dir, file, original.get(file)!);
      }
    }
    const damages = fc.sample(
      fc.tuple(
        fc.constantFrom(...files, 'params/elderly-allowance.json', 'params/municipal.json'),
        fuzzDamage,
      ),
      { numRuns: opts.damaged, seed: opts.seed + 1 },
    );
    for (const [file, d] of damages) {
      report.cases++;
      const before = readFileSync(join(dir, file), 'utf8');
      writeText(dir, file, damage(before, d));
      try {
        checkLoad(dir, label, file, report, under);
      } finally {
        writeText(dir, file, before);
      }
    }
    return report;
  };
  return run().finally(() => rmSync(dir, { recursive: true, force: true }));
}

/** One finding per (kind, file): the first example of each. */
export function distinctFindings(findings: readonly FuzzFinding[]): FuzzFinding[] {
  const seen = new Map<string, FuzzFinding>();
  for (const f of findings) if (!seen.has(`${f.kind}|${f.file}`)) seen.set(`${f.kind}|${f.file}`, f);
  return [...seen.values()];
}
