/**
 * `npm run bench`: the json-rules-engine reference against the compiled evaluator, single-threaded,
 * on the seven shipped policies and on a synthetic 20-condition policy, over 1,000,000 generated
 * subjects each, in one run; then `pb evaluate --engine reference` against `--engine compiled` as
 * whole processes on a generated population file.
 *
 * The reference is far too slow for a million subjects, so it runs on the first SAMPLE of them (the
 * table says so), and the compiled results on that sample are checked to be identical to it. Only
 * evaluation is timed: subjects are generated (seeded, reproducible) in batches of BATCH outside the
 * clock, each batch evaluated right after it is generated.
 * Every figure printed is measured in this run; nothing is estimated.
 *
 * Each workload runs in a child process of its own, so V8 compiles each engine for that workload's
 * objects only (in one process, the second workload ran on code the first had made generic), and
 * each engine runs REPEAT times on the same subjects: every repetition is printed, and the ratio is
 * that of each engine's fastest, the one least slowed by whatever else this machine was doing.
 *
 * The children run this script bundled as the Lambda functions are (see bundleSelf).
 *
 * Options (environment): BENCH_SUBJECTS (default 1000000), BENCH_SAMPLE (20000), BENCH_REPEAT (3),
 * BENCH_PROCESS_SUBJECTS (100000; 0 skips the whole-process comparison).
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { isDeepStrictEqual } from 'node:util';
import { build } from 'esbuild';
import { factDefinition } from '../src/domain/facts/catalogue.ts';
import { derivedFact, ELIGIBLE_FOR_PREFIX } from '../src/domain/facts/derived.ts';
import { lockObjectPrototype } from '../src/domain/rules/compiled/facts.ts';
import { leafConditions } from '../src/domain/rules/evaluation.ts';
import { type CompiledEvaluator, createCompiledEvaluator } from '../src/domain/rules/compiled/index.ts';
import {
  createReferenceEvaluator,
  type EvaluationInput,
  type Evaluator,
  loadPolicySet,
  type PolicySet,
} from '../src/domain/rules/index.ts';
import type { EvaluationResult } from '../src/domain/types.ts';
import { prng } from '../src/testing/prng.ts';

const SUBJECTS = Number(process.env.BENCH_SUBJECTS ?? 1_000_000);
const SAMPLE = Math.min(SUBJECTS, Number(process.env.BENCH_SAMPLE ?? 20_000));
const PROCESS_SUBJECTS = Number(process.env.BENCH_PROCESS_SUBJECTS ?? 100_000);
/** Repetitions of each engine on each workload (the same subjects each time). */
const REPEAT = Math.max(1, Number(process.env.BENCH_REPEAT ?? 3));
/**
 * Subjects are generated and then evaluated in batches of this many, as a stream evaluates a
 * subject right after parsing it (pb evaluate) or a scan page right after reading it (backfill):
 * the facts are in cache when evaluated. Only the evaluation of each batch is timed.
 */
const BATCH = 1_000;
/** The repository (given to the bundled children, which run from a temporary directory). */
const ROOT = process.env.BENCH_ROOT ?? resolve(import.meta.dirname, '..');

// ---------------------------------------------------------------------------------------------
// Seeded generation (prng, mulberry32): the same population on every run.

const pad = (n: number, w = 2): string => String(n).padStart(w, '0');

/** Generators of subjects: persons and enterprises with the mix of a real population. */
class Population {
  private readonly r: () => number;
  constructor(seed: number) {
    this.r = prng(seed);
  }
  private int(min: number, max: number): number {
    return min + Math.floor(this.r() * (max - min + 1));
  }
  private chance(p: number): boolean {
    return this.r() < p;
  }
  private date(fromYear: number, toYear: number): string {
    return `${this.int(fromYear, toYear)}-${pad(this.int(1, 12))}-${pad(this.int(1, 28))}`;
  }

