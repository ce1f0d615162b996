import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { QueryCommand } from '@aws-sdk/lib-dynamodb';
import { type Browser, chromium, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { docClient } from '../../src/adapters/aws.ts';
import { DynamoLedgerReader, digestStore } from '../../src/adapters/ledger-store.ts';
import { verifyLedgerFrom } from '../../src/domain/ledger/index.ts';
import { type ReviewServer, startReviewServer } from '../../src/local/http.ts';
import { drainQueues } from '../../src/local/pipeline.ts';
import { type LocalEngine, openLocalEngine } from '../../src/local/session.ts';
import { runtimeConfig } from '../../src/runtime/engine.ts';
import { decideDemo } from '../integration/helpers.ts';

const CHROMIUM = process.env.PB_CHROMIUM ?? '/usr/bin/chromium';
const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];
const REASON = '经核查，该户籍已于2024年迁出本市，不再符合条件。';

let dataDir: string;
let engine: LocalEngine;
let server: ReviewServer;
let browser: Browser;

beforeAll(async () => {
  if (!existsSync(CHROMIUM)) {
    throw new Error(
      `headless Chromium is needed at ${CHROMIUM}: apt-get install -y chromium (or set PB_CHROMIUM)`,
    );
  }
  // Prepare: the whole engine on this machine, as `npm start` runs it, in a data dir of its own.
  dataDir = mkdtempSync(join(tmpdir(), 'pb-e2e-'));
  process.env.PB_DATA_DIR = dataDir;
  process.env.PB_NOTIFY_FILE = join(dataDir, 'notifications.jsonl');
  process.env.PB_PSEUDONYM_KEY = '5'.repeat(64);
  engine = await openLocalEngine({
    prefix: `e2e-${process.pid}`,
    reuseRunning: false,
    now: '2025-03-20T12:00:00+08:00',
  });
  await decideDemo(engine);
  server = await startReviewServer({ port: 0 });
  browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
});

afterAll(async () => {
  await browser?.close();
  await server?.close();
  await engine?.stop();
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
});

async function openConsole(token: string): Promise<Page> {
  const page = await (await browser.newContext()).newPage();
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  page.on('dialog', (d) => void d.accept());
  await page.goto(`${server.url}/#token=${token}`);
  await page.waitForSelector('#app:not([hidden])');
  expect(errors).toEqual([]);
  return page;
}

/** Opens the decision of a list row and waits for its detail. */
async function openRow(page: Page, selector: string): Promise<{ ref: string; subject: string }> {
  const row = page.locator(selector).first();
  const ref = (await row.getAttribute('data-ref'))!;
  const subject = (await row.getAttribute('data-subject'))!;
  await row.click();
  await page.waitForSelector(`#detail:not([hidden])[data-ref="${ref}"]`);
  return { ref, subject };
}

async function ledgerOf(subject: string) {
  const r = await docClient().send(
    new QueryCommand({
      TableName: runtimeConfig().table('ledger'),
      KeyConditionExpression: 'pk = :s',
      ExpressionAttributeValues: { ':s': subject },
      ConsistentRead: true,
    }),
  );
  return r.Items ?? [];
}

