/**
 * Bulk I/O for the compiled evaluator: JSON-lines files read in large chunks and split
 * synchronously (no promise per line, unlike `readline`'s async iterator), results written in large
 * chunks. A population run then spends its time parsing and evaluating, not awaiting.
 */
import { createReadStream, statSync } from 'node:fs';
import { FACTS } from '../../facts/catalogue.ts';
import type { EvaluationResult, FactValues, SubjectKind } from '../../types.ts';
import type { Evaluation } from '../evaluation.ts';
import { compileTypeCheck, type TypeCheck } from './facts.ts';
import type { CompiledEvaluator } from './index.ts';

/** How many bytes are read at once. */
const CHUNK_BYTES = 1 << 20;
/** How many characters of output are gathered before one write. */
const OUT_CHARS = 1 << 20;

/**
 * Calls `onLine(text, n)` for every line of a UTF-8 file, numbered from 1, split exactly as
 * `readline` does with `crlfDelay: Infinity` (`\n`, `\r\n` and a lone `\r` end a line; a last line
 * without a line end still counts; no empty line after a final line end). A UTF-8 byte order mark
 * at the start of the file is not part of the first line. `onChunk` reports the bytes read so far
 * and the file size, for progress. Resolves to the number of lines.
 */
export async function forEachLine(
  file: string,
  onLine: (text: string, n: number) => void,
  onChunk?: (bytesRead: number, totalBytes: number) => void,
): Promise<number> {
  const total = statSync(file).size;
  const stream = createReadStream(file, { encoding: 'utf8', highWaterMark: CHUNK_BYTES });
  let carry = '';
  let n = 0;
  let first = true;
  for await (const chunk of stream as AsyncIterable<string>) {
    let text = carry + chunk;
    if (first) {
      first = false;
      if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
    }
    // A `\r` at the end of a chunk may be the first half of `\r\n`: decide with the next chunk.
    let held = '';
    if (text.endsWith('\r')) {
      text = text.slice(0, -1);
      held = '\r';
    }
    const parts = text.includes('\r') ? text.split(/\r\n|\n|\r/) : text.split('\n');
    const last = parts.length - 1;
    for (let i = 0; i < last; i++) onLine(parts[i]!, ++n);
    carry = parts[last]! + held;
    onChunk?.(stream.bytesRead, total);
  }
  // A final lone `\r` ends a line (even an empty one); otherwise only a non-empty rest is a line.
  if (carry.endsWith('\r')) onLine(carry.slice(0, -1), ++n);
  else if (carry !== '') onLine(carry, ++n);
  return n;
}

/**
 * Gathers output lines and hands them to `write` as one text (lines joined by `\n`, without the
 * last line end, as `Io.out` expects) once about a megabyte has accumulated, and on `flush`.
 */
export class LineWriter {
  private lines: string[] = [];
  private chars = 0;

  constructor(private readonly write: (text: string) => void) {}

  /** Adds one line. */
  push(line: string): void {
    this.lines.push(line);
    this.chars += line.length + 1;
    if (this.chars >= OUT_CHARS) this.flush();
  }

  /** Writes what is gathered. */
  flush(): void {
    if (this.lines.length === 0) return;
    const text = this.lines.join('\n');
    this.lines = [];
    this.chars = 0;
    this.write(text);
  }
}

/** A parsed input line of `pb evaluate`, or why it is not a profile. */
/**
 * A profile line parsed: the profile (with `problems`, one message per malformed fact value, each
 * of which every evaluator reads as an unknown fact), or why the line is no profile at all.
 */
export type ParsedProfile =
  | { ok: true; subject: string; kind: SubjectKind; facts: FactValues; problems?: string[] }
  | { ok: false; error: string };

interface FactCheck {
  perYear: boolean;
  check: TypeCheck;
}

/** Catalogue facts by subject kind, with their compiled type checks. */
const CHECKS: Record<SubjectKind, Map<string, FactCheck>> = { person: new Map(), enterprise: new Map() };
for (const d of FACTS)
  CHECKS[d.subjectKind].set(d.name, { perYear: d.perYear, check: compileTypeCheck(d.type) });

const isYear = (y: string): boolean => {
  if (y.length !== 4) return false;
  for (let i = 0; i < 4; i++) {
    const c = y.charCodeAt(i);
    if (c < 48 || c > 57) return false;
  }
  return true;
};