  /** A person: a third very old, some children under four, some with a disability certificate. */
  person(i: number): EvaluationInput {
    const u = this.r();
    const birthDate =
      u < 0.33 ? this.date(1918, 1946) : u < 0.43 ? this.date(2021, 2025) : this.date(1947, 2020);
    const facts: Record<string, unknown> = {
      birthDate,
      hukouRegion: this.chance(0.7) ? `1101${pad(this.int(1, 20))}` : `3101${pad(this.int(1, 20))}`,
    };
    if (this.chance(0.04)) facts.deathDate = this.date(2024, 2025);
    if (birthDate >= '2021') facts.guardians = this.chance(0.9) ? [`p-${i + 1}`] : [];
    if (this.chance(0.12)) {
      facts.disabilityLevel = this.int(1, 4);
      if (this.chance(0.5)) facts.disabilityCertValidUntil = this.date(2024, 2030);
    }
    facts.dibaoEnrolled = this.chance(0.08);
    return { subject: `p-${i}`, kind: 'person', facts };
  }

  /** An enterprise with this year's and last year's per-year facts, mostly small. */
  enterprise(i: number): EvaluationInput {
    const year = <T>(v: T, last: T) => ({ '2024': last, '2025': v });
    const hc = this.chance(0.5) ? this.int(1, 30) : this.int(31, 2000);
    const facts: Record<string, unknown> = {
      enterpriseType: this.chance(0.8) ? 'company' : 'individual-business',
      vatTaxpayerType: this.chance(0.6) ? 'small-scale' : 'general',
      industryRestricted: year(this.chance(0.05), false),
      taxableIncome: year(this.int(-50_000_000, 400_000_000), this.int(0, 400_000_000)),
      employeesAvg: year(this.int(1, 400), this.int(1, 400)),
      totalAssetsAvg: year(this.int(1_000_000, 6_000_000_000), this.int(1_000_000, 6_000_000_000)),
      localTaxesDue: year(this.int(0, 5_000_000), this.int(0, 5_000_000)),
      enterpriseSize: { '2025': ['large', 'medium', 'small', 'micro'][this.int(0, 3)] },
      uiPremiumsPaid: year(this.int(0, 50_000_000), this.int(0, 50_000_000)),
      uiInsuredHeadcount: year(hc, hc),
      uiLayoffs: year(this.int(0, Math.ceil(hc * 0.08)), 0),
      uiArrears: year(this.chance(0.05), false),
    };
    if (this.chance(0.05)) delete facts.taxableIncome;
    return { subject: `e-${i}`, kind: 'enterprise', facts };
  }

  /** Half persons, half enterprises. */
  mixed(i: number): EvaluationInput {
    return i % 2 === 0 ? this.person(i) : this.enterprise(i);
  }
}

// ---------------------------------------------------------------------------------------------
// The synthetic 20-condition policy, written as a rule file so it passes `pb rules validate`.

const SYNTHETIC_ID = 'synthetic-20-conditions';