describe('Console: a reviewer audits granted benefits after the fact', () => {
  it('confirms one decision, revokes another with a reason; the ledger and the beneficiary both hear of it', async () => {
    // Prepare
    const page = await openConsole(server.reviewerToken);
    expect(page.url()).not.toContain('token=');
    await page.waitForSelector('#queue-table tbody tr');
    await page.click('#tab-list');
    await page.waitForSelector('#list-table tbody tr');
    const granted = '#list-table tbody tr[data-status="granted"]';
    expect(await page.locator(granted).count()).toBeGreaterThanOrEqual(2);

    // Act 1: confirm the first granted decision.
    const confirmed = await openRow(page, granted);
    expect(await page.locator('#detail-conditions li').count()).toBeGreaterThan(0);
    expect(await page.textContent('#detail-summary')).toContain('当前状态：已享受');
    await page.click('#confirm-btn');
    await page.waitForSelector('#detail[data-status="confirmed"]');
    expect(await page.textContent('#flash')).toContain('已确认');
    expect(await page.locator('#detail-history li[data-kind="review.confirm"]').count()).toBe(1);

    // Act 2: back to the list, revoke another one, with a reason.
    await page.click('#detail-close');
    await page.waitForSelector(`#list-table tbody tr[data-ref="${confirmed.ref}"][data-status="confirmed"]`);
    const revoked = await openRow(page, `${granted}:not([data-ref="${confirmed.ref}"])`);
    await page.click('#revoke-btn'); // without a reason: refused in the page, nothing sent
    expect(await page.textContent('#flash')).toContain('请填写撤销原因');
    await page.fill('#revoke-reason', REASON);
    await page.click('#revoke-btn');
    await page.waitForSelector('#detail[data-status="revoked"]');
    expect(await page.locator('#detail-history li[data-kind="review.revoke"]').textContent()).toContain(
      REASON,
    );

    // Assess: the ledger has both actions by the reviewer, and still verifies end to end.
    const confirmEntries = await ledgerOf(confirmed.subject);
    expect(
      confirmEntries.filter((e) => e.kind === 'review.confirm' && e.payload.ref === confirmed.ref),
    ).toEqual([expect.objectContaining({ actor: 'local-reviewer' })]);
    const revokeEntries = await ledgerOf(revoked.subject);
    expect(revokeEntries.filter((e) => e.kind === 'review.revoke' && e.payload.ref === revoked.ref)).toEqual([
      expect.objectContaining({
        actor: 'local-reviewer',
        payload: expect.objectContaining({ reason: REASON }),
      }),
    ]);
    const cfg = runtimeConfig();
    const verified = await verifyLedgerFrom(new DynamoLedgerReader(docClient(), cfg, digestStore(cfg)));
    expect(verified.failures).toEqual([]);

    // Assess: after the notifications queue is drained, the beneficiary has the revocation notice.
    await drainQueues(engine.queues, engine.consumers);
    const notices = readFileSync(process.env.PB_NOTIFY_FILE!, 'utf8')
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as { kind: string; ref: string; body: string });
    const revocation = notices.filter((n) => n.kind === 'revocation' && n.ref === revoked.ref);
    expect(revocation.length).toBeGreaterThan(0);
    expect(revocation[0]?.body).toContain(REASON.replace(/。$/, ''));
    expect(notices.some((n) => n.kind === 'revocation' && n.ref === confirmed.ref)).toBe(false);
  });

  it('switches to English and keeps the explanation readable', async () => {
    // Prepare
    const page = await openConsole(server.reviewerToken);
    await page.click('#tab-list');
    await page.waitForSelector('#list-table tbody tr');
    await openRow(page, '#list-table tbody tr');
    // Act
    await page.click('#lang-toggle');
    // Assess
    expect(await page.getAttribute('html', 'lang')).toBe('en');
    expect(await page.textContent('#tab-list')).toBe('All decisions');
    const lines = await page.locator('#detail-conditions li').allTextContents();
    expect(lines.length).toBeGreaterThan(0);
    expect(lines.every((l) => /: (met|not met|unknown)/.test(l))).toBe(true);
    expect(await page.textContent('#detail-summary')).toMatch(/status: /);
  });

  it('lets an auditor read but offers no actions', async () => {
    // Prepare
    const page = await openConsole(server.auditorToken);
    await page.click('#tab-list');
    await page.waitForSelector('#list-table tbody tr');
    // Act
    await openRow(page, '#list-table tbody tr');
    // Assess
    expect(await page.isVisible('#actions')).toBe(false);
    expect(await page.isVisible('#read-only')).toBe(true);
  });

  it('asks for a token when there is none, and refuses a bad one', async () => {
    // Prepare
    const page = await (await browser.newContext()).newPage();
    await page.goto(server.url);
    await page.waitForSelector('#sign-in:not([hidden])');
    // Act
    await page.fill('#token-input', 'not-a-token');
    await page.click('#token-submit');
    // Assess
    await page.waitForSelector('#flash.error');
    expect(await page.isVisible('#app')).toBe(false);
  });
});
