import { accessSync, constants, existsSync, readFileSync, realpathSync, statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
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

let pipesWatched = false;

/**
 * Ends the process quietly when the reader of stdout or stderr goes away (`pb evaluate … | head -1`):
 * EPIPE exits with the exit code set so far (0 when none), without the stack trace of an unhandled
 * 'error' event. Any other write error on them is one line on stderr and exit 1. Installed once.
 */
export function exitQuietlyOnClosedPipes(): void {
  if (pipesWatched) return;
  pipesWatched = true;
  const onError = (stream: string) => (e: NodeJS.ErrnoException) => {
    if (e.code === 'EPIPE') process.exit(typeof process.exitCode === 'number' ? process.exitCode : 0);
    try {
      process.stderr.write(`pb: cannot write to ${stream}: ${e.message}\n`);
    } finally {
      process.exit(1);
    }
  };
  process.stdout.on('error', onError('stdout'));
  process.stderr.on('error', onError('stderr'));
}

/** A usage error: the command exits 2 with this one line. */
export class UsageError extends Error {}

/** A failure of what the command checked or ran: exits 1 with this one line. */
export class CommandFailed extends Error {}

/**
 * Parses options strictly, turning node's errors into one-line usage errors. A single-valued
 * option (a string option without `multiple`) given twice is a usage error too, not last-wins.
 */
export function parseOptions<T extends NonNullable<ParseArgsConfig['options']>>(
  args: string[],
  options: T,
  allowPositionals = false,
) {
  const parsed = (() => {
    try {
      return parseArgs({ args, options, allowPositionals, strict: true, tokens: true });
    } catch (e) {
      const message = (e as Error).message;
      // `--profiles --period 2025`: the value of --profiles is missing, not "ambiguous".
      const ambiguous = /^Option '(-[^' ]+)' argument is ambiguous/.exec(message);
      if (ambiguous) {
        throw new UsageError(
          `option ${ambiguous[1]} needs a value (a value starting with a dash is given as ${ambiguous[1]}=-…)`,
        );
      }
      throw new UsageError(message.split('\n')[0]);
    }
  })();
  const seen = new Set<string>();
  for (const t of parsed.tokens) {
    if (t.kind !== 'option') continue;
    const o = options[t.name];
    if (o?.type !== 'string' || o.multiple) continue;
    if (seen.has(t.name)) throw new UsageError(`option --${t.name} given more than once: give it once`);
    seen.add(t.name);
  }
  return parsed;
}

/** Requires an option to be present. */
export function required<T>(value: T | undefined, flag: string): T {
  if (value === undefined || value === '') throw new UsageError(`missing required option --${flag}`);
  return value;
}

/** Why `path` cannot be stat'ed or read, in a few words. */
function accessProblem(e: unknown, missing: string): string {
  const code = (e as NodeJS.ErrnoException).code;
  if (code === 'ENOENT' || code === 'ENOTDIR') return missing;
  if (code === 'EACCES' || code === 'EPERM') return 'permission denied';
  return `cannot be read (${code ?? (e as Error).message})`;
}

/**
 * Checks that the path given with `--<flag>` is a readable file (anything but a directory, so
 * `/dev/stdin` works too); else a usage error naming the option and the path, e.g.
 * `--profiles /x/y.jsonl: no such file`. Returns the path.
 */
export function requireFile(flag: string, path: string): string {
  try {
    if (statSync(path).isDirectory()) throw new UsageError(`--${flag} ${path}: is a directory, not a file`);
    accessSync(path, constants.R_OK);
  } catch (e) {
    if (e instanceof UsageError) throw e;
    throw new UsageError(`--${flag} ${path}: ${accessProblem(e, 'no such file')}`);
  }
  return path;
}

/** A UTF-8 byte order mark at the start of a text, removed. */
export const stripBom = (text: string): string => (text.charCodeAt(0) === 0xfeff ? text.slice(1) : text);

/**
 * The text of the file given with `--<flag>` (UTF-8, a leading byte order mark removed), after the
 * checks of `requireFile`: a missing file or a directory is a usage error (exit 2).
 */
export function readInputFile(flag: string, path: string): string {
  requireFile(flag, path);
  try {
    return stripBom(readFileSync(path, 'utf8'));
  } catch (e) {
    throw new UsageError(`--${flag} ${path}: ${accessProblem(e, 'no such file')}`);
  }
}

/**
 * Checks that the path given with `--<flag>` is a readable directory; else a usage error, e.g.
 * `--dir /x: no such directory` or `--dir rules.json: is a file, not a directory`. Returns the path.
 */
