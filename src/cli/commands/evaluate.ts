import { resolve } from 'node:path';
import { createReadStream } from 'node:fs';
import { createInterface } from 'node:readline';
import { checkFactValues } from '../../domain/facts/catalogue.ts';
import {
  createReferenceEvaluator,
  type Evaluation,
  type Evaluator,
  parsePeriod,
  type PolicySet,
} from '../../domain/rules/index.ts';
import { type CompiledEvaluator, createCompiledEvaluator } from '../../domain/rules/compiled/index.ts';
import { fastProfileParser, type ParsedProfile, streamEvaluate } from '../../domain/rules/compiled/stream.ts';
import { loadRules } from '../engine-rules.ts';
import { FactWarnings } from '../fact-warnings.ts';
import {
  BadLines,
  type Command,
  CommandFailed,
  parseOptions,
  required,
  requireDir,
  requireFile,
  rulesDirOption,
  stripBom,
  UsageError,
} from '../io.ts';

/** Evaluators `--engine` can pick. The compiled one plugs in here behind the same `Evaluator` port. */
const ENGINES: Record<string, (set: PolicySet) => Evaluator> = {
  reference: createReferenceEvaluator,
  compiled: createCompiledEvaluator,
};

/** One output line, keys in the order cli.md fixes. */
export function evaluationLine(e: Evaluation, explain = false): string {
  const line: Record<string, unknown> = {
    subject: e.subject,
    policy: e.policy,
    period: e.period,
    outcome: e.outcome,
    amount: e.amount,
    reasons: e.reasons,
  };
  if (explain) line.explanation = e.explanation;
  return JSON.stringify(line);
}

/**
 * Why an input line is not a profile `{"subject","kind","facts"}`, or the profile. A fact whose
 * value does not fit the catalogue (a level 5, a date that is no date) does not refuse the line:
 * it is named in `problems` and read as unknown, as every evaluator reads it.
 */
export function parseProfileLine(text: string): ParsedProfile {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch (e) {
    return { ok: false, error: `not valid JSON (${(e as Error).message.split('\n')[0]})` };
  }
  if (v === null || typeof v !== 'object' || Array.isArray(v))
    return { ok: false, error: 'must be a JSON object {"subject", "kind", "facts"}' };
  const o = v as Record<string, unknown>;
  if (typeof o.type === 'string' && Object.hasOwn(o, 'id') && Object.hasOwn(o, 'data')) {
    return {
      ok: false,
      error:
        'an agency event, not a profile: fold the event stream into profiles first (pb events profiles --events <file>)',
    };
  }
  const extra = Object.keys(o).filter((k) => !['subject', 'kind', 'facts'].includes(k));
  if (extra.length) return { ok: false, error: `unknown key ${extra.map((k) => `"${k}"`).join(', ')}` };
  if (typeof o.subject !== 'string' || o.subject === '')
    return { ok: false, error: '"subject" must be a non-empty string' };
  if (o.kind !== 'person' && o.kind !== 'enterprise')
    return { ok: false, error: '"kind" must be "person" or "enterprise"' };
  if (o.facts === null || typeof o.facts !== 'object' || Array.isArray(o.facts))
    return { ok: false, error: '"facts" must be an object' };
  const facts = o.facts as Record<string, unknown>;
  const problems = checkFactValues(o.kind, facts);
  if (problems.length) return { ok: true, subject: o.subject, kind: o.kind, facts, problems };
  return { ok: true, subject: o.subject, kind: o.kind, facts };
}

/**
 * `pb evaluate --profiles <file.jsonl> --period <P> [--policy <id>] [--engine reference|compiled] [--explain]`:
 * one JSON line per (subject, policy). A line that is no profile is reported on stderr with its
 * number and skipped; the command then exits 1 after processing the rest. A fact value that does
 * not fit the catalogue is named on stderr and read as unknown (never granting), as the evaluators
 * read it; the line is evaluated and the exit code stays 0. Facts no rule can read (unknown
 * names, facts of the other subject kind) are warned about on stderr at the end, without changing
 * the output or the exit code. A missing `--profiles` file or `--rules` directory is bad usage.
 */
