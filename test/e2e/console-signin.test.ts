/**
 * The console's sign-in through the user pool's managed login (config.js → auth): the OAuth 2.0
 * authorization code grant with PKCE, against a fake of Cognito's authorize, token and logout
 * endpoints served, with the console and a proxy of the review API, from one local origin.
 */
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { createServer, type IncomingMessage, request, type Server, type ServerResponse } from 'node:http';
import { tmpdir } from 'node:os';
import { extname, join, normalize, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { consoleCsp } from '../../src/api/console-csp.ts';
import { launchChromium } from './browser.ts';
import { type ReviewServer, startReviewServer } from '../../src/local/http.ts';
import { type LocalEngine, openLocalEngine } from '../../src/local/session.ts';

const CONSOLE_DIR = resolve(fileURLToPath(new URL('../../console/', import.meta.url)));
const CLIENT_ID = 'pb-test-review-ui';
const CJK = /[\u4e00-\u9fff]/;

const b64url = (b: Buffer): string => b.toString('base64url');

/** What the fake managed login saw, and how it is told to misbehave. */
interface FakeCognito {
  authorize: Record<string, string>[];
  token: Record<string, string>[];
  logout: Record<string, string>[];
  /** Problems with a request the console made (each one fails the test that caused it). */
  problems: string[];
  /** Codes issued and not yet redeemed, with what the authorize request said. */
  codes: Map<string, { challenge: string; redirectUri: string }>;
  tamperState: boolean;
  tokenFailure: boolean;
  /** The access token the code is traded for (the reviewer's token unless a test says otherwise). */
  issueAccess: string | undefined;
  /** Refresh tokens issued and not revoked. */
  refreshTokens: Set<string>;
  refreshFailure: boolean;
  revoke: Record<string, string>[];
  /** Access tokens the API (as API Gateway's authoriser) refuses once each, as expired. */
  expireOnce: Set<string>;
}

let dataDir: string;
let engine: LocalEngine;
let server: ReviewServer;
let site: Server;
let origin: string;
let browser: Browser;
const fake: FakeCognito = {
  authorize: [],
  token: [],
  logout: [],
  problems: [],
  codes: new Map(),
  tamperState: false,
  tokenFailure: false,
  issueAccess: undefined,
  refreshTokens: new Set(),
  refreshFailure: false,
  revoke: [],
  expireOnce: new Set(),
};

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
};

function send(
  res: ServerResponse,
  status: number,
  body: string,
  type = 'text/plain; charset=utf-8',
  extra: Record<string, string> = {},
): void {
  res.writeHead(status, { 'content-type': type, 'cache-control': 'no-store', ...extra });
  res.end(body);
}