function syntheticRule(): unknown {
  const c = (name: string, fact: string, operator: string, value: unknown, extra: object = {}) => ({
    name,
    fact,
    operator,
    value,
    ...extra,
  });
  const conditions = {
    all: [
      c('not-company-or-individual', 'enterpriseType', 'in', ['company', 'individual-business']),
      c('vat-status-unknown', 'vatTaxpayerType', 'in', ['small-scale', 'general']),
      c('industry-restricted', 'industryRestricted', 'equal', false),
      c('income-not-positive', 'taxableIncome', 'greaterThan', 0),
      c('income-above-max', 'taxableIncome', 'lessThanInclusive', {
        param: 'small-low-profit-cit.max-taxable-income',
      }),
      c('no-employees', 'employeesAvg', 'greaterThanInclusive', 1),
      c('employees-above-max', 'employeesAvg', 'lessThanInclusive', {
        param: 'small-low-profit-cit.max-employees',
      }),
      c('assets-not-positive', 'totalAssetsAvg', 'greaterThan', 0),
      c('assets-above-max', 'totalAssetsAvg', 'lessThanInclusive', {
        param: 'small-low-profit-cit.max-total-assets',
      }),
      c('local-taxes-negative', 'localTaxesDue', 'greaterThanInclusive', 0),
      c('local-taxes-implausible', 'localTaxesDue', 'lessThan', 100_000_000_000),
      c('size-large', 'enterpriseSize', 'notIn', ['large']),
      c('premiums-not-positive', 'uiPremiumsPaid', 'greaterThan', 0),
      c('premiums-implausible', 'uiPremiumsPaid', 'lessThanInclusive', 100_000_000_000),
      c('arrears', 'uiArrears', 'equal', false),
      c('no-insured', 'uiInsuredHeadcount', 'greaterThan', 0),
      c('layoffs-implausible', 'uiLayoffs', 'lessThanInclusive', 1_000_000),
      c('layoff-rate-above-limit', 'layoffRateWithinLimit', 'equal', true, {
        params: {
          smallHeadcountMax: { param: 'job-stabilization.small-headcount-max' },
          smallMaxRate: { param: 'job-stabilization.max-layoff-rate.small' },
          maxRate: { param: 'job-stabilization.max-layoff-rate' },
        },
      }),
      {
        name: 'not-small-scale-or-individual',
        any: [
          c('not-small-scale', 'vatTaxpayerType', 'equal', 'small-scale'),
          c('not-individual-business', 'enterpriseType', 'equal', 'individual-business'),
        ],
      },
    ],
  };
  return {
    id: SYNTHETIC_ID,
    version: '1.0.0',
    title: { 'zh-CN': '基准测试合成政策', en: 'Synthetic 20-condition benchmark policy' },
    description: 'Benchmark only: 20 comparisons (18, and an any of 2) over every enterprise fact.',
    legalReference: { document: 'benchmark', article: 'none', link: 'https://example.org/benchmark' },
    subjectKind: 'enterprise',
    periodUnit: 'year',
    effective: { from: '2023', to: '2027' },
    conditions,
    amount: { kind: 'percentOf', fact: 'taxableIncome', numerator: 5, denominator: 100 },
    notification: { templateIds: ['synthetic.granted'], recipients: 'subject' },
    reviewSampleRate: 0,
  };
}

/** The shipped rules plus the synthetic policy, in a temporary rules directory, loaded and validated. */
function syntheticSet(dir: string): PolicySet {
  mkdirSync(join(dir, 'params'), { recursive: true });
  for (const f of readdirSync(join(ROOT, 'rules', 'params'))) {
    copyFileSync(join(ROOT, 'rules', 'params', f), join(dir, 'params', f));
  }
  writeFileSync(join(dir, `${SYNTHETIC_ID}.json`), JSON.stringify(syntheticRule(), null, 2));
  return loadPolicySet(dir);
}

// ---------------------------------------------------------------------------------------------
// Workloads

/** What one subject is evaluated for: its kind's policies, for the periods given. */
interface Workload {
  label: string;
  set: PolicySet;
  make: (pop: Population, i: number) => EvaluationInput;
  periods: (input: EvaluationInput) => string[];
  policy?: string;
  seed: number;
}

interface Measured {
  subjects: number;
  /** Wall-clock seconds of evaluation. */
  seconds: number;
  /** CPU seconds (user + system) of the evaluating thread. */
  cpu: number;
  decisions: number;
  eligible: number;
  amount: number;
}

const rate = (m: Measured): number => m.subjects / m.seconds;
const cpuRate = (m: Measured): number => m.subjects / m.cpu;

/**
 * Wall-clock seconds, and CPU seconds of the evaluating thread (`process.threadCpuUsage`, Node >= 23.9;
 * the whole process's `cpuUsage` before), since the call. CPU time is what one core spends whatever
 * else the machine runs; V8's helper threads (concurrent GC, compilers) are not in it.
 */
const hasThreadCpu =
  typeof (process as unknown as { threadCpuUsage?: unknown }).threadCpuUsage === 'function';
