/**
 * The review API: one handler for API Gateway's HTTP API (payload format 2.0, JWT authoriser),
 * also served locally by `src/local/http.ts`. Claims are trusted as verified; everything else
 * (path, query, body) is validated with zod before it reaches the store.
 */
import type { APIGatewayProxyEventV2WithJWTAuthorizer, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import type { OutboxRelay } from '../domain/engine/ports.ts';
import { type Principal, principalFrom, requireRole } from './auth.ts';
import { decisionsCsv } from './csv.ts';
import {
  ApiError,
  badRequest,
  csvResponse,
  errorResponse,
  forbidden,
  json,
  notFound,
  parseOr400,
} from './http.ts';
import { decodeCursor, encodeCursor, fingerprint, type Positions, readPage } from './paging.ts';
import type { Partition, PartitionFilter, ReviewStore, StoredDecision, TransitionPlan } from './ports.ts';
import { type Actor, planConfirm, planDecline, planObjection, planResolve, planRevoke } from './review.ts';
import {
  CitizenBodySchema,
  CitizenQuerySchema,
  ConfirmBodySchema,
  DEFAULT_LIMIT,
  DecisionPathSchema,
  type ExportQuery,
  ExportQuerySchema,
  ListQuerySchema,
  QueueQuerySchema,
  ResolveBodySchema,
  RevokeBodySchema,
  STATUSES,
} from './schemas.ts';
import { decisionDetail, decisionView, type PolicyInfo } from './view.ts';

/** What the API needs from the outside world. */
export interface ReviewApiDeps {
  store: ReviewStore;
  /** Sends outbox rows (revocation and review outcome notices) on to the notifications queue. */
  relay: OutboxRelay;
  now: () => Date;
  /** The published policies (titles, legal basis, sample rates). */
  policies: () => readonly PolicyInfo[];
  /** Where unexpected failures are reported (the function's logger). */
  logError?: (message: string, error: unknown) => void;
}

/** The handler's type: API Gateway HTTP API event in, structured result out. */
export type ReviewApiHandler = (
  event: APIGatewayProxyEventV2WithJWTAuthorizer,
) => Promise<APIGatewayProxyStructuredResultV2>;

/** Most rows one CSV export returns; past it the caller narrows the filter. */
export const MAX_EXPORT_ROWS = 50_000;

const READERS = ['reviewer', 'auditor'] as const;
const ACTORS = ['reviewer'] as const;
const CITIZENS = ['citizen'] as const;

type Route = {
  method: 'GET' | 'POST';
  pattern: RegExp;
  run: (ctx: Ctx, params: string[]) => Promise<APIGatewayProxyStructuredResultV2>;
};

/** The dependencies plus a lookup of one policy. */
interface Deps extends ReviewApiDeps {
  policy: (id: string) => PolicyInfo | undefined;
}

interface Ctx {
  deps: Deps;
  principal: Principal;
  query: Record<string, string>;
  event: APIGatewayProxyEventV2WithJWTAuthorizer;
}

/**
 * Query parameters without empty values (a form's blank filter means "any"). A parameter given
 * twice is refused by name: API Gateway would hand its values over joined by a comma, and the
 * schema's message about that value would not say what is wrong.
 */
function queryOf(event: APIGatewayProxyEventV2WithJWTAuthorizer): Record<string, string> {
  if (event.rawQueryString) {
    const seen = new Set<string>();
    for (const [k] of new URLSearchParams(event.rawQueryString)) {
      if (seen.has(k)) throw badRequest(`${k}: given more than once: give each parameter once`);
      seen.add(k);
    }
  }
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(event.queryStringParameters ?? {})) {
    // An own property even for `__proto__`, so the strict schemas refuse it like any unknown name.
    if (v) Object.defineProperty(out, k, { value: v, enumerable: true, writable: true, configurable: true });
  }
  return out;
}

function bodyOf(event: APIGatewayProxyEventV2WithJWTAuthorizer): unknown {
  const raw = event.body
    ? event.isBase64Encoded
      ? Buffer.from(event.body, 'base64').toString('utf8')
      : event.body
    : '';
  if (raw.trim() === '') return {};
  try {
    return JSON.parse(raw);
  } catch {
    throw badRequest('body: must be a JSON object');
  }
}

