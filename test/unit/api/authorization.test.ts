import { describe, expect, it } from 'vitest';
import { principalFrom, claimList } from '../../../src/api/auth.ts';
import { ApiError } from '../../../src/api/http.ts';
import { CALLERS, type Claims, OTHER, OWN, testApi } from './fixtures.ts';
import { decision } from './memory-store.ts';

type Caller = 'none' | keyof typeof CALLERS;
const CALLER_NAMES: Caller[] = ['none', 'reviewer', 'auditor', 'citizenOwn', 'citizenOther'];

/** A store with one decision of the citizen `OWN` (granted) and one flagged decision of OWN too. */
function seeded() {
  const t = testApi();
  const own = decision({ subject: OWN, recipients: [OWN] });
  const flagged = decision({
    subject: OWN,
    policy: 'elderly-allowance',
    period: '2025-04',
    status: 'eligibility-changed',
    reviewReason: 'eligibility-changed',
    flag: {
      outcome: 'not-eligible',
      amount: null,
      reasons: ['not-alive'],
      at: '2025-04-02T00:00:00Z',
      eventIds: [],
    },
  });
  t.store.put(own);
  t.store.put(flagged);
  return { ...t, own, flagged };
}

interface RouteCase {
  name: string;
  run: (
    s: ReturnType<typeof seeded>,
    claims: Claims | undefined,
  ) => Promise<{ status: number; json: Record<string, unknown>; text: string }>;
  expected: Record<Caller, number>;
}

const path = (d: { subject: string; policy: string; period: string }) =>
  `/api/decisions/${d.subject}/${d.policy}/${d.period}`;

const READ = { none: 401, reviewer: 200, auditor: 200, citizenOwn: 403, citizenOther: 403 };
const ACT = { none: 401, reviewer: 200, auditor: 403, citizenOwn: 403, citizenOther: 403 };
// A citizen answering somebody else's reference gets 404, exactly as for an unknown reference.
const CITIZEN_ACT = { none: 401, reviewer: 403, auditor: 403, citizenOwn: 200, citizenOther: 404 };
const CITIZEN_READ = { none: 401, reviewer: 403, auditor: 403, citizenOwn: 200, citizenOther: 200 };
const ANYONE = { none: 401, reviewer: 200, auditor: 200, citizenOwn: 200, citizenOther: 200 };

const ROUTES: RouteCase[] = [
  {
    name: 'GET /api/decisions',
    run: (s, c) => s.call('GET', '/api/decisions', { claims: c }),
    expected: READ,
  },
  {
    name: 'GET /api/decisions/{subject}/{policy}/{period}',
    run: (s, c) => s.call('GET', path(s.own), { claims: c }),
    expected: READ,
  },
  {
    name: 'POST …/confirm',
    run: (s, c) => s.call('POST', `${path(s.own)}/confirm`, { claims: c, body: {} }),
    expected: ACT,
  },
  {
    name: 'POST …/revoke',
    run: (s, c) =>
      s.call('POST', `${path(s.own)}/revoke`, { claims: c, body: { reason: 'Moved away in 2024.' } }),
    expected: ACT,
  },
  {
    name: 'POST …/resolve',
    run: (s, c) =>
      s.call('POST', `${path(s.flagged)}/resolve`, {
        claims: c,
        body: { resolution: 'keep', reason: 'Checked.' },
      }),
    expected: ACT,
  },
  {
    name: 'GET /api/review-queue',
    run: (s, c) => s.call('GET', '/api/review-queue', { claims: c }),
    expected: READ,
  },
  {
    name: 'GET /api/export.csv',
    run: (s, c) => s.call('GET', '/api/export.csv', { claims: c }),
    expected: READ,
  },
  {
    name: 'POST /api/citizen/objections',
    run: (s, c) =>
      s.call('POST', '/api/citizen/objections', { claims: c, body: { ref: s.own.ref, reason: 'Wrong.' } }),
    expected: CITIZEN_ACT,
  },
  {
    name: 'POST /api/citizen/declines',
    run: (s, c) =>
      s.call('POST', '/api/citizen/declines', { claims: c, body: { ref: s.own.ref, reason: 'No need.' } }),
    expected: CITIZEN_ACT,
  },
  {
    name: 'GET /api/citizen/decisions',
    run: (s, c) => s.call('GET', '/api/citizen/decisions', { claims: c }),
    expected: CITIZEN_READ,
  },
  {
    name: 'GET /api/policies',
    run: (s, c) => s.call('GET', '/api/policies', { claims: c }),
    expected: ANYONE,
  },
  { name: 'GET /api/me', run: (s, c) => s.call('GET', '/api/me', { claims: c }), expected: ANYONE },
];

