import {
  CommandFailed,
  type Command,
  exitQuietlyOnClosedPipes,
  type Io,
  processIo,
  UsageError,
} from './io.ts';
import { lockObjectPrototype } from '../domain/rules/compiled/facts.ts';

/** One command of the table: its words, its module (loaded on demand) and its help. */
interface CommandEntry {
  words: string[];
  load: () => Promise<Command>;
  /** One line: what the command does. */
  summary: string;
  /** The arguments after the command words, as `pb help <command>` shows them. */
  synopsis: string;
  /** Every option the command's `parseOptions` accepts: its form and a one-line description. */
  options: Array<[string, string]>;
}

const RULES_DIR: [string, string] = ['--rules <dir>', 'rules directory (default: $PB_RULES_DIR, else rules)'];
const ISO_NOW = 'ISO 8601 date-time with offset, e.g. 2026-03-01T09:00:00+08:00';

/**
 * The command table, the one source of the command list, `pb --help` and `pb help <command>`.
 * The options of each entry are those of the command's `parseOptions` call (a unit test compares).
 */
const COMMANDS: CommandEntry[] = [
  {
    words: ['rules', 'validate'],
    load: async () => (await import('./commands/rules.ts')).validate,
    summary: 'check every rule file',
    synopsis: '[--dir <dir>]',
    options: [['--dir <dir>', 'rules directory (default: $PB_RULES_DIR, else rules)']],
  },
  {
    words: ['rules', 'test'],
    load: async () => (await import('./commands/rules.ts')).test,
    summary: 'run the rule test cases',
    synopsis: '[--dir <dir>]',
    options: [['--dir <dir>', 'rules directory (default: $PB_RULES_DIR, else rules)']],
  },
  {
    words: ['rules', 'publish'],
    load: async () => (await import('./commands/publish.ts')).publish,
    summary: 'publish rules and backfill changes',
    synopsis: '[--dir <dir>] [--now <ISO date-time>] [--segments <N>] [--withdraw]',
    options: [
      ['--dir <dir>', 'rules directory (default: $PB_RULES_DIR, else rules)'],
      ['--now <ISO date-time>', `the engine's clock for the backfill (${ISO_NOW})`],
      ['--segments <N>', 'backfill segments per policy, 1 to 64 (default 4)'],
      [
        '--withdraw',
        'withdraw the published policies that have no rule file in the directory (refused without it)',
      ],
    ],
  },
  {
    words: ['evaluate'],
    load: async () => (await import('./commands/evaluate.ts')).evaluate,
    summary: 'evaluate profiles (pure)',
    synopsis:
      '--profiles <file.jsonl> --period <P> [--policy <id>] [--engine reference|compiled] [--explain] [--rules <dir>]',
    options: [
      ['--profiles <file.jsonl>', 'profiles, one {"subject","kind","facts"} a line (required)'],
      ['--period <P>', 'YYYY for the year-unit policies, YYYY-MM for the month-unit ones (required)'],
      ['--policy <id>', 'only this policy'],
      ['--engine reference|compiled', 'the evaluator (default reference); both give identical output'],
      ['--explain', "add each decision's explanation"],
      RULES_DIR,
    ],
  },
  {
    words: ['simulate'],
    load: async () => (await import('./commands/simulate.ts')).simulate,
    summary: 'impact of a draft policy',
    synopsis:
      '--policy <rule file> --profiles <file.jsonl> --period <P> [--baseline <rule file>] [--rules <dir>]',
    options: [
      ['--policy <rule file>', 'the draft rule file (required)'],
      ['--profiles <file.jsonl>', 'profiles, one {"subject","kind","facts"} a line (required)'],
      ['--period <P>', 'YYYY or YYYY-MM; a year of a month-unit policy means its twelve months (required)'],
      ['--baseline <rule file>', 'rule file to compare with: prints every subject whose outcome changes'],
      RULES_DIR,
    ],
  },
  {
    words: ['replay'],
    load: async () => (await import('./commands/replay.ts')).replay,
    summary: 'run an event file through the local pipeline',
    synopsis:
      '--events <file.jsonl> --now <ISO date-time> [--out <decisions.jsonl>] [--rejected <file.jsonl>] [--concurrency <N>]',
    options: [
      ['--events <file.jsonl>', 'agency events, one a line (required)'],
      ['--now <ISO date-time>', `the engine's clock (required; ${ISO_NOW})`],
      ['--out <decisions.jsonl>', 'write the decisions there instead of stdout'],
      ['--rejected <file.jsonl>', 'write the rejected events there instead of stderr'],
      ['--concurrency <N>', 'messages processed at once, 1 to 32 (default 2)'],
    ],
  },
  {
    words: ['tick'],
    load: async () => (await import('./commands/tick.ts')).tick,
    summary: 'open the periods at a given time',
    synopsis: '--now <ISO date-time> [--segments <N>]',
    options: [
      ['--now <ISO date-time>', `open the periods containing this time (required; ${ISO_NOW})`],
      ['--segments <N>', 'backfill segments, 1 to 64 (default 4)'],
    ],
  },
  {
    words: ['pseudonym'],
    load: async () => (await import('./commands/pseudonym.ts')).pseudonym,
    summary: 'print pseudonyms of identifiers',
    synopsis: '[--] [ID …]',
    options: [['--', 'ends the options: every argument after it is an identifier']],
  },
  {
    words: ['audit', 'verify'],
    load: async () => (await import('./commands/audit.ts')).verify,
    summary: 'verify the decision ledger',
    synopsis: '',
    options: [],
  },
  {
    words: ['audit', 'digest'],
    load: async () => (await import('./commands/audit.ts')).digest,
    summary: 'anchor every chain head now (a digest verify checks later)',
    synopsis: '',
    options: [],
  },
  {
    words: ['quarantine', 'list'],
    load: async () => (await import('./commands/quarantine.ts')).list,
    summary: 'list rejected events',
    synopsis: '[--all] [--json]',
    options: [
      ['--all', 'every rejected event, not only the open ones'],
      ['--json', 'one JSON object a line'],
    ],
  },
  {
    words: ['quarantine', 'replay'],
    load: async () => (await import('./commands/quarantine.ts')).replay,
    summary: 'replay rejected events',
    synopsis: '<key …> | --all [--body-file <fixed.json>]',
    options: [
      ['--all', 'every open rejected event (instead of keys from pb quarantine list)'],
      ['--body-file <fixed.json>', 'replaces the body of the one rejected event named'],
    ],
  },
  {
    words: ['quarantine', 'redrive'],
    load: async () => (await import('./commands/quarantine.ts')).redrive,
    summary: 'move dead-lettered messages back',
    synopsis: '[--queue <name>]',
    options: [['--queue <name>', 'the queue whose dead letters move back (default agency-events)']],
  },
  {
    words: ['events', 'generate'],
    load: async () => (await import('./commands/events.ts')).generate,
    summary: 'write a synthetic event stream',
    synopsis: '--persons <N> --enterprises <N> --seed <S> [--out <file>] [--year <YYYY>]',
    options: [
      ['--persons <N>', 'persons to generate (required)'],
      ['--enterprises <N>', 'enterprises to generate (required)'],
      ['--seed <S>', 'seed: the same seed gives the same stream (required)'],
      ['--out <file>', 'write the events there instead of stdout'],
      ['--year <YYYY>', 'the year of the events, 2001 to 2099 (default 2025)'],
    ],
  },
  {
    words: ['events', 'profiles'],
    load: async () => (await import('./commands/events.ts')).profiles,
    summary: 'fold an event stream into profiles (input of evaluate and simulate)',
    synopsis: '--events <file.jsonl> [--out <file>]',
    options: [
      ['--events <file.jsonl>', 'agency events, one a line (required)'],
      ['--out <file>', 'write the profiles there instead of stdout'],
    ],
  },
];

