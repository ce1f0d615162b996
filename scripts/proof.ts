/**
 * `npm run proof`: the slow half of the reliability proof. Runs every part in its own process on
 * its own local stack and prints ONE table of figures, each with its goal and whether it was met;
 * exits 1 when any goal is missed. The fast half runs in `npm test`.
 *
 *   npm run proof [-- --only faults,channel,throttle,poison,security,rules,api,load] [--events 100000]
 *                    [--fuzz-cases 3000] [--security-persons 2000]
 *
 * Parts: faults (every k of the fault-free run × before/after/after-retried/crash), channel (the
 * notify path's faults again, with an SNS FIFO topic deduplicating by delivery id as the channel), throttle,
 * poison, security (tables, every log line at DEBUG, notifications, pb replay and pb quarantine
 * list output), rules (rule-file fuzzing), api (the review API's authorisation matrix tests),
 * load (scripts/load.ts: 100,000 events delivered 1–3 times).
 */
import { spawn } from 'node:child_process';
import { cpus, loadavg } from 'node:os';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import type { LoadReport } from './load.ts';
import {
  channelPart,
  faultsPart,
  poisonPart,
  type ProofRow,
  rulesPart,
  securityPart,
  throttlePart,
} from '../src/testing/proof.ts';
import { IdentityScan } from '../src/testing/scan.ts';

const PARTS = ['faults', 'channel', 'throttle', 'poison', 'security', 'rules', 'api', 'load'] as const;
type Part = (typeof PARTS)[number];
const RESULT = 'PROOF-RESULT ';
const API_TESTS = 'test/unit/api/authorization.test.ts';

const { values } = parseArgs({
  options: {
    part: { type: 'string' },
    only: { type: 'string' },
    events: { type: 'string', default: '100000' },
    'fuzz-cases': { type: 'string', default: '3000' },
    'security-persons': { type: 'string', default: '2000' },
  },
});

const say = (s: string) => process.stderr.write(`${s}\n`);

/** Runs a command, returning its exit code and output (also passed on to stderr when `echo`). */
function run(
  cmd: string,
  args: string[],
  env: NodeJS.ProcessEnv,
  echo: boolean,
): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(cmd, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => {
      stdout += d.toString('utf8');
    });
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString('utf8');
      if (echo) process.stderr.write(d);
    });
    child.on('close', (code) => resolve({ code: code ?? 1, stdout, stderr }));
  });
}

const tsx = (script: string, args: string[], env: NodeJS.ProcessEnv = process.env, echo = true) =>
  run(process.execPath, ['--import', 'tsx', script, ...args], env, echo);

/** A part as a child process; its rows come back on the last stdout line. */
async function childPart(part: Part, env: NodeJS.ProcessEnv = process.env) {
  const r = await tsx('scripts/proof.ts', ['--part', part, ...forwarded()], env);
  const line = r.stdout.split('\n').find((l) => l.startsWith(RESULT));
  const rows: ProofRow[] = line
    ? (JSON.parse(line.slice(RESULT.length)) as ProofRow[])
    : [
        {
          area: part,
          figure: 'part ran to the end',
          measured: `exit ${r.code}: ${lastLine(r.stderr)}`,
          goal: 'yes',
          pass: false,
        },
      ];
  return { rows, output: r };
}

const lastLine = (s: string) => s.trim().split('\n').at(-1)?.slice(0, 120) ?? '';
const forwarded = () => [
  '--fuzz-cases',
  values['fuzz-cases']!,
  '--security-persons',
  values['security-persons']!,
];

async function inChild(part: Part): Promise<ProofRow[]> {
  const log = (s: string) => say(`  ${s}`);
  switch (part) {
    case 'faults':
      return faultsPart(log);
    case 'channel':
      return channelPart(log);
    case 'throttle':
      return throttlePart(log);
    case 'poison':
      return poisonPart();
    case 'security': {
      const persons = Number(values['security-persons']);
      return securityPart(persons, Math.ceil(persons / 5));
    }
    case 'rules':
      return rulesPart(Number(values['fuzz-cases']));
    default:
      throw new Error(`part ${part} does not run in a child`);
  }
}