describe('Authorisation matrix', () => {
  for (const route of ROUTES) {
    describe(`Route: ${route.name}`, () => {
      for (const caller of CALLER_NAMES) {
        const want = route.expected[caller];
        it(`answers ${want} to ${caller === 'none' ? 'a request without claims' : `a ${caller}`}`, async () => {
          // Prepare
          const s = seeded();
          const claims = caller === 'none' ? undefined : CALLERS[caller];
          // Act
          const r = await route.run(s, claims);
          // Assess
          expect(r.status, r.text).toBe(want);
          if (want >= 400) {
            expect(Object.keys(r.json)).toEqual(['error']);
            expect(String(r.json.error)).not.toMatch(/\n/);
          }
        });
      }
    });
  }

  it('denies an action to an auditor without changing the decision or the ledger', async () => {
    // Prepare
    const s = seeded();
    // Act
    const r = await s.call('POST', `${path(s.own)}/revoke`, {
      claims: CALLERS.auditor,
      body: { reason: 'x' },
    });
    // Assess
    expect(r.status).toBe(403);
    expect((await s.store.getDecision(s.own.subject, s.own.policy, s.own.period))?.status).toBe('granted');
    expect(s.store.ledger.size).toBe(0);
    expect(s.relayed).toHaveLength(0);
  });

  it("gives a citizen the same 404 for another person's reference as for an unknown one", async () => {
    // Prepare
    const s = seeded();
    const unknownRef = decision({ subject: `ps_${'c'.repeat(32)}` }).ref;
    // Act
    const others = await s.call('POST', '/api/citizen/objections', {
      claims: CALLERS.citizenOther,
      body: { ref: s.own.ref, reason: 'Not mine' },
    });
    const unknown = await s.call('POST', '/api/citizen/objections', {
      claims: CALLERS.citizenOther,
      body: { ref: unknownRef, reason: 'Not mine' },
    });
    // Assess
    expect(others.status).toBe(404);
    expect(unknown.status).toBe(404);
    expect(others.json).toEqual(unknown.json);
    expect((await s.store.getDecision(s.own.subject, s.own.policy, s.own.period))?.status).toBe('granted');
  });

  it('lets a guardian (a recipient, not the subject) object to the child’s decision', async () => {
    // Prepare
    const s = testApi();
    const child = decision({ policy: 'elderly-allowance', recipients: [OWN, OTHER] });
    s.store.put(child);
    // Act
    const r = await s.call('POST', '/api/citizen/objections', {
      claims: CALLERS.citizenOther,
      body: { ref: child.ref, reason: 'The child moved abroad.' },
    });
    // Assess
    expect(r.status).toBe(200);
    expect(s.store.ledger.get(child.subject)?.[0]?.kind).toBe('citizen.objection');
    expect(s.store.ledger.get(child.subject)?.[0]?.actor).toBe('citizen-other');
  });

  it("lists only the citizen's own decisions, without other recipients or review notes", async () => {
    // Prepare
    const s = seeded();
    s.store.put(decision({ subject: OTHER }));
    // Act
    const own = await s.call('GET', '/api/citizen/decisions', { claims: CALLERS.citizenOwn });
    const other = await s.call('GET', '/api/citizen/decisions', { claims: CALLERS.citizenOther });
    // Assess
    const ownItems = own.json.items as Array<Record<string, unknown>>;
    expect(ownItems.map((d) => d.subject)).toEqual([OWN, OWN]);
    expect(
      ownItems.every((d) => (d.recipients as string[]).length === 0 && d.reviewReason === undefined),
    ).toBe(true);
    expect((other.json.items as Array<{ subject: string }>).map((d) => d.subject)).toEqual([OTHER]);
  });

  it("lets a guardian read a child's decision by the reference number of the notice, and nobody else", async () => {
    // Prepare
    const s = testApi();
    const child = decision({
      subject: `ps_${'d'.repeat(32)}`,
      policy: 'elderly-allowance',
      recipients: [OTHER],
    });
    s.store.put(child);
    const unknownRef = decision({ subject: `ps_${'c'.repeat(32)}` }).ref;
    // Act
    const ask = (claims: Claims, query: Record<string, string>) =>
      s.call('GET', '/api/citizen/decisions', { claims, query });
    const guardian = await ask(CALLERS.citizenOther, { ref: child.ref.toLowerCase() });
    const stranger = await ask(CALLERS.citizenOwn, { ref: child.ref });
    const unknown = await ask(CALLERS.citizenOwn, { ref: unknownRef });
    const malformed = await ask(CALLERS.citizenOther, { ref: 'PB-nope' });
    const extra = await ask(CALLERS.citizenOther, { subject: 'x' });
    // Assess
    expect(guardian.status).toBe(200);
    const items = guardian.json.items as Array<Record<string, unknown>>;
    expect(items.map((d) => [d.subject, d.ref])).toEqual([[child.subject, child.ref]]);
    expect(items[0]?.recipients).toEqual([]);
    expect(stranger.status).toBe(404);
    expect(unknown.status).toBe(404);
    expect(stranger.json).toEqual(unknown.json);
    expect(malformed.status).toBe(400);
    expect(malformed.json.error).toMatch(/not a reference number/);
    expect(extra.status).toBe(400);
    expect(extra.json.error).toMatch(/unknown parameter subject/);
  });

  it("lists a guardian's wards' decisions from the notices delivered to them, while they are recipients", async () => {
    // Prepare
    const s = seeded();
    const child = decision({
      subject: `ps_${'d'.repeat(32)}`,
      policy: 'childcare-subsidy',
      recipients: [OTHER],
    });
    const former = decision({
      subject: `ps_${'e'.repeat(32)}`,
      policy: 'childcare-subsidy',
      period: '2026',
      recipients: [OWN],
    });
    s.store.put(child);
    s.store.put(former);
    s.store.deliver(OTHER, child.ref);
    s.store.deliver(OTHER, child.ref);
    // A notice delivered to OTHER about a decision whose recipients no longer include OTHER.
    s.store.deliver(OTHER, former.ref);
    // Act
    const guardian = await s.call('GET', '/api/citizen/decisions', { claims: CALLERS.citizenOther });
    const own = await s.call('GET', '/api/citizen/decisions', { claims: CALLERS.citizenOwn });
    // Assess
    expect(guardian.status).toBe(200);
    const items = guardian.json.items as Array<Record<string, unknown>>;
    expect(items.map((d) => [d.subject, d.ref])).toEqual([[child.subject, child.ref]]);
    expect(items[0]?.recipients).toEqual([]);
    expect((own.json.items as Array<{ subject: string }>).map((d) => d.subject)).toEqual([OWN, OWN]);
  });

  it('refuses a citizen token that carries no subject claim', async () => {
    // Prepare
    const s = seeded();
    // Act
    const r = await s.call('GET', '/api/citizen/decisions', { claims: { sub: 'c', role: 'citizen' } });
    // Assess
    expect(r.status).toBe(403);
    expect(r.json.error).toMatch(/pb:subject/);
  });

  it('refuses a caller with none of the roles', async () => {
    // Prepare
    const s = seeded();
    // Act
    const r = await s.call('GET', '/api/decisions', {
      claims: { sub: 'x', 'cognito:groups': '[operators]' },
    });
    // Assess
    expect(r.status).toBe(403);
  });
});

describe('Function: principalFrom', () => {
  it('reads roles from cognito:groups in every form API Gateway and issuers use', () => {
    expect(claimList('[reviewer auditor]')).toEqual(['reviewer', 'auditor']);
    expect(claimList('["auditor"]')).toEqual(['auditor']);
    expect(claimList(['citizen'])).toEqual(['citizen']);
    expect(claimList('reviewer,auditor')).toEqual(['reviewer', 'auditor']);
    expect(claimList(undefined)).toEqual([]);
  });

  it('gives the most powerful role of several', () => {
    expect(principalFrom({ sub: 'u', 'cognito:groups': '[auditor reviewer]' }).role).toBe('reviewer');
    expect(principalFrom({ sub: 'u', role: 'citizen', 'cognito:groups': ['auditor'] }).role).toBe('auditor');
  });

  it('answers 401 without a subject claim', () => {
    expect(() => principalFrom({ role: 'reviewer' })).toThrow(ApiError);
    try {
      principalFrom({ role: 'reviewer' });
    } catch (e) {
      expect((e as ApiError).status).toBe(401);
    }
  });
});