const threadCpu: (prev?: NodeJS.CpuUsage) => NodeJS.CpuUsage =
  (process as unknown as { threadCpuUsage?: (p?: NodeJS.CpuUsage) => NodeJS.CpuUsage }).threadCpuUsage?.bind(
    process,
  ) ?? process.cpuUsage.bind(process);
function clock(): () => { wall: number; cpu: number } {
  const t0 = process.hrtime.bigint();
  const c0 = threadCpu();
  return () => {
    const c = threadCpu(c0);
    return { wall: Number(process.hrtime.bigint() - t0) / 1e9, cpu: (c.user + c.system) / 1e6 };
  };
}

function tally(m: Measured, results: EvaluationResult[]): void {
  m.decisions += results.length;
  for (const r of results) {
    if (r.outcome === 'eligible') {
      m.eligible += 1;
      m.amount += r.amount ?? 0;
    }
  }
}

/** Compiled: SUBJECTS subjects generated in batches, only `evaluateSync` timed. */
function runCompiled(w: Workload, evaluator: CompiledEvaluator): Measured {
  const pop = new Population(w.seed);
  const m: Measured = { subjects: 0, seconds: 0, cpu: 0, decisions: 0, eligible: 0, amount: 0 };
  const opts = w.policy === undefined ? undefined : { policy: w.policy };
  const batch: EvaluationInput[] = [];
  const periods: string[][] = [];
  for (let start = 0; start < SUBJECTS; start += BATCH) {
    batch.length = 0;
    periods.length = 0;
    for (let i = start; i < Math.min(SUBJECTS, start + BATCH); i++) {
      const input = w.make(pop, i);
      batch.push(input);
      periods.push(w.periods(input));
    }
    const stop = clock();
    for (let i = 0; i < batch.length; i++) {
      const input = batch[i]!;
      for (const p of periods[i]!) tally(m, evaluator.evaluateSync(input, p, opts));
    }
    const t = stop();
    m.seconds += t.wall;
    m.cpu += t.cpu;
    m.subjects += batch.length;
  }
  return m;
}

/** A base fact a workload's policies read, and whether it is kept per year. */
interface FactRef {
  name: string;
  perYear: boolean;
}

/**
 * The base facts the workload's policies read (conditions, the inputs of derived facts, amounts),
 * by subject kind, in first-use order.
 */
function factsRead(w: Workload): Map<string, FactRef[]> {
  const byKind = new Map<string, FactRef[]>();
  for (const p of w.set.policies) {
    if (w.policy !== undefined && p.id !== w.policy) continue;
    const list = byKind.get(p.subjectKind) ?? [];
    byKind.set(p.subjectKind, list);
    const add = (fact: string): void => {
      if (fact.startsWith(ELIGIBLE_FOR_PREFIX)) return;
      const d = derivedFact(fact);
      if (d) {
        for (const input of d.inputs) add(input);
        return;
      }
      if (list.some((f) => f.name === fact)) return;
      list.push({ name: fact, perYear: factDefinition(fact)?.perYear ?? false });
    };
    for (const l of leafConditions(p.conditions)) add(l.fact);
    const amount = (a: Record<string, unknown>): void => {
      if (a.kind === 'perCountedMonth') add('countedMonths');
      if (typeof a.fact === 'string') add(a.fact);
      if (Array.isArray(a.tiers)) for (const t of a.tiers) amount(t.amount);
    };
    amount(p.amount as unknown as Record<string, unknown>);
  }
  return byKind;
}

/**
 * The floor under any evaluator of this input form: for every subject, only the property lookups
 * of the facts its policies read (`facts[name]`, then `[year]` for a per-year fact), no check, no
 * condition, no result; same subjects, batches and clock as runCompiled. Not an evaluator: a
 * measure of what the input form costs before any evaluating starts.
 */
