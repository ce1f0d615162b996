import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchChromium } from './browser.ts';

// The console exactly as a reviewer meets it: what `npm start` runs (`tsx src/local/start.ts`, run
// directly so no npm process sits between the test and its signals) in a child process with its
// own data directory, the URL and token it prints, then confirm and revoke in headless Chromium.
const REASON = 'Household moved out of the municipality before the period began.';

let dataDir: string;
let child: ChildProcess;
let output = '';
let url: string;
let token: string;
let browser: Browser;

/** Waits until the child has printed a line matching `re`; fails with its output if it exits. */
function waitForLine(re: RegExp, timeoutMs: number): Promise<RegExpExecArray> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`npm start printed no ${re} in time:\n${output}`)),
      timeoutMs,
    );
    const check = () => {
      const m = re.exec(output);
      if (m) {
        clearTimeout(timer);
        child.stdout?.off('data', check);
        resolve(m);
      }
    };
    child.stdout?.on('data', check);
    child.once('exit', (code) => reject(new Error(`npm start exited (${code}):\n${output}`)));
    check();
  });
}

beforeAll(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'pb-npm-start-'));
  child = spawn(process.execPath, ['--import', 'tsx', 'src/local/start.ts'], {
    env: {
      ...process.env,
      PORT: '0',
      PB_DATA_DIR: dataDir,
      PB_NOTIFY_FILE: join(dataDir, 'notifications.jsonl'),
      PB_PSEUDONYM_KEY: '6'.repeat(64),
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout?.on('data', (b: Buffer) => {
    output += b.toString('utf8');
  });
  child.stderr?.on('data', (b: Buffer) => {
    output += b.toString('utf8');
  });
  url = (await waitForLine(/Review console: (http:\/\/\S+)/, 170_000))[1]!;
  token = (await waitForLine(/Reviewer token: (\S+)/, 10_000))[1]!;
  browser = await launchChromium();
});

afterAll(async () => {
  await browser?.close();
  if (child?.pid && child.exitCode === null) {
    // SIGTERM lets start.ts stop its stack (DynamoDB Local included) before it exits.
    const exited = new Promise((r) => child.once('exit', r));
    child.kill('SIGTERM');
    await Promise.race([exited, new Promise((r) => setTimeout(r, 30_000))]);
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  }
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
});

const notices = () => {
  const file = join(dataDir, 'notifications.jsonl');
  return existsSync(file)
    ? readFileSync(file, 'utf8')
        .split('\n')
        .filter(Boolean)
        .map((l) => JSON.parse(l) as { kind: string; ref: string; body: string })
    : [];
};

describe('Console: served by npm start', () => {
  it('lists the sample grants for the printed token', async () => {
    // Act
    const r = await fetch(`${url}/api/decisions`, { headers: { authorization: `Bearer ${token}` } });
    // Assess
    expect(r.status).toBe(200);
    const body = (await r.json()) as { items: Array<{ status: string }> };
    expect(body.items.length).toBeGreaterThan(3);
  });

  it('confirms one decision and revokes another; the history shows both and the beneficiary is told', async () => {
    // Prepare
    const page = await (await browser.newContext()).newPage();
    page.on('dialog', (d) => void d.accept());
    await page.goto(`${url}/#token=${token}`);
    await page.click('#tab-list');
    const granted = '#list-table tbody tr[data-status="granted"]';
    await page.waitForSelector(granted);
    // Act: confirm
    const first = page.locator(granted).first();
    const confirmedRef = (await first.getAttribute('data-ref'))!;
    await first.click();
    await page.waitForSelector(`#detail:not([hidden])[data-ref="${confirmedRef}"]`);
    await page.click('#confirm-btn');
    await page.waitForSelector('#detail[data-status="confirmed"]');
    // Act: revoke another
    await page.click('#detail-close');
    const other = page.locator(`${granted}:not([data-ref="${confirmedRef}"])`).first();
    await other.waitFor();
    const revokedRef = (await other.getAttribute('data-ref'))!;
    await other.click();
    await page.waitForSelector(`#detail:not([hidden])[data-ref="${revokedRef}"]`);
    await page.fill('#revoke-reason', REASON);
    await page.click('#revoke-btn');
    await page.waitForSelector('#detail[data-status="revoked"]');
    // Assess: the ledger history of the revoked decision, as the API reads it from the ledger table.
    const kinds = await page
      .locator('#detail-history li')
      .evaluateAll((els) => els.map((e) => e.getAttribute('data-kind')));
    expect(kinds[0]).toBe('grant');
    expect(kinds.at(-1)).toBe('review.revoke');
    // Assess: npm start keeps draining the queues, so the notice arrives on its own.
    const deadline = Date.now() + 30_000;
    while (!notices().some((n) => n.kind === 'revocation' && n.ref === revokedRef) && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 250));
    }
    const revocation = notices().find((n) => n.kind === 'revocation' && n.ref === revokedRef);
    expect(revocation?.body).toContain(REASON.replace(/\.$/, ''));
    expect(notices().some((n) => n.kind === 'revocation' && n.ref === confirmedRef)).toBe(false);
  });
});