/** The partitions and remaining filter that answer a listing without scanning. */
export function plan(q: {
  policy?: string;
  period?: string;
  status?: (typeof STATUSES)[number];
  from?: string;
  to?: string;
}): { partitions: Partition[]; filter: PartitionFilter } {
  const range = { ...(q.from ? { from: q.from } : {}), ...(q.to ? { to: q.to } : {}) };
  if (q.policy && q.period) {
    return {
      partitions: [{ index: 'byPolicyPeriod', value: `${q.policy}#${q.period}` }],
      filter: { ...range, ...(q.status ? { status: q.status } : {}) },
    };
  }
  if (q.policy) {
    return {
      partitions: [{ index: 'byPolicy', value: q.policy }],
      filter: { ...range, ...(q.status ? { status: q.status } : {}) },
    };
  }
  const statuses = q.status ? [q.status] : STATUSES;
  return {
    partitions: statuses.map((s) => ({ index: 'byStatus', value: s })),
    filter: { ...range, ...(q.period ? { period: q.period } : {}) },
  };
}

async function listDecisions(ctx: Ctx) {
  requireRole(ctx.principal, READERS, 'listing decisions');
  const q = parseOr400(ListQuerySchema, ctx.query);
  const { partitions, filter } = plan(q);
  const fp = fingerprint(['decisions', q.policy, q.period, q.status, q.from, q.to]);
  const positions = q.cursor ? decodeCursor(q.cursor, fp) : undefined;
  const page = await readPage(ctx.deps.store, partitions, filter, q.limit ?? DEFAULT_LIMIT, positions);
  return json(200, {
    items: page.items.map((d) => decisionView(d, ctx.deps.policy(d.policy))),
    cursor: page.positions ? encodeCursor(fp, page.positions) : null,
  });
}

async function reviewQueue(ctx: Ctx) {
  requireRole(ctx.principal, READERS, 'the review queue');
  const q = parseOr400(QueueQuerySchema, ctx.query);
  const fp = fingerprint(['review-queue']);
  const positions = q.cursor ? decodeCursor(q.cursor, fp) : undefined;
  const page = await readPage(
    ctx.deps.store,
    [{ index: 'reviewQueue', value: 'review' }],
    {},
    q.limit ?? DEFAULT_LIMIT,
    positions,
  );
  return json(200, {
    items: page.items.map((d) => decisionView(d, ctx.deps.policy(d.policy))),
    cursor: page.positions ? encodeCursor(fp, page.positions) : null,
  });
}

async function exportCsv(ctx: Ctx) {
  requireRole(ctx.principal, READERS, 'exporting decisions');
  const q: ExportQuery = parseOr400(ExportQuerySchema, ctx.query);
  const { partitions, filter } = plan(q);
  const rows: StoredDecision[] = [];
  let positions: Positions | undefined;
  do {
    const page = await readPage(ctx.deps.store, partitions, filter, 500, positions);
    rows.push(...page.items);
    if (rows.length > MAX_EXPORT_ROWS) {
      throw badRequest(
        `more than ${MAX_EXPORT_ROWS} decisions match: narrow the filter (policy, period, from, to)`,
      );
    }
    positions = page.positions ?? undefined;
  } while (positions);
  const name = ['decisions', q.policy ?? 'all', q.period ?? q.status ?? ''].filter(Boolean).join('-');
  return csvResponse(
    `${name}.csv`,
    decisionsCsv(rows, (id) => ctx.deps.policy(id)?.title['zh-CN']),
  );
}

function decisionPath(params: string[]) {
  const [subject, policy, period] = params.map((p) => {
    try {
      return decodeURIComponent(p);
    } catch {
      throw badRequest(`path: '${p}' is not valid percent-encoding`);
    }
  });
  return parseOr400(DecisionPathSchema, { subject, policy, period });
}

async function getDecision(ctx: Ctx, params: string[]) {
  requireRole(ctx.principal, READERS, 'reading decisions');
  const { subject, policy, period } = decisionPath(params);
  const d = await ctx.deps.store.getDecision(subject, policy, period);
  if (!d) throw notFound(`no decision for ${subject} under ${policy} for ${period}`);
  const history = await ctx.deps.store.history(subject, `${policy}#${period}`);
  return json(
    200,
    decisionDetail(d, ctx.deps.policy(policy), history, (id) => ctx.deps.policy(id)?.title),
  );
}