function runLookups(w: Workload): Measured {
  const pop = new Population(w.seed);
  const byKind = factsRead(w);
  const m: Measured = { subjects: 0, seconds: 0, cpu: 0, decisions: 0, eligible: 0, amount: 0 };
  const batch: EvaluationInput[] = [];
  const year = 2025;
  let found = 0;
  for (let start = 0; start < SUBJECTS; start += BATCH) {
    batch.length = 0;
    for (let i = start; i < Math.min(SUBJECTS, start + BATCH); i++) batch.push(w.make(pop, i));
    const stop = clock();
    for (let i = 0; i < batch.length; i++) {
      const input = batch[i]!;
      const facts = input.facts as Record<string, unknown>;
      const list = byKind.get(input.kind) ?? [];
      for (let j = 0; j < list.length; j++) {
        const f = list[j]!;
        let v = facts[f.name];
        if (f.perYear && v !== undefined && v !== null) v = (v as Record<number, unknown>)[year];
        if (v !== undefined) found += 1;
      }
    }
    const t = stop();
    m.seconds += t.wall;
    m.cpu += t.cpu;
    m.subjects += batch.length;
  }
  // Values found, so the lookups cannot be optimised away (and the figure can be checked).
  m.decisions = found;
  return m;
}

/** Reference: the first SAMPLE subjects of the same population; returns results to compare. */
async function runReference(
  w: Workload,
  evaluator: Evaluator,
): Promise<{ m: Measured; results: EvaluationResult[][] }> {
  const pop = new Population(w.seed);
  const opts = w.policy === undefined ? undefined : { policy: w.policy };
  const inputs = Array.from({ length: SAMPLE }, (_, i) => w.make(pop, i));
  const m: Measured = { subjects: 0, seconds: 0, cpu: 0, decisions: 0, eligible: 0, amount: 0 };
  const results: EvaluationResult[][] = [];
  const stop = clock();
  for (const input of inputs) {
    for (const p of w.periods(input)) {
      const rs = (await evaluator.evaluate(input, p, opts)).map((e) => ({
        subject: e.subject,
        policy: e.policy,
        period: e.period,
        outcome: e.outcome,
        amount: e.amount,
        reasons: e.reasons,
      }));
      tally(m, rs);
      results.push(rs);
    }
  }
  const t = stop();
  m.seconds = t.wall;
  m.cpu = t.cpu;
  m.subjects = inputs.length;
  return { m, results };
}

/** The compiled results on the reference's sample, in the same order. */
function compiledOnSample(w: Workload, evaluator: CompiledEvaluator): EvaluationResult[][] {
  const pop = new Population(w.seed);
  const opts = w.policy === undefined ? undefined : { policy: w.policy };
  const out: EvaluationResult[][] = [];
  for (let i = 0; i < SAMPLE; i++) {
    const input = w.make(pop, i);
    for (const p of w.periods(input)) out.push(evaluator.evaluateSync(input, p, opts));
  }
  return out;
}

const fmt = (n: number): string => Math.round(n).toLocaleString('en-US');

// ---------------------------------------------------------------------------------------------
// Whole processes: `pb evaluate --engine reference|compiled`

