import { CommandFailed, type Command, type Io, processIo, UsageError } from './io.ts';
import { lockObjectPrototype } from '../domain/rules/compiled/facts.ts';

/** Command table: words that name a command, and the module that runs it (loaded on demand). */
const COMMANDS: Array<[string[], () => Promise<Command>, string]> = [
  [
    ['rules', 'validate'],
    async () => (await import('./commands/rules.ts')).validate,
    'check every rule file',
  ],
  [['rules', 'test'], async () => (await import('./commands/rules.ts')).test, 'run the rule test cases'],
  [
    ['rules', 'publish'],
    async () => (await import('./commands/publish.ts')).publish,
    'publish rules and backfill changes',
  ],
  [['evaluate'], async () => (await import('./commands/evaluate.ts')).evaluate, 'evaluate profiles (pure)'],
  [['simulate'], async () => (await import('./commands/simulate.ts')).simulate, 'impact of a draft policy'],
  [
    ['replay'],
    async () => (await import('./commands/replay.ts')).replay,
    'run an event file through the local pipeline',
  ],
  [['tick'], async () => (await import('./commands/tick.ts')).tick, 'open the periods at a given time'],
  [
    ['pseudonym'],
    async () => (await import('./commands/pseudonym.ts')).pseudonym,
    'print pseudonyms of identifiers',
  ],
  [
    ['audit', 'verify'],
    async () => (await import('./commands/audit.ts')).verify,
    'verify the decision ledger',
  ],
  [
    ['quarantine', 'list'],
    async () => (await import('./commands/quarantine.ts')).list,
    'list rejected events',
  ],
  [
    ['quarantine', 'replay'],
    async () => (await import('./commands/quarantine.ts')).replay,
    'replay rejected events',
  ],
  [
    ['quarantine', 'redrive'],
    async () => (await import('./commands/quarantine.ts')).redrive,
    'move dead-lettered messages back',
  ],
  [
    ['events', 'generate'],
    async () => (await import('./commands/events.ts')).generate,
    'write a synthetic event stream',
  ],
];

function usage(): string {
  return [
    'usage: pb <command> [options]',
    ...COMMANDS.map(([w, , d]) => `  pb ${w.join(' ').padEnd(18)} ${d}`),
  ].join('\n');
}

/**
 * Commands that evaluate whole populations in this process: run from the `pb` executable they lock
 * `Object.prototype` first (see `lockObjectPrototype`), which hardens the process against prototype
 * pollution and lets the compiled evaluator skip its own-property checks.
 */
const POPULATION_COMMANDS = new Set(['evaluate', 'simulate']);

export interface MainOptions {
  /** Lock `Object.prototype` before a population command runs (the `pb` executable does). */
  lockPrototype?: boolean;
}

/** Runs the `pb` command; returns the exit code (0 ok, 1 failed, 2 bad usage). */
export async function main(argv: string[], io: Io = processIo, opts: MainOptions = {}): Promise<number> {
  if (argv.length === 0 || argv[0] === '--help' || argv[0] === '-h') {
    io.out(usage());
    return argv.length === 0 ? 2 : 0;
  }
  const found = COMMANDS.find(([words]) => words.every((w, i) => argv[i] === w));
  if (!found) {
    io.err(`pb: unknown command '${argv.slice(0, 2).join(' ')}' (run 'pb --help' for the list)`);
    return 2;
  }
  const [words, load] = found;
  try {
    const command = await load();
    if (opts.lockPrototype && POPULATION_COMMANDS.has(words.join(' '))) lockObjectPrototype();
    return await command(argv.slice(words.length), io);
  } catch (e) {
    if (e instanceof UsageError) {
      io.err(`pb ${words.join(' ')}: ${e.message}`);
      return 2;
    }
    if (e instanceof CommandFailed) {
      io.err(`pb ${words.join(' ')}: ${e.message}`);
      return 1;
    }
    const err = e as Error;
    io.err(`pb ${words.join(' ')}: ${err.message ?? String(e)}`);
    if (process.env.PB_DEBUG) io.err(err.stack ?? '');
    return 1;
  }
}