async function security(): Promise<ProofRow[]> {
  // Every log line at DEBUG; the child's whole stdout and stderr are scanned here.
  const { rows, output } = await childPart('security', { ...process.env, POWERTOOLS_LOG_LEVEL: 'DEBUG' });
  const lines = `${output.stdout}\n${output.stderr}`
    .split('\n')
    .filter((l) => l.trim() && !l.startsWith(RESULT));
  const scan = new IdentityScan();
  scan.lines('log lines', lines);
  const debug = lines.filter((l) => l.includes('"level":"DEBUG"')).length;
  return [
    ...rows,
    {
      area: 'Security',
      figure: `raw identity numbers in log lines, stdout and stderr (${lines.length} lines, ${debug} at DEBUG)`,
      measured: scan.leaks.length === 0 ? '0' : `${scan.leaks.length}: ${scan.leaks[0]!.where}`,
      goal: '0',
      pass: scan.leaks.length === 0 && debug > 0,
    },
  ];
}

async function api(): Promise<ProofRow[]> {
  const dir = mkdtempSync(join(tmpdir(), 'pb-proof-api-'));
  const out = join(dir, 'report.json');
  const r = await run(
    process.execPath,
    [
      'node_modules/vitest/vitest.mjs',
      'run',
      '--project',
      'unit',
      API_TESTS,
      '--reporter=json',
      `--outputFile=${out}`,
    ],
    process.env,
    false,
  );
  let passed = 0;
  let total = 0;
  try {
    const report = JSON.parse(readFileSync(out, 'utf8')) as { numPassedTests: number; numTotalTests: number };
    passed = report.numPassedTests;
    total = report.numTotalTests;
  } catch {
    // no report: counted as failed below
  }
  rmSync(dir, { recursive: true, force: true });
  return [
    {
      area: 'API',
      figure: `review API authorisation matrix (${API_TESTS}, the API engineer's tests)`,
      measured: `${passed}/${total} passed`,
      goal: 'all',
      pass: r.code === 0 && total > 0 && passed === total,
    },
  ];
}

async function load(): Promise<ProofRow[]> {
  const r = await tsx('scripts/load.ts', ['--json', '--events', values.events!]);
  const line = r.stdout.trim().split('\n').at(-1) ?? '';
  let rep: LoadReport;
  try {
    rep = JSON.parse(line) as LoadReport;
  } catch {
    return [
      {
        area: 'Load',
        figure: 'load run',
        measured: `exit ${r.code}: ${lastLine(r.stderr)}`,
        goal: 'ran',
        pass: false,
      },
    ];
  }
  const ms = (q: string) => rep.latency[q] ?? { p50: 0, p99: 0 };
  const d = rep.dynamo;
  const row = (figure: string, measured: string | number, goal: string, pass: boolean | null): ProofRow => ({
    area: 'Load',
    figure,
    measured: String(measured),
    goal,
    pass,
  });
  return [
    row(
      `events (deliveries, each event 1–3×, random order; ${rep.concurrency} environments per function)`,
      `${rep.events} (${rep.deliveries})`,
      '100000',
      rep.events >= 100_000,
    ),
    row(
      'events/s, sustained over the whole drain (all functions)',
      rep.eventsPerSecond,
      '≥ 300 on 2 cores',
      rep.eventsPerSecond >= 300,
    ),
    row('deliveries/s', rep.deliveriesPerSecond, 'report', null),
    row(
      'ingest handler latency per record p50 / p99 (ms)',
      `${ms('agencyEvents').p50} / ${ms('agencyEvents').p99}`,
      'report',
      null,
    ),
    row(
      'evaluate handler latency per record p50 / p99 (ms)',
      `${ms('evaluations').p50} / ${ms('evaluations').p99}`,
      'report',
      null,
    ),
    row(
      'notify handler latency per record p50 / p99 (ms)',
      `${ms('notifications').p50} / ${ms('notifications').p99}`,
      'report',
      null,
    ),
    row(
      'DynamoDB requests per event (HTTP attempts)',
      `${d.requestsPerEvent} (${d.attemptsPerEvent})`,
      'report',
      null,
    ),
    row(
      'DynamoDB capacity units per event, read / write',
      `${d.readUnitsPerEvent} / ${d.writeUnitsPerEvent}`,
      'report',
      null,
    ),
    row(
      'DynamoDB requests per event by operation (of which conditional writes that lost)',
      Object.entries(d.byOperation)
        .map(([op, u]) => {
          const lost = Object.entries(d.errors)
            .filter(([k]) => k.startsWith(`${op}:`))
            .reduce((n, [, c]) => n + c, 0);
          return `${op} ${(u.requests / rep.events).toFixed(2)}${lost ? ` (${(lost / rep.events).toFixed(2)})` : ''}`;
        })
        .join(', '),
      'report',
      null,
    ),
    row(
      `grants vs independent computation on the final facts (${rep.expectedGrants} expected)`,
      `${rep.grants} granted, ${rep.grantMismatches} differ`,
      '0 differ',
      rep.grantMismatches === 0,
    ),
    row(
      'subjects whose facts differ from an independent fold',
      rep.factMismatches,
      '0',
      rep.factMismatches === 0,
    ),
    row('accepted events lost', rep.lost, '0', rep.lost === 0),
    row(
      'problems left (ledger, notifications, outbox, queues, DLQs)',
      rep.problems.length === 0 ? '0' : rep.problems.slice(0, 2).join('; '),
      '0',
      rep.problems.length === 0,
    ),
  ];
}

