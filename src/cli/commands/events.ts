import { once } from 'node:events';
import { createWriteStream } from 'node:fs';
import type { Writable } from 'node:stream';
import { generateEvents } from '../../domain/events/generate.ts';
import { type Command, parseOptions, processIo, required, requireOutputFile, UsageError } from '../io.ts';

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