/** The words and options of every command, for tests and tools. */
export const COMMAND_HELP: ReadonlyArray<{ words: string[]; options: ReadonlyArray<[string, string]> }> =
  COMMANDS.map(({ words, options }) => ({ words, options }));

const listLine = (c: CommandEntry): string => `  pb ${c.words.join(' ').padEnd(18)} ${c.summary}`;

function usage(): string {
  return [
    'usage: pb <command> [options]',
    ...COMMANDS.map(listLine),
    "run 'pb help <command>' (or 'pb <command> --help') for a command's options",
  ].join('\n');
}

/** The usage of one command: synopsis, what it does, one line per option. */
function commandUsage(c: CommandEntry): string {
  const width = Math.max(0, ...c.options.map(([o]) => o.length));
  return [
    `usage: pb ${c.words.join(' ')}${c.synopsis ? ` ${c.synopsis}` : ''}`,
    c.summary,
    ...(c.options.length
      ? ['options:', ...c.options.map(([o, d]) => `  ${o.padEnd(width)}  ${d}`)]
      : ['options: none']),
  ].join('\n');
}

/** The commands whose first word is `word` when it names a group (`rules`, `quarantine` …). */
const group = (word: string | undefined): CommandEntry[] =>
  COMMANDS.filter((c) => c.words.length > 1 && c.words[0] === word);