async function bodyOf(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

/** Records a problem and answers 400, as Cognito refuses a bad request. */
function refuse(res: ServerResponse, problem: string): void {
  fake.problems.push(problem);
  send(res, 400, JSON.stringify({ error: 'invalid_request', problem }), 'application/json');
}

/** What is wrong with an authorize request, or null. */
function authorizeProblem(q: Record<string, string>): string | null {
  if (q.response_type !== 'code') return `response_type ${q.response_type}`;
  if (q.client_id !== CLIENT_ID) return `client_id ${q.client_id}`;
  if (q.redirect_uri !== `${origin}/`) return `redirect_uri ${q.redirect_uri}`;
  if (q.scope !== 'openid email') return `scope ${q.scope}`;
  if (q.code_challenge_method !== 'S256') return `code_challenge_method ${q.code_challenge_method}`;
  if (!/^[A-Za-z0-9_-]{43}$/.test(q.code_challenge ?? '')) return `code_challenge ${q.code_challenge}`;
  if (!q.state) return 'no state';
  return null;
}

/** Cognito's /oauth2/authorize, with the sign-in itself already done: straight back with a code. */
function authorize(url: URL, res: ServerResponse): void {
  const q = Object.fromEntries(url.searchParams);
  fake.authorize.push(q);
  const problem = authorizeProblem(q);
  if (problem) {
    refuse(res, problem);
    return;
  }
  const code = b64url(randomBytes(16));
  fake.codes.set(code, { challenge: q.code_challenge!, redirectUri: q.redirect_uri! });
  const back = new URL(q.redirect_uri!);
  back.searchParams.set('code', code);
  back.searchParams.set('state', fake.tamperState ? `${q.state}x` : q.state!);
  res.writeHead(302, { location: back.href });
  res.end();
}

/** Cognito's /oauth2/token for a public client: the code, once, with the verifier of its challenge. */
async function token(req: IncomingMessage, res: ServerResponse): Promise<void> {
  const type = req.headers['content-type'] ?? '';
  const form = Object.fromEntries(new URLSearchParams(await bodyOf(req)));
  fake.token.push(form);
  if (req.method !== 'POST') return refuse(res, `token endpoint called with ${req.method}`);
  if (!type.startsWith('application/x-www-form-urlencoded')) return refuse(res, `content-type ${type}`);
  if (form.client_id !== CLIENT_ID) return refuse(res, `client_id ${form.client_id}`);
  if (form.grant_type === 'refresh_token') {
    // Cognito answers a refresh with a new access token (and id token), no new refresh token.
    if (fake.refreshFailure || !fake.refreshTokens.has(form.refresh_token ?? '')) {
      send(res, 400, JSON.stringify({ error: 'invalid_grant' }), 'application/json');
      return;
    }
    const answer = { access_token: server.reviewerToken, token_type: 'Bearer', expires_in: 3600 };
    send(res, 200, JSON.stringify(answer), 'application/json');
    return;
  }
  if (form.grant_type !== 'authorization_code') return refuse(res, `grant_type ${form.grant_type}`);
  const issued = fake.codes.get(form.code ?? '');
  if (!issued) return refuse(res, `unknown or used code ${form.code}`);
  fake.codes.delete(form.code!);
  if (form.redirect_uri !== issued.redirectUri) return refuse(res, `redirect_uri ${form.redirect_uri}`);
  const challenge = b64url(
    createHash('sha256')
      .update(form.code_verifier ?? '')
      .digest(),
  );
  if (challenge !== issued.challenge)
    return refuse(res, 'the code_verifier does not match the code_challenge');
  if (fake.tokenFailure) {
    send(res, 400, JSON.stringify({ error: 'invalid_grant' }), 'application/json');
    return;
  }
  const idToken = `${b64url(Buffer.from('{"alg":"none"}'))}.${b64url(Buffer.from('{"sub":"local-reviewer"}'))}.`;
  const refreshToken = `refresh-${b64url(randomBytes(12))}`;
  fake.refreshTokens.add(refreshToken);
  send(
    res,
    200,
    JSON.stringify({
      access_token: fake.issueAccess ?? server.reviewerToken,
      id_token: idToken,
      refresh_token: refreshToken,
      token_type: 'Bearer',
      expires_in: 3600,
    }),
    'application/json',
  );
}

/** Cognito's /oauth2/revoke: the refresh token is no longer accepted. */
async function revoke(req: IncomingMessage, res: ServerResponse): Promise<void> {
  const form = Object.fromEntries(new URLSearchParams(await bodyOf(req)));
  fake.revoke.push(form);
  if (req.method !== 'POST' || form.client_id !== CLIENT_ID) return refuse(res, 'bad revoke request');
  fake.refreshTokens.delete(form.token ?? '');
  send(res, 200, '', 'application/json');
}

/** The review API, as CloudFront routes /api/* to it (and API Gateway's authoriser refuses tokens). */
function proxy(req: IncomingMessage, res: ServerResponse): void {
  const bearer = /^Bearer (.+)$/.exec(req.headers.authorization ?? '')?.[1] ?? '';
  if (bearer === 'stale-access-token' || fake.expireOnce.delete(bearer)) {
    send(res, 401, JSON.stringify({ message: 'Unauthorized' }), 'application/json');
    return;
  }
  const target = new URL(req.url ?? '/', server.url);
  const out = request(
    target,
    { method: req.method, headers: { ...req.headers, host: target.host } },
    (answer) => {
      res.writeHead(answer.statusCode ?? 502, answer.headers);
      answer.pipe(res);
    },
  );
  out.on('error', (e) => send(res, 502, e.message));
  req.pipe(out);
}

async function serveConsole(url: URL, res: ServerResponse): Promise<void> {
  if (url.pathname === '/config.js') {
    const config = { apiBase: 'api', auth: { domain: origin, clientId: CLIENT_ID } };
    send(res, 200, `window.PB_CONFIG = ${JSON.stringify(config)};\n`, TYPES['.js']);
    return;
  }
  const rel = url.pathname === '/' ? '/index.html' : decodeURIComponent(url.pathname);
  const file = normalize(join(CONSOLE_DIR, rel));
  if (!file.startsWith(CONSOLE_DIR + sep)) return send(res, 404, 'not found');
  try {
    // The Content-Security-Policy CloudFront sends with the hosted console, here for this origin.
    const csp = { 'content-security-policy': consoleCsp(["'self'"]) };
    send(res, 200, await readFile(file, 'utf8'), TYPES[extname(file)] ?? 'application/octet-stream', csp);
  } catch {
    send(res, 404, 'not found');
  }
}

function handle(req: IncomingMessage, res: ServerResponse): void {
  const url = new URL(req.url ?? '/', origin);
  const failed = (e: Error) => {
    if (!res.headersSent) send(res, 500, e.message);
  };
  if (url.pathname.startsWith('/api/')) proxy(req, res);
  else if (url.pathname === '/oauth2/authorize') authorize(url, res);
  else if (url.pathname === '/oauth2/token') token(req, res).catch(failed);
  else if (url.pathname === '/oauth2/revoke') revoke(req, res).catch(failed);
  else if (url.pathname === '/logout') {
    const q = Object.fromEntries(url.searchParams);
    fake.logout.push(q);
    // Cognito sends the browser on to logout_uri when it is one of the client's sign-out URLs.
    if (q.client_id !== CLIENT_ID || q.logout_uri !== `${origin}/`) refuse(res, 'bad logout request');
    else {
      res.writeHead(302, { location: q.logout_uri });
      res.end();
    }
  } else serveConsole(url, res).catch(failed);
}

beforeAll(async () => {
  // The engine on this machine with a data dir of its own: /api/me and an empty queue are enough.
  dataDir = mkdtempSync(join(tmpdir(), 'pb-e2e-signin-'));
  process.env.PB_DATA_DIR = dataDir;
  process.env.PB_NOTIFY_FILE = join(dataDir, 'notifications.jsonl');
  process.env.PB_PSEUDONYM_KEY = '6'.repeat(64);
  engine = await openLocalEngine({
    prefix: `e2e-signin-${process.pid}`,
    reuseRunning: false,
    now: '2025-03-20T12:00:00+08:00',
  });
  server = await startReviewServer({ port: 0 });
  site = createServer(handle);
  await new Promise<void>((ok) => site.listen(0, '127.0.0.1', ok));
  const addr = site.address();
  origin = `http://127.0.0.1:${typeof addr === 'object' && addr ? addr.port : 0}`;
  browser = await launchChromium();
});

afterAll(async () => {
  // Each step even if one before it failed: no browser, server or DynamoDB Local left behind.
  const steps: (() => Promise<unknown> | undefined)[] = [
    () => browser?.close(),
    () =>
      site &&
      new Promise<void>((ok) => {
        site.closeAllConnections();
        site.close(() => ok());
      }),
    () => server?.close(),
    () => engine?.stop(),
  ];
  for (const step of steps) await Promise.resolve(step()).catch(() => undefined);
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
});

beforeEach(() => {
  fake.authorize.length = 0;
  fake.token.length = 0;
  fake.logout.length = 0;
  fake.problems.length = 0;
  fake.tamperState = false;
  fake.tokenFailure = false;
  fake.issueAccess = undefined;
  fake.refreshTokens.clear();
  fake.refreshFailure = false;
  fake.revoke.length = 0;
  fake.expireOnce.clear();
});

/** A fresh browser (its own sessionStorage) on the console's sign-in screen. */
async function openSignIn(): Promise<{ page: Page; errors: string[] }> {
  const page = await (await browser.newContext()).newPage();
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  // Anything the Content-Security-Policy blocked is logged by the browser as a console error.
  page.on('console', (m) => {
    if (m.type() === 'error' && /Content Security Policy/i.test(m.text())) errors.push(m.text());
  });
  await page.goto(`${origin}/`);
  await page.waitForSelector('#sign-in:not([hidden])');
  return { page, errors };
}

const session = (page: Page, key: string) =>
  page.evaluate(`sessionStorage.getItem(${JSON.stringify(key)})`) as Promise<string | null>;

describe('Console: sign-in through the managed login (config.js → auth)', () => {
  it('signs in with the button: PKCE code flow, then the reviewer sees the queue and a clean address', async () => {
    const { page, errors } = await openSignIn();
    // The token form is there for operators, folded away.
    expect(await page.isVisible('#oauth-button')).toBe(true);
    expect(await page.textContent('#oauth-button')).toBe('使用统一身份认证登录');
    expect(await page.isVisible('#token-input')).toBe(false);

    await page.click('#oauth-button');
    await page.waitForSelector('#app:not([hidden])');
    await page.waitForSelector('#queue-empty:not([hidden]), #queue-table tbody tr');

    expect(fake.problems).toEqual([]);
    expect(fake.authorize).toHaveLength(1);
    expect(fake.authorize[0]).toMatchObject({
      response_type: 'code',
      client_id: CLIENT_ID,
      redirect_uri: `${origin}/`,
      scope: 'openid email',
      code_challenge_method: 'S256',
    });
    expect(fake.token).toHaveLength(1);
    expect(fake.token[0]).toMatchObject({ grant_type: 'authorization_code', redirect_uri: `${origin}/` });
    // Signed in as a pasted token is: /me says reviewer; the token is kept for the tab, the
    // verifier and state are gone; nothing of the answer is left in the address bar.
    expect(await page.textContent('#who')).toContain('local-reviewer');
    expect(await page.isVisible('#view-queue')).toBe(true);
    expect(await page.isVisible('#sign-in')).toBe(false);
    expect(page.url()).toBe(`${origin}/`);
    expect(page.url()).not.toMatch(/code=|state=/);
    expect(await session(page, 'pb.token')).toBe(server.reviewerToken);
    expect(await session(page, 'pb.oauth')).toBeNull();
    expect(errors).toEqual([]);
    await page.context().close();
  });

  it('refuses an answer whose state was altered, in both languages, without trading the code', async () => {
    fake.tamperState = true;
    const { page, errors } = await openSignIn();
    await page.click('#oauth-button');
    await page.waitForSelector('#flash.error');
    expect(fake.authorize).toHaveLength(1);
    expect(fake.token).toHaveLength(0);
    expect(await page.textContent('#flash')).toMatch(CJK);
    expect(await page.textContent('#flash')).toContain('登录未完成');
    expect(await page.isVisible('#sign-in')).toBe(true);
    expect(await page.isVisible('#app')).toBe(false);
    expect(page.url()).not.toMatch(/code=|state=/);
    expect(await session(page, 'pb.token')).toBeNull();
    expect(await session(page, 'pb.oauth')).toBeNull();

    await page.click('#lang-toggle');
    expect(await page.textContent('#flash')).toContain('does not match');
    expect(await page.textContent('#flash')).not.toMatch(CJK);
    expect(errors).toEqual([]);
    await page.context().close();
  });

  it('says so when the token endpoint refuses the code, and stays signed out', async () => {
    fake.tokenFailure = true;
    const { page, errors } = await openSignIn();
    await page.click('#lang-toggle');
    await page.click('#oauth-button');
    await page.waitForSelector('#flash.error');
    expect(fake.problems).toEqual([]);
    expect(fake.token).toHaveLength(1);
    const text = (await page.textContent('#flash')) ?? '';
    expect(text).toContain('Sign-in did not complete');
    expect(text).toContain('invalid_grant');
    expect(text).not.toMatch(/\bat .+:\d+:\d+/); // no stack trace
    expect(await page.isVisible('#sign-in')).toBe(true);
    expect(await page.isVisible('#app')).toBe(false);
    expect(page.url()).toBe(`${origin}/`);
    expect(await session(page, 'pb.token')).toBeNull();
    expect(await session(page, 'pb.oauth')).toBeNull();
    expect(errors).toEqual([]);
    await page.context().close();
  });

  it('shows the error the managed login sends back (?error=…) for the request it made', async () => {
    const { page, errors } = await openSignIn();
    // The request as the button makes it, then the answer Cognito gives when the user cancels.
    const pending = JSON.stringify({ state: 'abc123', verifier: 'v'.repeat(43), redirectUri: `${origin}/` });
    await page.evaluate(`sessionStorage.setItem('pb.oauth', ${JSON.stringify(pending)})`);
    await page.goto(`${origin}/?error=access_denied&error_description=User+cancelled&state=abc123`);
    await page.waitForSelector('#flash.error');
    expect(await page.textContent('#flash')).toContain('access_denied: User cancelled');
    expect(await page.textContent('#flash')).toMatch(CJK);
    expect(await page.isVisible('#sign-in')).toBe(true);
    expect(page.url()).toBe(`${origin}/`);
    expect(fake.token).toHaveLength(0);
    expect(errors).toEqual([]);
    await page.context().close();
  });

  it('renews an access token that expires during the session and repeats the request', async () => {
    const { page, errors } = await openSignIn();
    await page.click('#oauth-button');
    await page.waitForSelector('#app:not([hidden])');
    await page.waitForSelector('#queue-empty:not([hidden]), #queue-table tbody tr');
    const refresh = await session(page, 'pb.refresh');
    expect(refresh).toMatch(/^refresh-/);

    // The hour is up: the API refuses the token once; the console renews it and asks again.
    fake.expireOnce.add(server.reviewerToken);
    const statuses: number[] = [];
    page.on('response', (r) => {
      if (new URL(r.url()).pathname === '/api/decisions') statuses.push(r.status());
    });
    const answered = page.waitForResponse(
      (r) => new URL(r.url()).pathname === '/api/decisions' && r.status() === 200,
    );
    await page.click('#tab-list');
    await answered;
    await page.waitForSelector('#view-list:not([hidden])');
    expect(statuses).toEqual([401, 200]);
    expect(fake.expireOnce.size).toBe(0);
    expect(fake.problems).toEqual([]);
    expect(fake.token.map((f) => f.grant_type)).toEqual(['authorization_code', 'refresh_token']);
    expect(fake.token[1]).toMatchObject({ client_id: CLIENT_ID, refresh_token: refresh });
    expect(await page.isVisible('#app')).toBe(true);
    expect(await page.isVisible('#flash.error')).toBe(false);
    expect(errors).toEqual([]);
    await page.context().close();
  });

  it('signs out, saying the sign-in expired, when the refresh token is refused too', async () => {
    fake.issueAccess = 'stale-access-token';
    fake.refreshFailure = true;
    const { page, errors } = await openSignIn();
    await page.click('#oauth-button');
    await page.waitForSelector('#flash.error');
    expect(fake.token.map((f) => f.grant_type)).toEqual(['authorization_code', 'refresh_token']);
    expect(await page.textContent('#flash')).toContain('登录已过期');
    await page.click('#lang-toggle');
    expect(await page.textContent('#flash')).toContain('could not be renewed');
    expect(await page.isVisible('#sign-in')).toBe(true);
    expect(await session(page, 'pb.token')).toBeNull();
    expect(await session(page, 'pb.refresh')).toBeNull();
    expect(errors).toEqual([]);
    await page.context().close();
  });

  it('still takes a pasted token, under the disclosure', async () => {
    const { page, errors } = await openSignIn();
    await page.click('#token-disclosure summary');
    await page.fill('#token-input', server.auditorToken);
    await page.click('#token-submit');
    await page.waitForSelector('#app:not([hidden])');
    expect(await page.textContent('#who')).toContain('local-auditor');
    expect(fake.authorize).toHaveLength(0);
    expect(errors).toEqual([]);
    await page.context().close();
  });

  it('signs out of the console and of the managed login, and comes back to the sign-in screen', async () => {
    const { page, errors } = await openSignIn();
    await page.click('#oauth-button');
    await page.waitForSelector('#app:not([hidden])');
    expect(fake.logout).toHaveLength(0);

    // The console's page is left for the managed login's /logout, which sends it back here.
    await page.evaluate('window.beforeSignOut = true');
    await page.click('#sign-out');
    // A function, not a string: the page's CSP forbids the eval a string predicate needs.
    await page.waitForFunction(() => {
      const w = globalThis as unknown as {
        beforeSignOut?: boolean;
        document: { getElementById(id: string): { hidden: boolean } | null };
      };
      return !w.beforeSignOut && w.document.getElementById('sign-in')?.hidden === false;
    });
    expect(fake.problems).toEqual([]);
    expect(fake.logout).toEqual([{ client_id: CLIENT_ID, logout_uri: `${origin}/` }]);
    // The refresh token is revoked first: it cannot renew anything after sign-out.
    expect(fake.revoke).toHaveLength(1);
    expect(fake.revoke[0]).toMatchObject({ client_id: CLIENT_ID, token: expect.stringMatching(/^refresh-/) });
    expect(fake.refreshTokens.size).toBe(0);
    expect(await page.isVisible('#app')).toBe(false);
    expect(await session(page, 'pb.token')).toBeNull();
    expect(await session(page, 'pb.refresh')).toBeNull();
    expect(errors).toEqual([]);
    await page.context().close();
  });
});
