import { type ChildProcess, execSync, spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

let child: ChildProcess | undefined;

/** Java processes of DynamoDB Local whose data lives under a directory. */
function javaUnder(dir: string): string[] {
  try {
    return execSync('ps -eo pid,args', { encoding: 'utf8' })
      .split('\n')
      .filter((l) => l.includes('DynamoDBLocal') && l.includes(dir));
  } catch {
    return [];
  }
}

/** Data directories of this file's runs: a failed test must not leave their DynamoDB Local running. */
const dataDirs: string[] = [];

afterAll(async () => {
  // A test that failed half-way leaves npm start running: Ctrl-C stops it with its Java child; a
  // kill would orphan the JVM (it leads a process group of its own), so that is the last resort.
  if (child?.pid && child.exitCode === null) {
    const exited = new Promise((r) => child!.once('exit', r));
    child.kill('SIGINT');
    await Promise.race([exited, new Promise((r) => setTimeout(r, 15_000))]);
    if (child.exitCode === null) process.kill(child.pid, 'SIGKILL');
  }
  for (const dir of dataDirs) {
    for (const line of javaUnder(dir)) {
      const pid = Number(line.trim().split(/\s+/)[0]);
      try {
        process.kill(-pid, 'SIGKILL');
      } catch {
        // gone already
      }
    }
  }
});

/** Starts `npm start` on a data directory and a free port; resolves with its output once it serves. */
async function start(dataDir: string): Promise<{ output: () => string }> {
  if (!dataDirs.includes(dataDir)) dataDirs.push(dataDir);
  child = spawn(process.execPath, ['--import', 'tsx', 'src/local/start.ts'], {
    env: {
      ...process.env,
      PORT: '0',
      PB_DATA_DIR: dataDir,
      PB_PREFIX: 'pb-start',
      POWERTOOLS_LOG_LEVEL: 'ERROR',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout!.on('data', (b: Buffer) => {
    out += b.toString();
  });
  child.stderr!.on('data', (b: Buffer) => {
    out += b.toString();
  });
  const deadline = Date.now() + 120_000;
  while (!/Press Ctrl-C/.test(out) && Date.now() < deadline && child.exitCode === null) {
    await new Promise((r) => setTimeout(r, 200));
  }
  return { output: () => out };
}

/** Ctrl-C to the running `npm start`; resolves with its exit code. */
async function stop(): Promise<number | null> {
  const exited = new Promise<number | null>((r) => child!.once('exit', (code) => r(code)));
  child!.kill('SIGINT');
  return exited;
}

describe('Command: npm start', () => {
  it('grants for the samples, serves the API behind a token, and stops everything on Ctrl-C', async () => {
    // Prepare: a data directory of its own and a free port.
    const dataDir = mkdtempSync(join(tmpdir(), 'pb-start-'));
    // Act: wait for the lines.
    const out = (await start(dataDir)).output();
    const url = /Review console: (http:\/\/localhost:\d+)/.exec(out)?.[1];
    const token = /Reviewer token: (\S+)/.exec(out)?.[1];
    expect(url, out).toBeDefined();
    expect(token).toBeDefined();
    // Assess
    expect(out).toMatch(/Granted\s+childcare-subsidy/);
    expect(out).toMatch(/Notified /);
    expect(out).not.toMatch(/\b\d{17}[\dX]\b/);
    const anonymous = await fetch(`${url}/api/decisions`);
    expect(anonymous.status).toBe(401);
    const listed = await fetch(`${url}/api/decisions`, { headers: { authorization: `Bearer ${token}` } });
    expect(listed.status).toBe(200);
    const body = (await listed.json()) as { items: Array<{ policy: string; status: string }> };
    expect(body.items.some((d) => d.policy === 'childcare-subsidy' && d.status === 'granted')).toBe(true);
    // The auditor reads but may not act; the citizen sees the decisions notified to them, nothing else.
    const auditor = /Auditor token: (\S+)/.exec(out)?.[1];
    const citizen = /Citizen token \((ps_[0-9a-f]+), notified above\): (\S+)/.exec(out);
    expect(auditor).toBeDefined();
    expect(citizen, out).not.toBeNull();
    const read = await fetch(`${url}/api/review-queue`, { headers: { authorization: `Bearer ${auditor}` } });
    expect(read.status).toBe(200);
    const own = await fetch(`${url}/api/citizen/decisions`, {
      headers: { authorization: `Bearer ${citizen![2]}` },
    });
    expect(own.status).toBe(200);
    const mine = (await own.json()) as { items: Array<{ ref: string }> };
    expect(mine.items.length).toBeGreaterThan(0);
    expect(out).toContain(`Notified ${citizen![1]}`);
    const queue = await fetch(`${url}/api/review-queue`, {
      headers: { authorization: `Bearer ${citizen![2]}` },
    });
    expect(queue.status).toBe(403);
    expect(javaUnder(dataDir).length).toBe(1);
    // A command on the same data directory does not start a second DynamoDB Local on its file: it
    // is refused, naming npm start's process and the file that gives the running stack's environment.
    const envFile = join(dataDir, 'dynamodb', 'stack.env');
    expect(out).toContain(
      `\`. ${relative(process.cwd(), envFile)}\` points a shell's pb commands at this stack`,
    );
    const pb = (env: Record<string, string>) =>
      spawnSync(process.execPath, ['bin/pb.mjs', 'audit', 'verify'], {
        env: { ...process.env, PB_DATA_DIR: dataDir, ...env },
        encoding: 'utf8',
      });
    const refused = pb({});
    expect(refused.status).toBe(1);
    expect(refused.stderr.trim()).toBe(
      `pb audit verify: the local stack in ${join(dataDir, 'dynamodb')} is running in process ${child!.pid} (npm start?): stop it first, or point this command at it with \`. ${envFile}\` (its own pollers then take part)`,
    );
    expect(javaUnder(dataDir).length).toBe(1);
    // With that environment, the command works on the running stack.
    const stackEnv = Object.fromEntries(
      [...readFileSync(envFile, 'utf8').matchAll(/^export (\w+)='([^']*)'$/gm)].map((m) => [m[1]!, m[2]!]),
    );
    expect(Object.keys(stackEnv)).toEqual(
      expect.arrayContaining(['AWS_ENDPOINT_URL_DYNAMODB', 'PB_PREFIX', 'PB_QUEUE_URL_AGENCY_EVENTS']),
    );
    const verified = pb(stackEnv);
    // (npm start anchors the chain heads when it stops: none yet)
    expect(verified.stderr.trim()).toBe(
      'pb audit verify: note: no digest written yet: the chain heads are not anchored outside the ledger (pb audit digest anchors them)',
    );
    expect(verified.status).toBe(0);
    expect(verified.stdout).toMatch(/ledger verifies/);
    expect(await stop()).toBe(0);
    expect(javaUnder(dataDir)).toEqual([]);
    expect(existsSync(envFile)).toBe(false);

    // A second run on the same data decides nothing new, and still offers a citizen to sign in as.
    const again = (await start(dataDir)).output();
    expect(again).not.toMatch(/Granted\s/);
    expect(again).toContain(`Citizen token (${citizen![1]}, notified by an earlier run, `);
    expect(await stop()).toBe(0);
    expect(javaUnder(dataDir)).toEqual([]);
  });
});