export const evaluate: Command = async (args, io) => {
  const { values } = parseOptions(args, {
    profiles: { type: 'string' },
    period: { type: 'string' },
    policy: { type: 'string' },
    engine: { type: 'string', default: 'reference' },
    explain: { type: 'boolean', default: false },
    rules: { type: 'string' },
  });
  const file = required(values.profiles, 'profiles');
  const periodText = required(values.period, 'period');
  const period = parsePeriod(periodText);
  if (!period)
    throw new UsageError(`invalid --period '${periodText}': use YYYY (e.g. 2025) or YYYY-MM (e.g. 2025-03)`);
  const engineName = values.engine ?? 'reference';
  const make = ENGINES[engineName];
  if (!make) throw new UsageError(`unknown --engine '${engineName}' (reference or compiled)`);

  const rulesDir =
    values.rules === undefined
      ? resolve(rulesDirOption(undefined, 'rules'))
      : requireDir('rules', values.rules);
  const set = loadRules(rulesDir);
  if (values.policy !== undefined) {
    const p = set.policies.find((x) => x.id === values.policy);
    if (!p)
      throw new UsageError(
        `unknown --policy '${values.policy}' (known: ${set.policies.map((x) => x.id).join(', ')})`,
      );
    if (p.periodUnit !== period.unit) {
      throw new UsageError(
        `policy ${p.id} is decided per ${p.periodUnit}: give --period ${p.periodUnit === 'year' ? 'YYYY' : 'YYYY-MM'}`,
      );
    }
  }
  const evaluator = make(set);
  requireFile('profiles', file);
  const warnings = new FactWarnings();
  const warn = (): void => {
    for (const w of warnings.warnings('evaluate')) io.err(w);
  };

  const badLines = new BadLines(io, file);
  if (engineName === 'compiled') {
    // The compiled path streams: synchronous evaluation per line, output in large writes.
    const fast = fastProfileParser(parseProfileLine);
    const r = await streamEvaluate({
      evaluator: evaluator as CompiledEvaluator,
      file,
      period: periodText,
      ...(values.policy !== undefined ? { policy: values.policy } : {}),
      explain: Boolean(values.explain),
      parse: (text, n) => {
        const p = fast(text);
        if (p.ok) {
          warnings.note(p.kind, p.facts, n);
          if (p.problems) warnings.malformed(p.problems, n);
        }
        return p;
      },
      format: values.explain ? (e) => evaluationLine(e as Evaluation, true) : (e) => JSON.stringify(e),
      out: io.out,
      badLine: (n, error) => badLines.report(n, error),
    });
    warn();
    if (r.bad)
      throw new CommandFailed(
        `${r.bad} of ${r.lines} input lines were not valid profiles ${badLines.seeAbove}; the others were evaluated`,
      );
    return 0;
  }
  const lines = createInterface({
    input: createReadStream(file, 'utf8'),
    crlfDelay: Number.POSITIVE_INFINITY,
  });
  let n = 0;
  let bad = 0;
  for await (const line of lines) {
    n += 1;
    const raw = n === 1 ? stripBom(line) : line;
    if (raw.trim() === '') continue;
    const parsed = parseProfileLine(raw);
    if (!parsed.ok) {
      bad += 1;
      badLines.report(n, parsed.error);
      continue;
    }
    warnings.note(parsed.kind, parsed.facts, n);
    if (parsed.problems) warnings.malformed(parsed.problems, n);
    const opts = values.policy !== undefined ? { policy: values.policy } : {};
    for (const e of await evaluator.evaluate(parsed, periodText, opts))
      io.out(evaluationLine(e, values.explain));
  }
  warn();
  if (bad)
    throw new CommandFailed(
      `${bad} of ${n} input lines were not valid profiles ${badLines.seeAbove}; the others were evaluated`,
    );
  return 0;
};