async function act(ctx: Ctx, params: string[], action: 'confirm' | 'revoke' | 'resolve') {
  requireRole(ctx.principal, ACTORS, `${action} (a review action)`);
  const { subject, policy, period } = decisionPath(params);
  const body = bodyOf(ctx.event);
  const actor = { id: ctx.principal.id, at: ctx.deps.now().toISOString() };
  let planFor: (d: StoredDecision) => TransitionPlan;
  if (action === 'confirm') {
    const b = parseOr400(ConfirmBodySchema, body, 'body');
    planFor = (d) => planConfirm(d, actor, b.reason);
  } else if (action === 'revoke') {
    const b = parseOr400(RevokeBodySchema, body, 'body');
    planFor = (d) => planRevoke(d, actor, b.reason);
  } else {
    const b = parseOr400(ResolveBodySchema, body, 'body');
    planFor = (d) => planResolve(d, actor, b.resolution, b.reason);
  }
  const result = await ctx.deps.store.transition(subject, policy, period, planFor);
  if (!result) throw notFound(`no decision for ${subject} under ${policy} for ${period}`);
  const notified = await relay(ctx.deps, result.outbox);
  return json(200, {
    decision: decisionView(result.decision, ctx.deps.policy(policy)),
    ledgerEntry: result.entry,
    notifications: { queued: result.outbox.length, relayed: notified },
  });
}

/** Relays the action's notices; a failure leaves them in the outbox for the next relay. */
async function relay(deps: Deps, rows: TransitionPlan['outbox']): Promise<boolean> {
  if (rows.length === 0) return true;
  try {
    await deps.relay.relay(rows);
    return true;
  } catch (e) {
    deps.logError?.('could not relay notices; they stay in the outbox', e);
    return false;
  }
}

function citizenSubject(p: Principal): string {
  requireRole(p, CITIZENS, 'this page');
  if (!p.subject) throw forbidden('your sign-in carries no subject (pb:subject claim); sign in again');
  return p.subject;
}

async function citizenAnswer(ctx: Ctx, kind: 'objection' | 'decline') {
  const me = citizenSubject(ctx.principal);
  const b = parseOr400(CitizenBodySchema, bodyOf(ctx.event), 'body');
  // The same answer whether the reference is unknown or somebody else's: existence never leaks.
  const missing = () =>
    notFound('no decision of yours has this reference number: check it against your notification');
  const mine = (await ctx.deps.store.decisionsByRef(b.ref)).find(
    (d) => d.subject === me || d.recipients.includes(me),
  );
  if (!mine) throw missing();
  const actor: Actor = {
    id: ctx.principal.id,
    at: ctx.deps.now().toISOString(),
    role: mine.subject === me ? 'subject' : 'guardian',
  };
  const result = await ctx.deps.store.transition(mine.subject, mine.policy, mine.period, (d) =>
    kind === 'objection' ? planObjection(d, actor, b.reason) : planDecline(d, actor, b.reason),
  );
  if (!result) throw missing();
  return json(200, {
    decision: citizenItem(ctx, result.decision),
    ledgerEntry: { seq: result.entry.seq, at: result.entry.at, kind: result.entry.kind },
  });
}

/** What a beneficiary sees of their own decision: no review notes, no other recipients. */
function citizenView(d: StoredDecision): Record<string, unknown> {
  const { reviews: _r, recipients: _rc, reviewReason: _rr, inReviewQueue: _q, ...own } = d;
  return decisionView({ ...own, recipients: [], inReviewQueue: false });
}

/**
 * A decision as every citizen route returns it: the citizen's view with the plain-language summary
 * and explanation (values a citizen may not see stay hidden, as in the reviewer's detail).
 */
function citizenItem(ctx: Ctx, d: StoredDecision): Record<string, unknown> {
  const detail = decisionDetail(d, ctx.deps.policy(d.policy), [], (id) => ctx.deps.policy(id)?.title);
  // A revoked decision says why, as the notice of its revocation did (the reason is written for them).
  const revocation =
    d.status === 'revoked' ? [...(d.reviews ?? [])].reverse().find((r) => r.to === 'revoked') : undefined;
  return {
    ...citizenView(d),
    summary: detail.summary,
    explanation: detail.explanation,
    policy: detail.policy,
    ...(revocation ? { revocation: { at: revocation.at, reason: revocation.reason ?? null } } : {}),
  };
}

/**
 * A person's decisions, and those of the notices they received about somebody else (a guardian's
 * wards): each read by its reference and kept only while the person is still among its recipients.
 */