function table(rows: readonly ProofRow[]): string {
  const cells = rows.map((r) => [
    r.area,
    r.figure,
    r.measured,
    r.goal,
    r.pass === null ? '—' : r.pass ? 'pass' : 'FAIL',
  ]);
  const head = ['Area', 'Figure', 'Measured', 'Goal', 'Result'];
  const width = head.map((h, i) => Math.max(h.length, ...cells.map((c) => c[i]!.length)));
  const line = (c: string[]) => `| ${c.map((x, i) => x.padEnd(width[i]!)).join(' | ')} |`;
  return [line(head), `|${width.map((w) => '-'.repeat(w + 2)).join('|')}|`, ...cells.map(line)].join('\n');
}

async function main(): Promise<number> {
  if (values.part) {
    const rows = await inChild(values.part as Part);
    process.stdout.write(`${RESULT}${JSON.stringify(rows)}\n`);
    return 0;
  }
  const only = values.only ? (values.only.split(',') as Part[]) : [...PARTS];
  for (const p of only)
    if (!PARTS.includes(p)) throw new Error(`unknown part '${p}': use ${PARTS.join(', ')}`);
  const started = Date.now();
  const rows: ProofRow[] = [];
  const times: string[] = [];
  for (const part of only) {
    say(`proof: ${part} …`);
    const t0 = Date.now();
    if (part === 'security') rows.push(...(await security()));
    else if (part === 'api') rows.push(...(await api()));
    else if (part === 'load') rows.push(...(await load()));
    else rows.push(...(await childPart(part)).rows);
    times.push(`${part} ${((Date.now() - t0) / 1000).toFixed(0)} s`);
  }
  const failed = rows.filter((r) => r.pass === false).length;
  const [l1] = loadavg();
  process.stdout.write(
    [
      `Reliability proof — ${new Date().toISOString()}, node ${process.version}, ${cpus().length} CPUs (${cpus()[0]?.model ?? '?'}), load average at the end ${l1?.toFixed(1)}`,
      '',
      table(rows),
      '',
      `${rows.length} figures, ${failed} goal${failed === 1 ? '' : 's'} missed; ${((Date.now() - started) / 60000).toFixed(1)} min (${times.join(', ')})`,
      '',
    ].join('\n'),
  );
  return failed === 0 ? 0 : 1;
}

main().then(
  (code) => process.exit(code),
  (e: Error) => {
    say(`proof: ${e.message}`);
    process.exit(1);
  },
);