export function requireDir(flag: string, path: string): string {
  try {
    if (!statSync(path).isDirectory()) throw new UsageError(`--${flag} ${path}: is a file, not a directory`);
    accessSync(path, constants.R_OK | constants.X_OK);
  } catch (e) {
    if (e instanceof UsageError) throw e;
    throw new UsageError(`--${flag} ${path}: ${accessProblem(e, 'no such directory')}`);
  }
  return path;
}

/**
 * The rules directory a command reads: its option (`--dir` or `--rules`), else `$PB_RULES_DIR` (as `src/config.ts` and the
 * other commands read it), else `rules`. One that is missing or not a directory is bad usage, named
 * by where it came from.
 */
export function rulesDirOption(
  dir: string | undefined,
  flag: 'dir' | 'rules' | null = 'dir',
  env: NodeJS.ProcessEnv = process.env,
): string {
  if (dir !== undefined) return requireDir(flag ?? 'dir', dir);
  const fromEnv = env.PB_RULES_DIR;
  const [path, source] =
    fromEnv !== undefined && fromEnv !== ''
      ? [fromEnv, 'PB_RULES_DIR']
      : ['rules', 'default rules directory'];
  try {
    return requireDir(flag ?? 'dir', path);
  } catch (e) {
    if (!(e instanceof UsageError)) throw e;
    const why = e.message.slice(`--${flag ?? 'dir'} ${path}: `.length);
    // A command without a rules option (replay, tick) reads the directory the engine reads.
    const hint =
      flag === null
        ? source === 'PB_RULES_DIR'
          ? 'set PB_RULES_DIR to the rules directory'
          : 'run pb from the repository root, or set PB_RULES_DIR'
        : `give --${flag} <dir>${source === 'PB_RULES_DIR' ? '' : ' or set PB_RULES_DIR'}`;
    throw new UsageError(`${source} ${path}: ${why} (${hint})`);
  }
}

/** A whole-number option within [min, max] (digits only: no `1e1`, `0x10` or `4.0`); else exit 2. */
export function wholeNumber(
  flag: string,
  value: string | undefined,
  fallback: number,
  min: number,
  max: number,
): number {
  if (value === undefined) return fallback;
  const n = /^\d{1,9}$/.test(value) ? Number(value) : Number.NaN;
  if (!(n >= min && n <= max)) throw new UsageError(`--${flag} must be a whole number from ${min} to ${max}`);
  return n;
}

/** An output file option: its directory must exist and be writable, and it must not be a directory. */
export function requireOutputFile(flag: string, path: string): string {
  const dir = dirname(resolve(path));
  try {
    if (!statSync(dir).isDirectory()) throw new Error('not a directory');
    accessSync(dir, constants.W_OK);
  } catch {
    throw new UsageError(`--${flag} ${path}: directory ${dir} does not exist or is not writable`);
  }
  if (existsSync(path) && statSync(path).isDirectory())
    throw new UsageError(`--${flag} ${path}: is a directory, not a file`);
  return path;
}

/**
 * Refuses two options naming the same file (`--out` over `--events`, `--out` and `--rejected` one
 * file): one would silently overwrite the other. Options not given are skipped.
 */
export function requireDistinctFiles(files: Array<[flag: string, path: string | undefined]>): void {
  const seen = new Map<string, string>();
  for (const [flag, path] of files) {
    if (path === undefined) continue;
    let real = resolve(path);
    try {
      real = realpathSync(real);
    } catch {
      // not there yet: its resolved name is its name
    }
    const other = seen.get(real);
    if (other !== undefined) {
      throw new UsageError(`--${other} and --${flag} name the same file (${path}): give each its own`);
    }
    seen.set(real, flag);
  }
}

/** A command: arguments after its name in, exit code out. */
export type Command = (args: string[], io: Io) => Promise<number>;

/**
 * Names the input lines a command cannot read (`<file>:<n>: <error>` on stderr): the first `limit`
 * of them, then only counts, so a wrong input file (an event stream given as profiles) gives a
 * screenful, not one line per line of the file.
 */
export class BadLines {
  count = 0;
  constructor(
    private readonly io: Io,
    private readonly file: string,
    private readonly limit = 20,
  ) {}

  report(n: number, error: string): void {
    this.count += 1;
    if (this.count <= this.limit) this.io.err(`${this.file}:${n}: ${error}`);
    else if (this.count === this.limit + 1)
      this.io.err(`${this.file}: more lines that cannot be read follow: only counted from here on`);
  }

  /** `(see above)`, or how many of them are named above. */
  get seeAbove(): string {
    return this.count <= this.limit ? '(see above)' : `(the first ${this.limit} are named above)`;
  }
}