function wholeProcess(dir: string): void {
  if (PROCESS_SUBJECTS <= 0) return;
  const file = join(dir, 'population.jsonl');
  const pop = new Population(7);
  const lines: string[] = [];
  for (let i = 0; i < PROCESS_SUBJECTS; i++) lines.push(JSON.stringify(pop.mixed(i)));
  writeFileSync(file, `${lines.join('\n')}\n`);
  console.log('');
  console.log(
    `Whole process: pb evaluate on ${fmt(PROCESS_SUBJECTS)} subjects (half persons, half enterprises), one process per run`,
  );
  const rows: Array<[string, string, number, string]> = [];
  const times: Record<string, number> = {};
  for (const period of ['2025', '2025-03']) {
    for (const engine of ['reference', 'compiled']) {
      const t0 = process.hrtime.bigint();
      const r = spawnSync(
        process.execPath,
        [join(ROOT, 'bin', 'pb.mjs'), 'evaluate', '--profiles', file, '--period', period, '--engine', engine],
        { cwd: ROOT, maxBuffer: 1 << 30, encoding: 'utf8' },
      );
      const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
      if (r.status !== 0) {
        console.log(
          `  --engine ${engine} --period ${period}: exit ${r.status}: ${(r.stderr || '').trim().split('\n')[0]}`,
        );
        console.log('  whole-process comparison skipped');
        return;
      }
      const hash = createHash('sha256').update(r.stdout).digest('hex').slice(0, 16);
      times[`${engine} ${period}`] = seconds;
      rows.push([
        `--engine ${engine} --period ${period}`,
        hash,
        seconds,
        fmt(r.stdout.split('\n').length - 1),
      ]);
    }
  }
  console.log(`  ${'run'.padEnd(38)} ${'seconds'.padStart(8)} ${'lines'.padStart(9)}  stdout sha256`);
  for (const [label, hash, s, n] of rows)
    console.log(`  ${label.padEnd(38)} ${s.toFixed(2).padStart(8)} ${n.padStart(9)}  ${hash}`);
  for (const period of ['2025', '2025-03']) {
    const same = rows.filter((r) => r[0].endsWith(` ${period}`)).map((r) => r[1]);
    const ratio = times[`reference ${period}`]! / times[`compiled ${period}`]!;
    console.log(
      `  --period ${period}: output ${same[0] === same[1] ? 'byte-identical' : 'DIFFERENT'}, compiled ${ratio.toFixed(1)}x faster as a whole process`,
    );
  }
  const total = (e: string) => times[`${e} 2025`]! + times[`${e} 2025-03`]!;
  console.log(
    `  both periods: compiled ${(total('reference') / total('compiled')).toFixed(1)}x faster as a whole process`,
  );
  // What every run pays before its first line (node, the TypeScript loader, the rules), for context.
  const empty = join(dir, 'empty.jsonl');
  writeFileSync(empty, '');
  const t0 = process.hrtime.bigint();
  spawnSync(
    process.execPath,
    [
      join(ROOT, 'bin', 'pb.mjs'),
      'evaluate',
      '--profiles',
      empty,
      '--period',
      '2025',
      '--engine',
      'compiled',
    ],
    { cwd: ROOT },
  );
  const startup = Number(process.hrtime.bigint() - t0) / 1e9;
  console.log(
    `  start-up alone (empty input, --engine compiled): ${startup.toFixed(2)} s, included in the runs above`,
  );
}

// ---------------------------------------------------------------------------------------------

/** What a workload's child process reports: every repetition of each engine, and the comparison. */
interface ChildReport {
  label: string;
  compiled: Measured[];
  reference: Measured[];
  /** runLookups, REPEAT times. */
  lookups: Measured[];
  /** How many base facts its policies read, per subject kind. */
  facts: Record<string, number>;
  agree: boolean;
}

/** The workloads, by label, built in whichever process asks (parent for labels, child to run one). */
function workloadsIn(dir: string): Workload[] {
  const seven = loadPolicySet(join(ROOT, 'rules'));
  const synthetic = syntheticSet(join(dir, 'rules'));
  const syntheticPolicy = synthetic.policies.find((p) => p.id === SYNTHETIC_ID)!;
  return [
    {
      label: `${seven.policies.length} policies`,
      set: seven,
      make: (pop, i) => pop.mixed(i),
      // Persons: the month policies for 2025-03 and the childcare subsidy for 2025; enterprises: 2025.
      periods: (input) => (input.kind === 'person' ? ['2025-03', '2025'] : ['2025']),
      seed: 1,
    },
    {
      label: `synthetic ${leafConditions(syntheticPolicy.conditions).length} conditions`,
      set: synthetic,
      make: (pop, i) => pop.enterprise(i),
      periods: () => ['2025'],
      policy: SYNTHETIC_ID,
      seed: 2,
    },
  ];
}

/**
 * One workload, in a process of its own: REPEAT repetitions of the compiled run (each over the same
 * SUBJECTS subjects), then REPEAT of the lookups alone, then REPEAT of the reference run on its
 * sample, then the comparison of their results. Prints one JSON line (ChildReport).
 */