async function ownAndNotified(store: ReviewStore, me: string): Promise<StoredDecision[]> {
  const own = await store.decisionsOfSubject(me);
  const seen = new Set(own.map((d) => d.ref));
  const out = [...own];
  for (const ref of await store.refsNotifiedTo(me)) {
    if (seen.has(ref)) continue;
    seen.add(ref);
    for (const d of await store.decisionsByRef(ref)) if (d.recipients.includes(me)) out.push(d);
  }
  return out;
}

async function citizenDecisions(ctx: Ctx) {
  const me = citizenSubject(ctx.principal);
  const q = parseOr400(CitizenQuerySchema, ctx.query);
  let decisions: StoredDecision[];
  if (q.ref === undefined) decisions = await ownAndNotified(ctx.deps.store, me);
  else {
    // The same answer whether the reference is unknown or somebody else's: existence never leaks.
    decisions = (await ctx.deps.store.decisionsByRef(q.ref)).filter(
      (d) => d.subject === me || d.recipients.includes(me),
    );
    if (decisions.length === 0)
      throw notFound('no decision of yours has this reference number: check it against your notification');
  }
  decisions.sort((a, b) => (a.createdAt < b.createdAt ? 1 : a.createdAt > b.createdAt ? -1 : 0));
  return json(200, { items: decisions.map((d) => citizenItem(ctx, d)), cursor: null });
}

const SEG = '([^/]+)';
const DECISION = `^/api/decisions/${SEG}/${SEG}/${SEG}`;

const ROUTES: Route[] = [
  { method: 'GET', pattern: /^\/api\/decisions$/, run: (c) => listDecisions(c) },
  { method: 'GET', pattern: new RegExp(`${DECISION}$`), run: getDecision },
  { method: 'POST', pattern: new RegExp(`${DECISION}/confirm$`), run: (c, p) => act(c, p, 'confirm') },
  { method: 'POST', pattern: new RegExp(`${DECISION}/revoke$`), run: (c, p) => act(c, p, 'revoke') },
  { method: 'POST', pattern: new RegExp(`${DECISION}/resolve$`), run: (c, p) => act(c, p, 'resolve') },
  { method: 'GET', pattern: /^\/api\/review-queue$/, run: (c) => reviewQueue(c) },
  { method: 'GET', pattern: /^\/api\/export\.csv$/, run: (c) => exportCsv(c) },
  { method: 'POST', pattern: /^\/api\/citizen\/objections$/, run: (c) => citizenAnswer(c, 'objection') },
  { method: 'POST', pattern: /^\/api\/citizen\/declines$/, run: (c) => citizenAnswer(c, 'decline') },
  { method: 'GET', pattern: /^\/api\/citizen\/decisions$/, run: (c) => citizenDecisions(c) },
  {
    method: 'GET',
    pattern: /^\/api\/policies$/,
    run: async (c) => json(200, { items: c.deps.policies() }),
  },
  {
    method: 'GET',
    pattern: /^\/api\/me$/,
    run: async (c) =>
      json(200, {
        id: c.principal.id,
        role: c.principal.role,
        ...(c.principal.subject ? { subject: c.principal.subject } : {}),
      }),
  },
];

/** Builds the review API handler over its dependencies. */
export function createReviewApi(given: ReviewApiDeps): ReviewApiHandler {
  const deps: Deps = { ...given, policy: (id) => given.policies().find((p) => p.id === id) };
  return async (event) => {
    try {
      const principal = principalFrom(event.requestContext?.authorizer?.jwt?.claims);
      const method = (event.requestContext?.http?.method ?? 'GET').toUpperCase();
      const path = event.rawPath ?? event.requestContext?.http?.path ?? '/';
      const matches = ROUTES.map((r) => ({ r, m: r.pattern.exec(path) })).filter((x) => x.m);
      if (matches.length === 0) throw notFound(`no such endpoint: ${path}`);
      const hit = matches.find((x) => x.r.method === method);
      if (!hit) {
        const allowed = [...new Set(matches.map((x) => x.r.method))].join(', ');
        return {
          ...errorResponse(new ApiError(405, `${method} is not allowed here: use ${allowed}`)),
          headers: { 'content-type': 'application/json; charset=utf-8', allow: allowed },
        };
      }
      const ctx: Ctx = { deps, principal, query: queryOf(event), event };
      return await hit.r.run(ctx, hit.m!.slice(1));
    } catch (e) {
      if (e instanceof ApiError) return errorResponse(e);
      deps.logError?.('review API request failed', e);
      return json(500, {
        error: `internal error: try again; if it persists, tell the operators (request ${event.requestContext?.requestId ?? 'unknown'})`,
      });
    }
  };
}
