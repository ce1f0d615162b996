import { once } from 'node:events';
import { createReadStream, createWriteStream } from 'node:fs';
import { createInterface } from 'node:readline';
import type { Writable } from 'node:stream';
import { loadConfig } from '../../config.ts';
import { secretPseudonymKey } from '../../runtime/pseudonym-secret.ts';
import { generateEvents } from '../../domain/events/generate.ts';
import { parseAgencyEvent } from '../../domain/events/parse.ts';
import { factUpdates, mergeFacts, toFactValues } from '../../domain/facts/merge.ts';
import { pseudonymiseEvent } from '../../domain/pseudonym.ts';
import type { StoredFacts } from '../../domain/types.ts';
import {
  type Command,
  parseOptions,
  processIo,
  required,
  requireFile,
  requireDistinctFiles,
  requireOutputFile,
  stripBom,
  UsageError,
} from '../io.ts';

const count = (value: string, flag: string): number => {
  if (!/^[0-9]{1,9}$/.test(value)) throw new UsageError(`--${flag} must be a whole number, got '${value}'`);
  return Number(value);
};

/** Subjects per stream: every identity number generated is kept once to avoid repeats (a Set). */
const MAX_SUBJECTS = 5_000_000;

/** Lines per write: few enough syscalls for millions of events, small enough to stream. */
const CHUNK_LINES = 500;

/**
 * `pb events generate --persons N --enterprises N --seed S [--out file] [--year YYYY]`: writes a
 * reproducible synthetic event stream, one event a line, to stdout or a file.
 */
export const generate: Command = async (args, io) => {
  const { values } = parseOptions(args, {
    persons: { type: 'string' },
    enterprises: { type: 'string' },
    seed: { type: 'string' },
    out: { type: 'string' },
    year: { type: 'string' },
  });
  const persons = count(required(values.persons, 'persons'), 'persons');
  const enterprises = count(required(values.enterprises, 'enterprises'), 'enterprises');
  if (persons + enterprises > MAX_SUBJECTS) {
    throw new UsageError(
      `--persons and --enterprises together must be at most ${MAX_SUBJECTS.toLocaleString('en-US')} (split larger streams by --seed)`,
    );
  }
  const seed = required(values.seed, 'seed');
  if (values.out !== undefined) requireOutputFile('out', values.out);
  const year = values.year === undefined ? 2025 : Number(values.year);
  if (!/^[0-9]{4}$/.test(values.year ?? '2025') || year < 2001 || year > 2099) {
    throw new UsageError(`--year must be a year between 2001 and 2099, got '${values.year}'`);
  }

  // A real stream when there is one (a file, or our own stdout), so backpressure is honoured;
  // otherwise (tests) the injected io.
  const sink: Writable | null =
    values.out !== undefined ? createWriteStream(values.out) : io === processIo ? process.stdout : null;
  const write = async (text: string) => {
    if (!sink) return io.out(text.slice(0, -1));
    if (!sink.write(text)) await once(sink, 'drain');
  };

  let lines = 0;
  let chunk: string[] = [];
  for (const line of generateEvents({ persons, enterprises, seed, year })) {
    chunk.push(line);
    lines++;
    if (chunk.length === CHUNK_LINES) {
      await write(`${chunk.join('\n')}\n`);
      chunk = [];
      if (lines % 50_000 === 0) io.progress(`events generate: ${lines} events`);
    }
  }
  if (chunk.length > 0) await write(`${chunk.join('\n')}\n`);
  io.progress('');
  if (values.out !== undefined && sink) {
    sink.end();
    await once(sink, 'finish');
    io.err(`wrote ${lines} events to ${values.out}`);
  }
  return 0;
};

/**
 * `pb events profiles --events <file.jsonl> [--out <file>]`: folds an agency event stream into the
 * profiles it leaves, one `{"subject", "kind", "facts"}` line per subject (the input of `pb evaluate`
 * and `pb simulate`), with the ingest function's own validation, pseudonyms and merge (latest
 * `occurredAt` wins, a repeated event changes nothing, an id seen with another body is refused).
 * Subjects are pseudonyms under the configured key; no identity number is written. Rejected lines
 * are counted on stderr, the first few with their reasons.
 */
export const profiles: Command = async (args, io) => {
  const { values } = parseOptions(args, { events: { type: 'string' }, out: { type: 'string' } });
  const file = requireFile('events', required(values.events, 'events'));
  if (values.out !== undefined) requireOutputFile('out', values.out);
  requireDistinctFiles([
    ['events', file],
    ['out', values.out],
  ]);
  const key = (await secretPseudonymKey()) ?? loadConfig().pseudonymKey();
  const subjects = new Map<string, { kind: string; facts: StoredFacts }>();
  const seen = new Map<string, string>();
  let lines = 0;
  let accepted = 0;
  const rejected: string[] = [];
  const input = createInterface({
    input: createReadStream(file, 'utf8'),
    crlfDelay: Number.POSITIVE_INFINITY,
  });
  for await (const raw of input) {
    const text = lines === 0 ? stripBom(raw) : raw;
    lines++;
    if (text.trim() === '') continue;
    const parsed = parseAgencyEvent(text, key);
    if (!parsed.ok) {
      rejected.push(`line ${lines}: ${parsed.reason}`);
      continue;
    }
    const before = seen.get(parsed.event.id);
    if (before !== undefined) {
      if (before !== parsed.bodyHash) {
        rejected.push(`line ${lines}: conflict: event id ${parsed.event.id} was seen with another body`);
      }
      continue;
    }
    seen.set(parsed.event.id, parsed.bodyHash);
    accepted++;
    const event = pseudonymiseEvent(key, parsed.event);
    const id = event.subject.id;
    const current = subjects.get(id) ?? { kind: event.subject.kind, facts: {} };
    current.facts = mergeFacts(current.facts, factUpdates(event)).facts;
    subjects.set(id, current);
    if (lines % 100_000 === 0) io.progress(`events profiles: ${lines} lines, ${subjects.size} subjects`);
  }
  io.progress('');
  const out: string[] = [];
  for (const [subject, p] of [...subjects].sort(([a], [b]) => (a < b ? -1 : 1))) {
    out.push(JSON.stringify({ subject, kind: p.kind, facts: toFactValues(p.facts) }));
  }
  if (values.out !== undefined) {
    const sink = createWriteStream(values.out);
    for (const line of out) if (!sink.write(`${line}\n`)) await once(sink, 'drain');
    sink.end();
    await once(sink, 'finish');
  } else for (const line of out) io.out(line);
  for (const r of rejected.slice(0, 5)) io.err(`pb events profiles: rejected ${r}`);
  if (rejected.length > 5) io.err(`pb events profiles: … and ${rejected.length - 5} more rejected lines`);
  io.err(
    `events: ${accepted + rejected.length}, accepted: ${accepted}, rejected: ${rejected.length}, profiles: ${subjects.size}${values.out === undefined ? '' : ` (written to ${values.out})`}`,
  );
  return 0;
};
