import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { QueryCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { Browser, BrowserContextOptions, Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { launchChromium } from './browser.ts';
import { docClient } from '../../src/adapters/aws.ts';
import { DynamoLedgerReader, digestStore } from '../../src/adapters/ledger-store.ts';
import { verifyLedgerFrom } from '../../src/domain/ledger/index.ts';
import { type ReviewServer, startReviewServer } from '../../src/local/http.ts';
import { drainQueues } from '../../src/local/pipeline.ts';
import { type LocalEngine, openLocalEngine } from '../../src/local/session.ts';
import { runtimeConfig } from '../../src/runtime/engine.ts';
import { decideDemo } from '../integration/helpers.ts';

const REASON = '经核查，该户籍已于2024年迁出本市，不再符合条件。';

let dataDir: string;
let engine: LocalEngine;
let server: ReviewServer;
let browser: Browser;

beforeAll(async () => {
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
  browser = await launchChromium();
});

afterAll(async () => {
  await browser?.close();
  await server?.close();
  await engine?.stop();
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
});

/** What the console's Content-Security-Policy blocked in this test (the browser logs each one). */
const cspViolations: string[] = [];

/** A new page whose CSP violations are collected; each test must end with none. */
async function newPage(options: BrowserContextOptions = {}): Promise<Page> {
  const page = await (await browser.newContext(options)).newPage();
  page.on('console', (m) => {
    if (m.type() === 'error' && /Content Security Policy/i.test(m.text())) cspViolations.push(m.text());
  });
  return page;
}

afterEach(() => {
  const seen = cspViolations.splice(0);
  expect(seen, 'blocked by the console CSP').toEqual([]);
});

async function openConsole(token: string, options: BrowserContextOptions = {}): Promise<Page> {
  const page = await newPage(options);
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

/** A decision as the listing returns it (the fields these tests use). */
interface ListedDecision {
  ref: string;
  subject: string;
  policy: string;
  period: string;
  status: string;
}

/** Calls the review API as the holder of `token`. */
async function apiAs(
  token: string,
  path: string,
  body?: unknown,
): Promise<{ status: number; json: Record<string, unknown> }> {
  const res = await fetch(`${server.url}/api${path}`, {
    method: body === undefined ? 'GET' : 'POST',
    headers: {
      authorization: `Bearer ${token}`,
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: res.status, json: (await res.json()) as Record<string, unknown> };
}

const used = new Set<string>();
/** The demo's one grant notified to guardians: kept for the test of a guardian's objection. */
const CHILDCARE = 'childcare-subsidy';

/**
 * A granted decision no other test of this file acts on: the oldest of the listing (the first test
 * takes the newest ones).
 */
async function unusedGrant(): Promise<ListedDecision> {
  const r = await apiAs(server.reviewerToken, '/decisions?status=granted&limit=200');
  const d = (r.json.items as ListedDecision[])
    .filter((x) => !used.has(x.ref) && x.policy !== CHILDCARE)
    .at(-1);
  if (!d) throw new Error('the demo stream should leave a granted decision for this test');
  used.add(d.ref);
  return d;
}

/** Flags a grant as the engine does when later facts say the beneficiary no longer qualifies. */
async function flagNoLongerEligible(d: ListedDecision): Promise<void> {
  await docClient().send(
    new UpdateCommand({
      TableName: runtimeConfig().table('decisions'),
      Key: { pk: d.subject, sk: `${d.policy}#${d.period}` },
      UpdateExpression: 'SET #s = :s, flag = :f, reviewBucket = :rb, reviewReason = :rr',
      ExpressionAttributeNames: { '#s': 'status' },
      ExpressionAttributeValues: {
        ':s': 'eligibility-changed',
        ':f': {
          outcome: 'not-eligible',
          amount: null,
          reasons: ['hukouRegion-not-eligible-region'],
          at: '2025-03-20T04:00:00.000Z',
          eventIds: ['ps-flag-0001'],
        },
        ':rb': 'review',
        ':rr': 'eligibility-changed',
      },
    }),
  );
}

/** Opens one decision from the listing filtered by its status. */
async function openDecision(page: Page, d: ListedDecision, status: string): Promise<void> {
  await page.click('#tab-list');
  await page.selectOption('#filter-status', status);
  await page.click('#filter-apply');
  await openRow(page, `#list-table tbody tr[data-ref="${d.ref}"]`);
}

/** Which of the three review actions the reviewer can see: [confirm, revoke, resolve]. */
const visibleActions = (page: Page): Promise<boolean[]> =>
  Promise.all(['#confirm-box', '#revoke-box', '#resolve-box'].map((s) => page.isVisible(s)));

const CJK = /[\u4e00-\u9fff]/;

describe('Console: a reviewer audits granted benefits after the fact', () => {
  it('confirms one decision, revokes another with a reason; the ledger and the beneficiary both hear of it', async () => {
    // Prepare
    const page = await openConsole(server.reviewerToken);
    expect(page.url()).not.toContain('token=');
    await page.waitForSelector('#queue-table tbody tr');
    await page.click('#tab-list');
    await page.waitForSelector('#list-table tbody tr');
    // The childcare grant (notified to guardians) is kept for the guardian's objection below.
    const granted = '#list-table tbody tr[data-status="granted"]:not([data-policy="childcare-subsidy"])';
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
    const page = await newPage();
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

describe('Console: what a reviewer sees is what the API allows', () => {
  it('shows only the actions that fit the status, and dates the conditions of a flagged decision', async () => {
    // Prepare
    const granted = await unusedGrant();
    const flagged = await unusedGrant();
    await flagNoLongerEligible(flagged);
    const page = await openConsole(server.reviewerToken);
    // Act 1
    await openDecision(page, granted, 'granted');
    // Assess 1: a grant can be confirmed or revoked; there is no change of eligibility to resolve.
    expect(await visibleActions(page)).toEqual([true, true, false]);
    // Act 2
    await page.click('#detail-close');
    await openDecision(page, flagged, 'eligibility-changed');
    // Assess 2: a flagged decision is resolved, not confirmed (409) nor revoked outside the resolution.
    expect(await visibleActions(page)).toEqual([false, false, true]);
    expect(await page.textContent('#detail-flag')).toContain('已不再符合享受条件');
    const heading = '#detail h3:has(+ #detail-conditions)';
    expect(await page.textContent(heading)).toContain('办理时');
    await page.click('#lang-toggle');
    expect(await page.textContent(heading)).toContain('at the time of the decision');
  });

  it('draws the flag of a flagged decision that the beneficiary declined', async () => {
    // Prepare
    const d = await unusedGrant();
    await flagNoLongerEligible(d);
    const citizen = await server.tokenFor('citizen', d.subject);
    const declined = await apiAs(citizen, '/citizen/declines', {
      ref: d.ref,
      reason: '我不再需要这项补贴。',
    });
    expect(declined.status).toBe(200);
    const page = await openConsole(server.reviewerToken);
    // Act
    await openDecision(page, d, 'declined');
    // Assess
    expect(await page.getAttribute('#detail', 'data-status')).toBe('declined');
    expect(await page.isVisible('#detail-flag')).toBe(true);
    expect(await page.textContent('#detail-flag')).toContain('已不再符合享受条件');
    expect(await page.textContent('#detail-flag')).toContain('引起变化的事件: ps-flag-0001');
    expect(await visibleActions(page)).toEqual([true, false, false]);
  });

  it("labels a guardian's objection as the guardian's and puts the amount's working in words", async () => {
    // Prepare: a child's childcare subsidy, notified to a guardian, who objects.
    const r = await apiAs(server.reviewerToken, '/decisions?policy=childcare-subsidy&limit=200');
    const d = (r.json.items as Array<ListedDecision & { recipients: string[] }>).find(
      (x) => !used.has(x.ref) && x.status === 'granted' && x.recipients.some((g) => g !== x.subject),
    );
    if (!d) throw new Error('the demo stream should grant a childcare subsidy notified to a guardian');
    used.add(d.ref);
    const guardian = d.recipients.find((g) => g !== d.subject)!;
    const objected = await apiAs(await server.tokenFor('citizen', guardian), '/citizen/objections', {
      ref: d.ref,
      reason: '孩子已随父母迁出本市。',
    });
    expect(objected.status).toBe(200);
    const page = await openConsole(server.reviewerToken);
    // Act
    await openDecision(page, d, 'objected');
    // Assess
    const history = await page.locator('#detail-history li').allTextContents();
    expect(history.some((l) => l.startsWith('监护人提出异议'))).toBe(true);
    expect(history.some((l) => l.startsWith('本人提出异议'))).toBe(false);
    const amount = (await page.textContent('#detail-amount'))!;
    expect(amount).toMatch(/可计发月数 × 每月 [\d,]+\.\d\d 元.* = [\d,]+\.\d\d 元$/);
    expect(amount).not.toContain('countedMonths');
    await page.click('#lang-toggle');
    expect(await page.textContent('#detail-amount')).toMatch(
      /counted months × CNY [\d,]+\.\d\d .*= CNY [\d,]+\.\d\d$/,
    );
    expect(
      (await page.locator('#detail-history li').allTextContents()).some((l) =>
        l.startsWith('Objection by a guardian'),
      ),
    ).toBe(true);
    // Keeping the decision against the objection needs a reason, in the page before the API.
    expect(await page.textContent('label[for="confirm-note"]')).toContain('required');
    let posted = 0;
    page.on('request', (r) => {
      if (r.method() === 'POST') posted += 1;
    });
    await page.click('#confirm-btn');
    await page.waitForSelector('#flash.error');
    expect(await page.textContent('#flash')).toContain('needs a reason');
    expect(posted).toBe(0);
    expect(await page.getAttribute('#detail', 'data-status')).toBe('objected');
  });

  it('exports what the filter form shows, and refuses a range that ends before it starts', async () => {
    // Prepare
    const page = await openConsole(server.reviewerToken);
    await page.click('#tab-list');
    await page.waitForSelector('#list-table tbody tr');
    const exports: string[] = [];
    page.on('request', (r) => {
      if (r.url().includes('/export.csv')) exports.push(r.url());
    });
    await page.fill('#filter-from', '2026-11-22');
    await page.fill('#filter-to', '2026-11-20');
    // Act 1: search and export with the bad range.
    await page.click('#filter-apply');
    await page.waitForSelector('#flash.error');
    await page.click('#export-csv');
    // Assess 1: refused in the page, in words.
    expect(await page.textContent('#flash')).toContain('不能晚于');
    // Act 2: clear the dates and choose a status, without searching again, then export.
    await page.fill('#filter-from', '');
    await page.fill('#filter-to', '');
    await page.selectOption('#filter-status', 'confirmed');
    const [res] = await Promise.all([
      page.waitForResponse((r) => r.url().includes('/export.csv')),
      page.click('#export-csv'),
    ]);
    // Assess 2: one export only, of what the form shows.
    expect(res.status()).toBe(200);
    expect(exports).toHaveLength(1);
    const q = new URL(exports[0]!).searchParams;
    expect([q.get('from'), q.get('to'), q.get('status')]).toEqual([null, null, 'confirmed']);
  });
});

describe('Console: accessibility and layout', () => {
  it('works from the keyboard: tabs with the arrow keys, rows with a visible focus and Space', async () => {
    // Prepare
    const page = await openConsole(server.reviewerToken);
    await page.waitForSelector('#queue-table tbody tr');
    expect(await page.getByRole('button', { name: /English/ }).count()).toBe(1);
    expect(await page.getAttribute('#tab-list', 'aria-controls')).toBe('view-list');
    expect(await page.getAttribute('#view-list', 'role')).toBe('tabpanel');
    // Act 1: the arrow keys move between the tabs.
    await page.focus('#tab-queue');
    await page.keyboard.press('ArrowRight');
    await page.waitForSelector('#view-list:not([hidden])');
    // Assess 1
    expect(await page.evaluate<string>('document.activeElement.id')).toBe('tab-list');
    expect(await page.getAttribute('#tab-list', 'aria-selected')).toBe('true');
    expect(await page.getAttribute('#tab-queue', 'aria-selected')).toBe('false');
    // Act 2: back to the queue, then Tab into its first row.
    await page.keyboard.press('ArrowLeft');
    await page.waitForSelector('#view-queue:not([hidden]) #queue-table tbody tr');
    await page.keyboard.press('Tab');
    // Assess 2: the focus is on a button of the row, and shows.
    const focus = await page.evaluate<{
      ref?: string;
      role: string;
      outline: string;
      width: number;
    }>(`(() => {
      const el = document.activeElement;
      const style = getComputedStyle(el);
      return {
        ref: el.closest('#queue-table tbody tr')?.dataset.ref,
        role: el.getAttribute('role') ?? el.tagName.toLowerCase(),
        outline: style.outlineStyle,
        width: Number.parseFloat(style.outlineWidth),
      };
    })()`);
    expect(focus.ref).toBeTruthy();
    expect(focus.role).toBe('button');
    expect(focus.outline).not.toBe('none');
    expect(focus.width).toBeGreaterThanOrEqual(2);
    // Act 3: Space opens the decision.
    await page.keyboard.press('Space');
    // Assess 3
    await page.waitForSelector(`#detail:not([hidden])[data-ref="${focus.ref}"]`);
    await page.click('#lang-toggle');
    expect(await page.getByRole('button', { name: /中文/ }).count()).toBe(1);
  });

  it('fits a 390 px wide screen in both languages: the tables scroll inside their cards', async () => {
    for (const lang of ['zh-CN', 'en']) {
      // Prepare
      const page = await openConsole(server.reviewerToken, { viewport: { width: 390, height: 844 } });
      if (lang === 'en') await page.click('#lang-toggle');
      const overflow = () =>
        page.evaluate<number>('document.documentElement.scrollWidth - document.documentElement.clientWidth');
      // Act and assess: the queue, the listing and a decision.
      await page.waitForSelector('#queue-table tbody tr');
      expect(await overflow(), `${lang} queue`).toBeLessThanOrEqual(0);
      await page.click('#tab-list');
      await page.waitForSelector('#list-table tbody tr');
      expect(await overflow(), `${lang} list`).toBeLessThanOrEqual(0);
      await openRow(page, '#list-table tbody tr');
      expect(await overflow(), `${lang} decision`).toBeLessThanOrEqual(0);
    }
  });

  it('keeps reference numbers on one line at 1280 px in both languages', async () => {
    // Prepare
    const page = await openConsole(server.reviewerToken, { viewport: { width: 1280, height: 800 } });
    // How many lines the text of each cell takes (the tops of its line boxes).
    const lines = (selector: string) =>
      page.evaluate<number[]>(`[...document.querySelectorAll(${JSON.stringify(selector)})].map((cell) => {
        const range = document.createRange();
        range.selectNodeContents(document.createTreeWalker(cell, NodeFilter.SHOW_TEXT).nextNode());
        return new Set([...range.getClientRects()].map((r) => Math.round(r.top))).size;
      })`);
    await page.waitForSelector('#queue-table tbody tr');
    const seen: number[] = [];
    for (const lang of ['zh-CN', 'en']) {
      // Act
      if (lang === 'en') await page.click('#lang-toggle');
      await page.click('#tab-queue');
      await page.waitForSelector('#queue-table tbody tr');
      seen.push(...(await lines('#queue-table tbody td:first-child')));
      await page.click('#tab-list');
      await page.waitForSelector('#list-table tbody tr');
      seen.push(...(await lines('#list-table tbody td:first-child')));
      await openRow(page, '#list-table tbody tr');
      seen.push(...(await lines('#detail-facts dd:first-of-type')));
    }
    // Assess
    expect(seen.length).toBeGreaterThan(4);
    expect(seen.filter((n) => n !== 1)).toEqual([]);
  });
});

describe('Console: signing in and messages', () => {
  it('signs in from #token=… in the same tab and takes the token out of the address bar', async () => {
    // Prepare
    const page = await openConsole(server.auditorToken);
    expect(await page.textContent('#who')).toContain('审计人员');
    // Act
    await page.goto(`${server.url}/#token=${server.reviewerToken}`);
    // Assess
    // A function, not a string: the console's CSP forbids the eval a string predicate needs.
    await page.waitForFunction(
      () =>
        (
          globalThis as unknown as {
            document: { getElementById(id: string): { textContent: string } | null };
          }
        ).document
          .getElementById('who')
          ?.textContent.includes('复核人员') === true,
      null,
      { timeout: 15_000 },
    );
    expect(page.url()).not.toContain('token=');
    expect(await page.isVisible('#app')).toBe(true);
  });

  it('translates a message already on the page when the language is switched', async () => {
    // Prepare: a message of the page, in Chinese.
    const page = await openConsole(server.reviewerToken);
    await page.click('#tab-list');
    await openRow(page, '#list-table tbody tr[data-status="granted"]');
    await page.click('#revoke-btn');
    expect(await page.textContent('#flash')).toContain('请填写撤销原因');
    // Act
    await page.click('#lang-toggle');
    // Assess
    expect(await page.textContent('#flash')).toBe('Write the reason for revoking.');

    // Prepare: a refused token, in Chinese.
    const signIn = await newPage();
    await signIn.goto(server.url);
    await signIn.fill('#token-input', 'not-a-token');
    await signIn.click('#token-submit');
    await signIn.waitForSelector('#flash.error');
    expect(await signIn.textContent('#flash')).toMatch(CJK);
    // Act
    await signIn.click('#lang-toggle');
    // Assess
    expect(await signIn.textContent('#flash')).not.toMatch(CJK);
    expect(await signIn.textContent('#flash')).toContain('not valid');
  });

  it('tells a citizen that the console is for reviewers and auditors', async () => {
    // Prepare
    const token = await server.tokenFor('citizen', `ps_${'1'.repeat(32)}`);
    const page = await newPage();
    // Act
    await page.goto(`${server.url}/#token=${token}`);
    await page.waitForSelector('#flash:not([hidden])');
    // Assess
    expect(await page.textContent('#flash')).toContain('复核人员和审计人员');
    expect(await page.textContent('#flash')).not.toContain('403');
    expect(await page.isVisible('#app')).toBe(false);
    await page.click('#lang-toggle');
    expect(await page.textContent('#flash')).toContain('reviewers and auditors');
  });
});