/** True when `checkFactValues(kind, facts)` finds no problem, without building any message. */
function factsValid(kind: SubjectKind, facts: Record<string, unknown>): boolean {
  const checks = CHECKS[kind];
  for (const name of Object.keys(facts)) {
    const c = checks.get(name);
    const raw = facts[name];
    if (c === undefined || raw === null) continue;
    if (!c.perYear) {
      if (!c.check(raw)) return false;
      continue;
    }
    if (typeof raw !== 'object' || Array.isArray(raw)) return false;
    for (const y of Object.keys(raw as object)) {
      if (!isYear(y)) return false;
      const v = (raw as Record<string, unknown>)[y];
      if (v !== null && !c.check(v)) return false;
    }
  }
  return true;
}

/**
 * A faster `parseProfileLine` with the same results: a line that is a valid profile is accepted
 * after one `JSON.parse` and the compiled type checks; anything else goes to `slow` (the evaluate
 * command's own parser), so every error message stays exactly its own.
 *
 * @param slow - The exact parser, e.g. `parseProfileLine` of `src/cli/commands/evaluate.ts`.
 */
export function fastProfileParser(slow: (text: string) => ParsedProfile): (text: string) => ParsedProfile {
  return (text) => {
    let v: unknown;
    try {
      v = JSON.parse(text);
    } catch {
      return slow(text);
    }
    if (v === null || typeof v !== 'object' || Array.isArray(v)) return slow(text);
    const o = v as Record<string, unknown>;
    const keys = Object.keys(o);
    for (const k of keys) if (k !== 'subject' && k !== 'kind' && k !== 'facts') return slow(text);
    const { subject, kind, facts } = o;
    if (typeof subject !== 'string' || subject === '') return slow(text);
    if (kind !== 'person' && kind !== 'enterprise') return slow(text);
    if (facts === null || typeof facts !== 'object' || Array.isArray(facts)) return slow(text);
    if (!factsValid(kind, facts as Record<string, unknown>)) return slow(text);
    return { ok: true, subject, kind, facts: facts as FactValues };
  };
}

/** What `streamEvaluate` needs from its caller (the CLI keeps the formats and messages). */
export interface StreamEvaluateOptions {
  evaluator: CompiledEvaluator;
  /** The `--profiles` file: one profile a line. */
  file: string;
  period: string;
  /** Only this policy. */
  policy?: string;
  /** Whole Evaluations (with explanation) instead of the result lines. */
  explain?: boolean;
  /** Parses one non-empty line, numbered from 1 (e.g. `parseProfileLine` of the evaluate command). */
  parse: (text: string, n: number) => ParsedProfile;
  /** Formats one result line (e.g. `evaluationLine`). Gets an `Evaluation` when `explain` is set. */
  format: (e: EvaluationResult | Evaluation) => string;
  /** Receives many output lines at once, joined by `\n`, without the final line end (`Io.out`). */
  out: (text: string) => void;
  /** Called for each line that is not a valid profile. */
  badLine: (n: number, error: string) => void;
  progress?: (bytesRead: number, totalBytes: number) => void;
}

/** Counts of one streamed run. */
export interface StreamEvaluateReport {
  /** Lines read, empty ones included (as `readline` numbers them). */
  lines: number;
  /** Lines that were not valid profiles. */
  bad: number;
  /** Profiles evaluated. */
  subjects: number;
}

/**
 * The compiled path of `pb evaluate`: every line parsed and evaluated synchronously as it is split
 * off its chunk, output gathered into large writes. Blank lines are skipped; a bad line is reported
 * and skipped. The output is the same, line for line, as evaluating each profile with `evaluate`.
 */
export async function streamEvaluate(o: StreamEvaluateOptions): Promise<StreamEvaluateReport> {
  const writer = new LineWriter(o.out);
  const opts = o.policy === undefined ? undefined : { policy: o.policy };
  let bad = 0;
  let subjects = 0;
  const lines = await forEachLine(
    o.file,
    (text, n) => {
      if (text.trim() === '') return;
      const p = o.parse(text, n);
      if (!p.ok) {
        bad += 1;
        o.badLine(n, p.error);
        return;
      }
      subjects += 1;
      const results = o.explain
        ? o.evaluator.evaluateFullSync(p, o.period, opts)
        : o.evaluator.evaluateSync(p, o.period, opts);
      for (const r of results) writer.push(o.format(r));
    },
    o.progress,
  );
  writer.flush();
  return { lines, bad, subjects };
}