async function child(index: number, dir: string): Promise<void> {
  const w = workloadsIn(dir)[index]!;
  const compiled = createCompiledEvaluator(w.set);
  const reference = createReferenceEvaluator(w.set);
  const facts = Object.fromEntries([...factsRead(w)].map(([kind, list]) => [kind, list.length]));
  const report: ChildReport = {
    label: w.label,
    compiled: [],
    reference: [],
    lookups: [],
    facts,
    agree: false,
  };
  // Compiled first, so its timing does not inherit the reference's garbage.
  for (let r = 0; r < REPEAT; r++) report.compiled.push(runCompiled(w, compiled));
  for (let r = 0; r < REPEAT; r++) report.lookups.push(runLookups(w));
  let results: EvaluationResult[][] = [];
  for (let r = 0; r < REPEAT; r++) {
    const ref = await runReference(w, reference);
    report.reference.push(ref.m);
    results = ref.results;
  }
  report.agree = isDeepStrictEqual(compiledOnSample(w, compiled), results);
  process.stdout.write(`${JSON.stringify(report)}\n`);
}

/**
 * This script as the Lambda functions ship code (infra/function.ts: esbuild, one ESM bundle, target
 * node24, minified), so the engines are measured as they run in production, not through the
 * TypeScript loader (whose module-per-file code ran the compiled evaluator 10-15% slower here).
 */
async function bundleSelf(dir: string): Promise<string> {
  const out = join(dir, 'bench.mjs');
  await build({
    entryPoints: [fileURLToPath(import.meta.url)],
    outfile: out,
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node24',
    minify: true,
    logLevel: 'error',
    // Bundled CommonJS dependencies still call require(), as in infra/function.ts.
    banner: {
      js: "import { createRequire as __pbCreateRequire } from 'node:module';const require = __pbCreateRequire(import.meta.url);",
    },
  });
  return out;
}

/** Runs workload `index` in a fresh process on the bundle and returns its report. */
function inChild(bundle: string, index: number, dir: string): ChildReport {
  const r = spawnSync(process.execPath, [bundle], {
    cwd: ROOT,
    encoding: 'utf8',
    env: { ...process.env, BENCH_CHILD: String(index), BENCH_DIR: dir, BENCH_ROOT: ROOT },
    maxBuffer: 1 << 26,
  });
  const last = (r.stdout ?? '').trim().split('\n').pop() ?? '';
  if (r.status !== 0 || !last.startsWith('{')) {
    throw new Error(
      `workload ${index} failed (exit ${r.status}): ${(r.stderr || '').trim().split('\n').pop()}`,
    );
  }
  return JSON.parse(last) as ChildReport;
}

/** The fastest repetition (least wall time): the others are the same work slowed by the machine. */
const best = (ms: Measured[]): Measured => ms.reduce((a, b) => (b.seconds < a.seconds ? b : a));

