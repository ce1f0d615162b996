import { parseArgs, type ParseArgsConfig } from 'node:util';

/** Streams a command writes to; tests pass their own. */
export interface Io {
  out: (line: string) => void;
  err: (line: string) => void;
  /** Progress on long work (stderr, overwritten in a terminal). */
  progress: (text: string) => void;
}

export const processIo: Io = {
  out: (line) => process.stdout.write(`${line}\n`),
  err: (line) => process.stderr.write(`${line}\n`),
  progress: (text) => {
    if (process.stderr.isTTY) process.stderr.write(`\r${text}\x1b[K`);
  },
};

/** A usage error: the command exits 2 with this one line. */
export class UsageError extends Error {}

/** A failure of what the command checked or ran: exits 1 with this one line. */
export class CommandFailed extends Error {}

/** Parses options strictly, turning node's errors into one-line usage errors. */
export function parseOptions<T extends NonNullable<ParseArgsConfig['options']>>(
  args: string[],
  options: T,
  allowPositionals = false,
) {
  try {
    return parseArgs({ args, options, allowPositionals, strict: true });
  } catch (e) {
    throw new UsageError((e as Error).message.split('\n')[0]);
  }
}

/** Requires an option to be present. */
export function required<T>(value: T | undefined, flag: string): T {
  if (value === undefined || value === '') throw new UsageError(`missing required option --${flag}`);
  return value;
}

/** A command: arguments after its name in, exit code out. */
export type Command = (args: string[], io: Io) => Promise<number>;