const subcommands = (g: CommandEntry[]): string => g.map((c) => c.words[1]).join(', ');

function groupUsage(g: CommandEntry[]): string {
  return [
    `usage: pb ${g[0]!.words[0]} <${g.map((c) => c.words[1]).join('|')}> [options]`,
    ...g.map(listLine),
  ].join('\n');
}

/** `pb help [<command words>]`: the usage asked for on stdout, exit 0; unknown words exit 2. */
function help(words: string[], io: Io): number {
  if (words.length === 0) {
    io.out(usage());
    return 0;
  }
  const c = COMMANDS.find((x) => x.words.length === words.length && x.words.every((w, i) => words[i] === w));
  if (c) {
    io.out(commandUsage(c));
    return 0;
  }
  const g = group(words[0]);
  if (g.length && words.length === 1) {
    io.out(groupUsage(g));
    return 0;
  }
  io.err(`pb help: unknown command '${words.join(' ')}' (run 'pb --help' for the list)`);
  return 2;
}

/** True when the arguments ask for help (`--help` or `-h` before any `--`). */
function asksForHelp(args: string[]): boolean {
  const end = args.indexOf('--');
  return (end === -1 ? args : args.slice(0, end)).some((a) => a === '--help' || a === '-h');
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
  if (io === processIo) exitQuietlyOnClosedPipes();
  if (argv.length === 0) {
    io.err(usage());
    return 2;
  }
  if (argv[0] === '--help' || argv[0] === '-h') {
    io.out(usage());
    return 0;
  }
  if (argv[0] === 'help') return help(argv.slice(1), io);
  const found = COMMANDS.find(({ words }) => words.every((w, i) => argv[i] === w));
  if (!found) {
    const g = group(argv[0]);
    if (g.length && asksForHelp(argv.slice(1, 2))) {
      io.out(groupUsage(g));
      return 0;
    }
    if (g.length && argv.length === 1) {
      io.err(`pb ${argv[0]}: name a subcommand: ${subcommands(g)} (run 'pb help ${argv[0]}')`);
      return 2;
    }
    io.err(
      g.length
        ? `pb: unknown command '${argv.slice(0, 2).join(' ')}' (pb ${argv[0]} has: ${subcommands(g)})`
        : `pb: unknown command '${argv.slice(0, 2).join(' ')}' (run 'pb --help' for the list)`,
    );
    return 2;
  }
  const { words, load } = found;
  const args = argv.slice(words.length);
  if (asksForHelp(args)) {
    io.out(commandUsage(found));
    return 0;
  }
  try {
    const command = await load();
    // Against a deployed stage the pseudonym key is in Secrets Manager, as for the functions.
    if (process.env.PB_PSEUDONYM_SECRET_ARN) await (await import('../runtime/secrets.ts')).primeSecrets();
    if (opts.lockPrototype && POPULATION_COMMANDS.has(words.join(' '))) lockObjectPrototype();
    return await command(args, io);
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
    // The SDK's own words name no cause the operator can act on.
    const hint =
      err.name === 'CredentialsProviderError'
        ? ': give AWS credentials (AWS_PROFILE, or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY; any values for a local endpoint)'
        : '';
    io.err(`pb ${words.join(' ')}: ${err.message ?? String(e)}${hint}`);
    if (process.env.PB_DEBUG) io.err(err.stack ?? '');
    return 1;
  }
}