async function main(): Promise<void> {
  // As `pb evaluate` and `pb simulate` run: Object.prototype locked once every module is loaded.
  lockObjectPrototype();
  const childIndex = process.env.BENCH_CHILD;
  if (childIndex !== undefined) {
    await child(Number(childIndex), process.env.BENCH_DIR!);
    return;
  }
  const dir = mkdtempSync(join(tmpdir(), 'pb-bench-'));
  try {
    const workloads = workloadsIn(dir);
    const bundle = await bundleSelf(dir);
    console.log(
      `pb bench: node ${process.version}, one thread; compiled over ${fmt(SUBJECTS)} generated subjects (evaluated in batches of ${fmt(BATCH)} right after generation, only evaluation timed), reference over the first ${fmt(SAMPLE)} of them (json-rules-engine is too slow for all)`,
    );
    console.log(
      `Each workload runs in a process of its own (no engine is compiled by V8 for another workload's objects), on this script bundled as the functions are (esbuild, ESM, node24, minified), ${REPEAT} repetitions of each engine; the table shows every repetition, the ratio is of each engine's fastest.`,
    );
    console.log(
      `machine: ${availableParallelism()} cores, load average ${loadavg()[0]!.toFixed(2)} (1 min) at the start; compare wall with CPU figures when others share it`,
    );
    console.log(
      'Object.prototype is locked (non-extensible), as the pb executable does for evaluate and simulate: the compiled evaluator then skips its own-property check of each fact.',
    );
    console.log(
      `CPU seconds are those of ${hasThreadCpu ? 'the evaluating thread (process.threadCpuUsage)' : 'the whole process (process.cpuUsage)'}; wall seconds include time the machine gave to other work.`,
    );
    console.log('');
    const header = `${'workload'.padEnd(24)} ${'engine'.padEnd(10)} ${'rep'.padStart(3)} ${'subjects'.padStart(10)} ${'decisions'.padStart(10)} ${'wall s'.padStart(8)} ${'subjects/s'.padStart(11)} ${'CPU s'.padStart(8)} ${'subj/CPU-s'.padStart(11)}  ${'eligible'.padStart(9)}`;
    console.log(header);
    console.log('-'.repeat(header.length));
    const summary: string[] = [];
    const floors: string[] = [];
    for (let i = 0; i < workloads.length; i++) {
      process.stderr.write(
        `bench: ${workloads[i]!.label}: ${REPEAT} x compiled, lookups and reference in a fresh process...\n`,
      );
      const report = inChild(bundle, i, dir);
      for (const [engine, ms] of [
        ['reference', report.reference],
        ['compiled', report.compiled],
        ['lookups', report.lookups],
      ] as const) {
        ms.forEach((m, r) => {
          const decisions = engine === 'lookups' ? '-' : fmt(m.decisions);
          const eligible = engine === 'lookups' ? '-' : fmt(m.eligible);
          console.log(
            `${report.label.padEnd(24)} ${engine.padEnd(10)} ${String(r + 1).padStart(3)} ${fmt(m.subjects).padStart(10)} ${decisions.padStart(10)} ${m.seconds.toFixed(3).padStart(8)} ${fmt(rate(m)).padStart(11)} ${m.cpu.toFixed(3).padStart(8)} ${fmt(cpuRate(m)).padStart(11)}  ${eligible.padStart(9)}`,
          );
        });
      }
      const comp = best(report.compiled);
      const ref = best(report.reference);
      const look = best(report.lookups);
      const ns = (m: Measured): string => `${((m.seconds / m.subjects) * 1e9).toFixed(0)} ns`;
      const need = 200 * rate(ref);
      const factCounts = Object.entries(report.facts)
        .map(([kind, n]) => `${n} for ${kind === 'person' ? 'a person' : 'an enterprise'}`)
        .join(', ');
      floors.push(
        `${report.label}: looking up the facts alone (${factCounts}; no check, no condition) ${fmt(rate(look))} subjects/s, ${ns(look)} per subject; compiled ${ns(comp)} per subject; 200x the reference would be ${fmt(need)} subjects/s, ${((1 / need) * 1e9).toFixed(0)} ns per subject`,
      );
      summary.push(
        `${report.label}: compiled ${fmt(rate(comp))} subjects/s wall (${fmt(cpuRate(comp))} per CPU-second), reference ${fmt(rate(ref))} (${fmt(cpuRate(ref))}) on its sample, fastest repetitions; ratio ${(rate(comp) / rate(ref)).toFixed(0)}x wall, ${(cpuRate(comp) / cpuRate(ref)).toFixed(0)}x CPU; compiled results on the reference sample ${report.agree ? 'identical' : 'DIFFERENT'}`,
      );
    }
    console.log('');
    for (const s of summary) console.log(s);
    console.log('');
    console.log(
      'What the input form costs (lookups: fastest repetition of only the property lookups any evaluator of these subjects must make):',
    );
    for (const s of floors) console.log(s);
    console.log(`load average ${loadavg()[0]!.toFixed(2)} (1 min) at the end`);
    wholeProcess(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
