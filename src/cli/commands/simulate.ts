import {
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';
import { formatYuan } from '../../domain/notifications/index.ts';
import { createCompiledEvaluator } from '../../domain/rules/compiled/index.ts';
import { fastProfileParser, forEachLine, LineWriter } from '../../domain/rules/compiled/stream.ts';
import { eligibleForTargets, insideWindow } from '../../domain/rules/evaluation.ts';
import { dirLabel } from '../../domain/rules/validate.ts';
import {
  type Policy,
  type PolicySet,
  parsePeriod,
  type Problem,
  readRulesDir,
} from '../../domain/rules/index.ts';
import type { EvaluationResult, Outcome } from '../../domain/types.ts';
import { FactWarnings } from '../fact-warnings.ts';
import {
  BadLines,
  type Command,
  CommandFailed,
  parseOptions,
  readInputFile,
  required,
  requireDir,
  requireFile,
  rulesDirOption,
  UsageError,
} from '../io.ts';
import { parseProfileLine } from './evaluate.ts';

/** A draft rule file loaded in place of the published policy of the same id. */
interface LoadedDraft {
  set: PolicySet;
  policy: Policy;
  /** The directory its parameters were read from. */
  paramsDir: string;
}

/**
 * Where a rule file's own parameters come from: the `params/` beside it when there is one (a draft
 * directory carries its own, and a new dated value is how an amount changes), else the rules
 * directory's. Its files replace those of the same name in the rules directory's `params/`.
 */
export function paramsDirFor(ruleFile: string, rulesDir: string): string {
  const beside = join(dirname(resolve(ruleFile)), 'params');
  return existsSync(beside) && statSync(beside).isDirectory() ? beside : join(rulesDir, 'params');
}

/**
 * Loads `draftFile` against the rules directory: the published parameters and policies, with the
 * draft replacing the policy of the same id (or added when new). Everything is checked by the same
 * validator as `pb rules validate`, in a scratch copy of the directory; problems of the draft are
 * named by the draft's path, problems it causes in published files by theirs.
 */
function loadDraft(
  draftFile: string,
  rulesDir: string,
  flag: string,
): LoadedDraft | { problems: string[]; hints?: string[] } {
  const text = readInputFile(flag, draftFile);
  let id: string | undefined;
  try {
    const json: unknown = JSON.parse(text);
    if (Array.isArray(json)) {
      return {
        problems: [
          `${draftFile}: $: a list of test cases, not a rule file: pass the policy's own file (--${flag} <id>.json)`,
        ],
      };
    }
    const raw = json !== null && typeof json === 'object' ? (json as Record<string, unknown>).id : undefined;
    if (typeof raw === 'string' && /^[a-z0-9]+(?:-[a-z0-9]+)*$/.test(raw)) id = raw;
  } catch (e) {
    return { problems: [`${draftFile}: $: not valid JSON: ${(e as Error).message.split('\n')[0]}`] };
  }
  // Without a usable id the validator names the problem; the file keeps its own name meanwhile (as
  // a rule file: a name ending in .test.json would be read as test cases).
  const asFile =
    id === undefined ? basename(draftFile).replace(/(\.test)?\.json$/i, '') + '.json' : `${id}.json`;
  const scratch = mkdtempSync(join(tmpdir(), 'pb-simulate-'));
  try {
    mkdirSync(join(scratch, 'params'));
    // The rules directory's parameter files, then the draft's own over them, file by file.
    const paramsDir = paramsDirFor(draftFile, rulesDir);
    const ownParams = new Set<string>();
    for (const dir of [join(rulesDir, 'params'), paramsDir]) {
      if (!existsSync(dir)) continue;
      for (const f of readdirSync(dir)) {
        if (!f.endsWith('.json')) continue;
        copyFileSync(join(dir, f), join(scratch, 'params', f));
        if (dir === paramsDir) ownParams.add(f);
      }
    }
    for (const f of readdirSync(rulesDir)) {
      if (f.endsWith('.json') && !f.endsWith('.test.json') && statSync(join(rulesDir, f)).isFile()) {
        copyFileSync(join(rulesDir, f), join(scratch, f));
      }
    }
    writeFileSync(join(scratch, asFile), text);
    const content = readRulesDir(scratch);
    if (content.problems.length) {
      const rulesLabel = dirLabel(rulesDir);
      const paramsLabel = dirLabel(paramsDir);
      const line = (p: Problem): string =>
        p.file === asFile
          ? `${draftFile}: ${p.path}: ${p.message}`
          : p.file.startsWith('params/') && ownParams.has(p.file.slice('params/'.length))
            ? `${paramsLabel}/${p.file.slice('params/'.length)}: ${p.path}: ${p.message}`
            : `${rulesLabel}/${p.file}: ${p.path}: ${p.message}`;
      const lines = content.problems.map(line);
      const hints = content.problems.some((p) => p.file === asFile && /unknown parameter/.test(p.message))
        ? [
            `${draftFile}: note: its parameters are read from ${paramsLabel}: put a params/ directory beside the draft for parameters of its own`,
          ]
        : [];
      return { problems: lines, hints };
    }
    const set: PolicySet = {
      policies: content.policies,
      params: content.params,
      contentHash: content.contentHash,
    };
    const policy = set.policies.find((p) => p.file === asFile);
    if (!policy) return { problems: [`${draftFile}: $: not a rule file`] };
    return { set, policy, paramsDir };
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
}

/** Policies whose decision rests on `id` through `eligibleFor:` (directly or not), in set order. */
function dependents(set: PolicySet, id: string): string[] {
  const reached = new Set([id]);
  let grew = true;
  while (grew) {
    grew = false;
    for (const p of set.policies) {
      if (!reached.has(p.id) && eligibleForTargets(p.conditions).some((r) => reached.has(r))) {
        reached.add(p.id);
        grew = true;
      }
    }
  }
  return set.policies.filter((p) => reached.has(p.id) && p.id !== id).map((p) => p.id);
}

/** Eligible count and total amount of one policy and period. */
interface Tally {
  eligible: number;
  amount: number;
}

const key = (policy: string, period: string): string => `${policy}\u0000${period}`;

/**
 * The table: policy, period, eligible, fen, yuan. Over several periods (the months of a year) an
 * eligible count is of subject-months (a subject eligible in three months counts three), and the
 * header says so.
 */
function tableLines(title: string, rows: Array<[string, string, Tally]>, months: boolean): string[] {
  const head = [
    'policy',
    'period',
    months ? 'eligible (subject-months)' : 'eligible',
    'amount (fen)',
    'amount (yuan)',
  ];
  const body = rows.map(([p, period, t]) => [
    p,
    period,
    String(t.eligible),
    String(t.amount),
    formatYuan(t.amount),
  ]);
  const width = head.map((h, i) => Math.max(h.length, ...body.map((r) => r[i]!.length)));
  const fmt = (cells: string[]): string =>
    cells
      .map((c, i) => (i < 2 ? c.padEnd(width[i]!) : c.padStart(width[i]!)))
      .join('  ')
      .trimEnd();
  return [title, `  ${fmt(head)}`, ...body.map((r) => `  ${fmt(r)}`)];
}

/**
 * Why no subject can be eligible in some or all of `periods` (the period asked for, or its months):
 * they lie outside the policy's effective window. Undefined when every period is inside.
 */
function windowWarning(which: string, policy: Policy, asked: string, periods: string[]): string | undefined {
  const outside = periods.filter((p) => !insideWindow(policy, p));
  if (outside.length === 0) return undefined;
  const w = policy.effective;
  const window = `${policy.id} v${policy.version} (${w.from}${w.to === undefined ? ' onwards' : ` to ${w.to}`})`;
  if (outside.length === periods.length) {
    return `${asked} is outside the effective window of ${which} ${window}: no subject can be eligible, every amount is 0`;
  }
  return `${outside.length} of the ${periods.length} months of ${asked} (${outside.join(', ')}) are outside the effective window of ${which} ${window}: no subject can be eligible in them`;
}

const plural = (n: number, word: string): string => `${n} ${word}${n === 1 ? '' : 's'}`;

const signedFen = (n: number): string =>
  `${n > 0 ? '+' : ''}${n} fen (${n > 0 ? '+' : ''}${formatYuan(n)} yuan)`;

/**
 * `pb simulate --policy <rule file> --profiles <file.jsonl> --period <P> [--baseline <rule file>]
 * [--rules <dir>]`: the impact of a draft policy before it is published. The draft replaces the
 * published policy of the same id; every profile of the policy's kind is evaluated with the compiled
 * evaluator for the period (a year period of a monthly policy means its twelve months). Prints the
 * subjects evaluated and, by policy and period, the eligible count and total amount; with a baseline
 * rule file, the same for the baseline, one JSON line per subject whose outcome or amount changes,
 * and the totals of the change. Policies that rest on the draft (`eligibleFor:`) are reported too.
 * A baseline of another id (a variant saved under an id of its own) is compared with the draft as its
 * earlier version: each change line then names the `baselinePolicy` too.
 * A draft or baseline that does not validate: one line per problem, exit 1. A missing input file or
 * rules directory is bad usage (exit 2). Warnings on stderr, output unchanged: periods outside the
 * effective window of the draft or baseline, and facts no rule reads (see `FactWarnings`).
 */
export const simulate: Command = async (args, io) => {
  const { values } = parseOptions(args, {
    policy: { type: 'string' },
    profiles: { type: 'string' },
    period: { type: 'string' },
    baseline: { type: 'string' },
    rules: { type: 'string' },
  });
  const draftFile = required(values.policy, 'policy');
  const profilesFile = required(values.profiles, 'profiles');
  const periodText = required(values.period, 'period');
  const period = parsePeriod(periodText);
  if (!period) {
    throw new UsageError(`invalid --period '${periodText}': use YYYY (e.g. 2025) or YYYY-MM (e.g. 2025-03)`);
  }
  requireFile('policy', draftFile);
  requireFile('profiles', profilesFile);
  if (values.baseline !== undefined) requireFile('baseline', values.baseline);
  const rulesDir =
    values.rules === undefined
      ? resolve(rulesDirOption(undefined, 'rules'))
      : requireDir('rules', values.rules);

  const draft = loadDraft(draftFile, rulesDir, 'policy');
  const baseline =
    values.baseline === undefined ? undefined : loadDraft(values.baseline, rulesDir, 'baseline');
  const problems = [
    ...('problems' in draft ? draft.problems : []),
    ...(baseline && 'problems' in baseline ? baseline.problems : []),
  ];
  if (problems.length) {
    // One line per problem on stderr, as `pb rules validate` prints them, then any hint.
    for (const p of problems) io.err(p);
    for (const side of [draft, baseline])
      if (side && 'hints' in side) for (const h of side.hints ?? []) io.err(h);
    throw new CommandFailed(
      `${problems.length} problem${problems.length === 1 ? '' : 's'}: nothing was simulated`,
    );
  }
  const d = draft as LoadedDraft;
  const b = baseline as LoadedDraft | undefined;
  const policy = d.policy;
  // A draft saved under an id of its own is compared with the baseline's policy as its new version;
  // policies that depend on the baseline's id keep reading the published one.
  const renamed = b !== undefined && b.policy.id !== policy.id;
  if (b && (b.policy.subjectKind !== policy.subjectKind || b.policy.periodUnit !== policy.periodUnit)) {
    throw new UsageError(
      `--baseline decides ${b.policy.subjectKind}s per ${b.policy.periodUnit}, the draft ${policy.subjectKind}s per ${policy.periodUnit}`,
    );
  }
  // A monthly policy over a year: its twelve months. A yearly policy needs a year.
  let periods: string[];
  if (policy.periodUnit === period.unit) periods = [period.text];
  else if (policy.periodUnit === 'month') {
    periods = Array.from({ length: 12 }, (_, i) => `${periodText}-${String(i + 1).padStart(2, '0')}`);
  } else throw new UsageError(`policy ${policy.id} is decided per year: give --period YYYY`);
  const windowWarnings = [
    windowWarning('the draft', policy, periodText, periods),
    b ? windowWarning('the baseline', b.policy, periodText, periods) : undefined,
  ];
  for (const w of windowWarnings) if (w) io.err(`pb simulate: warning: ${w}`);

  // Compared under two ids, the two sides are the two policies alone: what rests on either id sees
  // only that one.
  const reported = renamed ? [policy.id] : [policy.id, ...dependents(d.set, policy.id)];
  const reportedSet = new Set(reported);
  if (b && renamed) {
    const note = (left: string[], on: string, other: string) =>
      left.length &&
      io.err(
        `pb simulate: note: ${left.join(', ')} ${left.length === 1 ? 'depends' : 'depend'} on ${on}, not on ${other}: not part of this comparison`,
      );
    note(dependents(b.set, b.policy.id), b.policy.id, policy.id);
    note(dependents(d.set, policy.id), policy.id, b.policy.id);
  }
  // The baseline's side: its own ids (one policy when the draft has an id of its own).
  const baselineReported = b && renamed ? [b.policy.id] : reported;
  const baselineSet = new Set(baselineReported);
  const after = createCompiledEvaluator(d.set);
  const before = b ? createCompiledEvaluator(b.set) : undefined;
  const tallies = (ids: string[]): Map<string, Tally> =>
    new Map(ids.flatMap((p) => periods.map((per) => [key(p, per), { eligible: 0, amount: 0 }] as const)));
  const afterTally = tallies(reported);
  const beforeTally = tallies(baselineReported);
  const change = { subjects: new Set<string>(), newly: 0, noLonger: 0, amountChanged: 0, amount: 0 };
  const changes = new LineWriter((text) => io.out(text));
  const changedLines: string[] = [];
  let evaluated = 0;
  let otherKind = 0;
  let bad = 0;
  let lastShown = -1;
  const warnings = new FactWarnings();

  const add = (t: Map<string, Tally>, r: EvaluationResult): void => {
    const x = t.get(key(r.policy, r.period))!;
    if (r.outcome === 'eligible') {
      x.eligible += 1;
      x.amount += r.amount ?? 0;
    }
  };
  /** The results of the policies a side reports, in evaluation order. */
  const pick = (rs: EvaluationResult[], ids: ReadonlySet<string>): EvaluationResult[] =>
    rs.filter((r) => ids.has(r.policy));
  const opts = reported.length === 1 ? { policy: policy.id } : undefined;
  const beforeOpts = baselineReported.length === 1 ? { policy: baselineReported[0]! } : undefined;

  const parse = fastProfileParser(parseProfileLine);
  const badLines = new BadLines(io, profilesFile);
  const lines = await forEachLine(
    profilesFile,
    (text, n) => {
      if (text.trim() === '') return;
      const p = parse(text);
      if (!p.ok) {
        bad += 1;
        badLines.report(n, p.error);
        return;
      }
      if (p.kind !== policy.subjectKind) {
        otherKind += 1;
        return;
      }
      warnings.note(p.kind, p.facts, n);
      if (p.problems) warnings.malformed(p.problems, n);
      evaluated += 1;
      for (const per of periods) {
        const now = pick(after.evaluateSync(p, per, opts), reportedSet);
        for (const r of now) add(afterTally, r);
        if (!before) continue;
        const was = pick(before.evaluateSync(p, per, beforeOpts), baselineSet);
        for (const [i, r] of now.entries()) {
          const w = was[i]!;
          add(beforeTally, w);
          if (w.outcome === r.outcome && w.amount === r.amount) continue;
          change.subjects.add(p.subject);
          if (w.outcome !== 'eligible' && r.outcome === 'eligible') change.newly += 1;
          else if (w.outcome === 'eligible' && r.outcome !== 'eligible') change.noLonger += 1;
          else change.amountChanged += 1;
          change.amount += (r.amount ?? 0) - (w.amount ?? 0);
          const side = (x: EvaluationResult): { outcome: Outcome; amount: number | null } => ({
            outcome: x.outcome,
            amount: x.amount,
          });
          changedLines.push(
            JSON.stringify({
              subject: p.subject,
              policy: r.policy,
              ...(renamed ? { baselinePolicy: w.policy } : {}),
              period: r.period,
              before: side(w),
              after: side(r),
            }),
          );
        }
      }
    },
    (read, total) => {
      const pct = total === 0 ? 100 : Math.floor((read / total) * 100);
      if (pct === lastShown) return;
      lastShown = pct;
      const bar = '#'.repeat(Math.floor(pct / 5)).padEnd(20, '.');
      io.progress(`simulate [${bar}] ${pct}% ${evaluated.toLocaleString('en-US')} subjects`);
    },
  );
  io.progress('');

  // One row per policy and period; a policy over several months gets a total row as well.
  const rows = (t: Map<string, Tally>, ids: string[]): Array<[string, string, Tally]> =>
    ids.flatMap((p) => {
      const own = periods.map((per) => [p, per, t.get(key(p, per))!] as [string, string, Tally]);
      if (own.length === 1) return own;
      const sum = own.reduce(
        (s, [, , x]) => ({ eligible: s.eligible + x.eligible, amount: s.amount + x.amount }),
        {
          eligible: 0,
          amount: 0,
        },
      );
      return [...own, [p, 'total', sum] as [string, string, Tally]];
    });
  const out = (l: string): void => io.out(l);
  const shared = join(rulesDir, 'params');
  const paramsFrom = (dir: string): string =>
    dir === shared ? dirLabel(dir) : `${dirLabel(dir)} over ${dirLabel(shared)}`;
  out(
    `draft: ${draftFile} (${policy.id} v${policy.version}) against ${dirLabel(rulesDir)}, parameters from ${paramsFrom(d.paramsDir)}`,
  );
  if (b && values.baseline) {
    out(
      `baseline: ${values.baseline} (${b.policy.id} v${b.policy.version}), parameters from ${paramsFrom(b.paramsDir)}`,
    );
  }
  out(
    `subjects evaluated: ${evaluated} (${policy.subjectKind}s; ${otherKind} of the other kind skipped${bad ? `, ${bad} invalid lines` : ''}) for ${periods.length === 1 ? periods[0] : `${periods[0]}..${periods[periods.length - 1]}`}`,
  );
  const months = periods.length > 1;
  for (const l of tableLines('draft:', rows(afterTally, reported), months)) out(l);
  if (b) {
    for (const l of tableLines('baseline:', rows(beforeTally, baselineReported), months)) out(l);
    out(
      `changes (${changedLines.length}): one line per subject, policy and period whose outcome or amount changes`,
    );
    for (const l of changedLines) changes.push(l);
    changes.flush();
    out(
      `change: ${plural(change.subjects.size, 'subject')}, ${plural(changedLines.length, 'decision')} (newly eligible ${change.newly}, no longer eligible ${change.noLonger}, amount changed ${change.amountChanged}); total amount ${signedFen(change.amount)}`,
    );
  }
  for (const w of warnings.warnings('simulate')) io.err(w);
  if (bad)
    throw new CommandFailed(
      `${bad} of ${lines} input lines were not valid profiles ${badLines.seeAbove}; the others were simulated`,
    );
  return 0;
};
