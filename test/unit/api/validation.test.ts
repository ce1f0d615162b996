import { describe, expect, it } from 'vitest';
import { CALLERS, OWN } from './fixtures.ts';
import { testApi } from './fixtures.ts';
import { REVIEW_API_ROUTES } from '../../../src/api/routes.ts';
import { decision } from './memory-store.ts';

const ID_NUMBER = '110105199307210867'; // valid check digit: a real-looking resident identity number

function seeded() {
  const t = testApi();
  const d = decision({ subject: OWN });
  t.store.put(d);
  const base = `/api/decisions/${d.subject}/${d.policy}/${d.period}`;
  return { ...t, d, base };
}

/** Asserts a 400 whose one-line error names the field. */
function expect400(r: { status: number; json: Record<string, unknown> }, field: RegExp) {
  expect(r.status).toBe(400);
  expect(Object.keys(r.json)).toEqual(['error']);
  expect(String(r.json.error)).toMatch(field);
  expect(String(r.json.error)).not.toContain('\n');
}

describe('Route: GET /api/decisions', () => {
  const cases: Array<[string, Record<string, string>, RegExp]> = [
    ['a limit that is not a number', { limit: 'ten' }, /^limit: must be a whole number/],
    ['a limit of 0', { limit: '0' }, /^limit: must be at least 1/],
    ['a limit above 200', { limit: '201' }, /^limit: must be at most 200/],
    ['an unknown status', { status: 'paid' }, /^status: must be one of granted, /],
    ['a malformed policy id', { policy: 'Elderly Allowance' }, /^policy: must be a policy id/],
    ['a malformed period', { period: '2025-13' }, /^period: must be a period written YYYY or YYYY-MM/],
    ['a malformed from', { from: 'yesterday' }, /^from: must be a date YYYY-MM-DD/],
    ['an impossible date', { from: '2025-02-30' }, /^from: must be a date/],
    ['a date-time without offset', { to: '2025-03-01T08:00:00' }, /^to: must be a date/],
    ['from after to', { from: '2025-04-01', to: '2025-03-01' }, /^from: must not be later than to/],
    ['an unknown parameter', { polciy: 'elderly-allowance' }, /unknown parameter polciy/],
    ['a cursor that is not one', { cursor: 'not-a-cursor' }, /^cursor: not a cursor this API issued/],
  ];
  for (const [what, query, field] of cases) {
    it(`answers 400 for ${what}`, async () => {
      // Prepare
      const s = seeded();
      // Act
      const r = await s.call('GET', '/api/decisions', { claims: CALLERS.reviewer, query });
      // Assess
      expect400(r, field);
    });
  }

  it('answers 400 for a cursor issued for another filter', async () => {
    // Prepare: two decisions and a page of one, so there is a cursor.
    const s = seeded();
    s.store.put(decision({ createdAt: '2025-03-21T00:00:00.000Z' }));
    const first = await s.call('GET', '/api/decisions', { claims: CALLERS.reviewer, query: { limit: '1' } });
    expect(first.json.cursor).toEqual(expect.any(String));
    // Act
    const r = await s.call('GET', '/api/decisions', {
      claims: CALLERS.reviewer,
      query: { limit: '1', status: 'revoked', cursor: String(first.json.cursor) },
    });
    // Assess
    expect400(r, /^cursor: belongs to another filter/);
  });

  it('treats empty filter values as absent (a blank form field means any)', async () => {
    // Prepare
    const s = seeded();
    // Act
    const r = await s.call('GET', '/api/decisions', {
      claims: CALLERS.reviewer,
      query: { policy: '', period: '', status: '' },
    });
    // Assess
    expect(r.status).toBe(200);
    expect((r.json.items as unknown[]).length).toBe(1);
  });
});

describe('Route: GET /api/review-queue', () => {
  it('answers 400 for an unknown parameter and for a bad limit', async () => {
    // Prepare
    const s = seeded();
    // Act
    const unknown = await s.call('GET', '/api/review-queue', {
      claims: CALLERS.auditor,
      query: { status: 'x' },
    });
    const limit = await s.call('GET', '/api/review-queue', {
      claims: CALLERS.auditor,
      query: { limit: '-1' },
    });
    // Assess
    expect400(unknown, /unknown parameter status/);
    expect400(limit, /^limit: must be a whole number/);
  });
});

describe('Route: GET /api/export.csv', () => {
  it('answers 400 for paging parameters and bad filters', async () => {
    // Prepare
    const s = seeded();
    // Act
    const paging = await s.call('GET', '/api/export.csv', { claims: CALLERS.auditor, query: { limit: '5' } });
    const status = await s.call('GET', '/api/export.csv', {
      claims: CALLERS.auditor,
      query: { status: 'nope' },
    });
    // Assess
    expect400(paging, /unknown parameter limit/);
    expect400(status, /^status: /);
  });
});

describe('Route: GET /api/decisions/{subject}/{policy}/{period}', () => {
  it('answers 400 naming a malformed subject, policy or period, and 404 for an absent decision', async () => {
    // Prepare
    const s = seeded();
    // Act
    const subject = await s.call('GET', `/api/decisions/${ID_NUMBER}/elderly-allowance/2025-03`, {
      claims: CALLERS.reviewer,
    });
    const policy = await s.call('GET', `/api/decisions/${OWN}/ELDERLY/2025-03`, { claims: CALLERS.reviewer });
    const period = await s.call('GET', `/api/decisions/${OWN}/elderly-allowance/March`, {
      claims: CALLERS.reviewer,
    });
    const absent = await s.call('GET', `/api/decisions/${OWN}/elderly-allowance/2024-01`, {
      claims: CALLERS.reviewer,
    });
    // Assess
    expect400(subject, /^subject: must be a subject pseudonym/);
    expect(subject.text).not.toContain(ID_NUMBER);
    expect400(policy, /^policy: /);
    expect400(period, /^period: /);
    expect(absent.status).toBe(404);
  });
});

describe('Route: POST /api/decisions/{subject}/{policy}/{period}/revoke', () => {
  const cases: Array<[string, unknown, RegExp]> = [
    ['no body', undefined, /^body\.reason: is required/],
    ['no reason', {}, /^body\.reason: is required/],
    ['a blank reason', { reason: '   ' }, /^body\.reason: is required/],
    [
      'a reason of 501 characters',
      { reason: 'x'.repeat(501) },
      /^body\.reason: must be at most 500 characters/,
    ],
    ['a reason that is not text', { reason: 42 }, /^body\.reason: is required/],
    [
      'an identity number in the reason',
      { reason: `Duplicate of ${ID_NUMBER}` },
      /^body\.reason: must not contain an identity number/,
    ],
    ['an unknown field', { reason: 'ok', amount: 0 }, /^body: unknown field amount/],
    ['a body that is not JSON', '{reason:', /^body: must be a JSON object/],
  ];
  for (const [what, body, field] of cases) {
    it(`answers 400 for ${what}, and changes nothing`, async () => {
      // Prepare
      const s = seeded();
      // Act
      const r = await s.call('POST', `${s.base}/revoke`, { claims: CALLERS.reviewer, body });
      // Assess
      expect400(r, field);
      expect(r.text).not.toContain(ID_NUMBER);
      expect(s.store.ledger.size).toBe(0);
      expect((await s.store.getDecision(s.d.subject, s.d.policy, s.d.period))?.status).toBe('granted');
    });
  }

  it('accepts a reason of exactly 500 characters, trimmed', async () => {
    // Prepare
    const s = seeded();
    // Act
    const r = await s.call('POST', `${s.base}/revoke`, {
      claims: CALLERS.reviewer,
      body: { reason: ` ${'x'.repeat(500)} ` },
    });
    // Assess
    expect(r.status).toBe(200);
    expect(s.store.ledger.get(s.d.subject)?.[0]?.payload.reason).toBe('x'.repeat(500));
  });
});

describe('Route: POST /api/decisions/{subject}/{policy}/{period}/confirm', () => {
  it('answers 400 for an unknown field or an over-long note', async () => {
    // Prepare
    const s = seeded();
    // Act
    const unknown = await s.call('POST', `${s.base}/confirm`, {
      claims: CALLERS.reviewer,
      body: { ok: true },
    });
    const long = await s.call('POST', `${s.base}/confirm`, {
      claims: CALLERS.reviewer,
      body: { reason: 'y'.repeat(501) },
    });
    // Assess
    expect400(unknown, /^body: unknown field ok/);
    expect400(long, /^body\.reason: must be at most 500/);
  });
});

describe('Route: POST /api/decisions/{subject}/{policy}/{period}/resolve', () => {
  it('answers 400 for a missing or unknown resolution and a missing reason', async () => {
    // Prepare
    const s = seeded();
    // Act
    const missing = await s.call('POST', `${s.base}/resolve`, {
      claims: CALLERS.reviewer,
      body: { reason: 'r' },
    });
    const unknown = await s.call('POST', `${s.base}/resolve`, {
      claims: CALLERS.reviewer,
      body: { resolution: 'ignore', reason: 'r' },
    });
    const noReason = await s.call('POST', `${s.base}/resolve`, {
      claims: CALLERS.reviewer,
      body: { resolution: 'keep' },
    });
    // Assess
    expect400(missing, /^body\.resolution: must be keep, adjust or revoke/);
    expect400(unknown, /^body\.resolution: must be keep, adjust or revoke/);
    expect400(noReason, /^body\.reason: is required/);
  });
});

describe('Route: POST /api/citizen/objections and /declines', () => {
  for (const route of ['/api/citizen/objections', '/api/citizen/declines']) {
    const cases: Array<[string, unknown, RegExp]> = [
      ['no reference', { reason: 'r' }, /^body\.ref: is required/],
      [
        'a malformed reference',
        { ref: 'PB-2025-XXXX', reason: 'r' },
        /^body\.ref: is not a reference number/,
      ],
      ['no reason', { ref: 'PB-2025-AAAA-AAAA-AAAA' }, /^body\.(ref|reason): /],
      ['an identity number as reason', { ref: 'x', reason: ID_NUMBER }, /^body\.(ref|reason): /],
    ];
    for (const [what, body, field] of cases) {
      it(`${route} answers 400 for ${what}`, async () => {
        // Prepare
        const s = seeded();
        // Act
        const r = await s.call('POST', route, { claims: CALLERS.citizenOwn, body });
        // Assess
        expect400(r, field);
        expect(r.text).not.toContain(ID_NUMBER);
      });
    }

    it(`${route} reads a reference typed loosely (lower case, spaces, O for 0)`, async () => {
      // Prepare
      const s = seeded();
      const typed = s.d.ref.toLowerCase().replace(/-/g, ' ').replace(/0/g, 'o');
      // Act
      const r = await s.call('POST', route, {
        claims: CALLERS.citizenOwn,
        body: { ref: typed, reason: 'Please check' },
      });
      // Assess
      expect(r.status).toBe(200);
    });
  }
});

describe('Routing', () => {
  it('answers 404 for an unknown endpoint and 405 for a wrong method', async () => {
    // Prepare
    const s = seeded();
    // Act
    const unknown = await s.call('GET', '/api/nothing', { claims: CALLERS.reviewer });
    const method = await s.call('DELETE', s.base, { claims: CALLERS.reviewer });
    // Assess
    expect(unknown.status).toBe(404);
    expect(method.status).toBe(405);
    expect(method.headers.allow).toBe('GET');
  });
});

describe('Constant: REVIEW_API_ROUTES', () => {
  it('lists only routes the handler serves (what API Gateway forwards must not 404)', async () => {
    // Prepare
    const s = seeded();
    for (const route of REVIEW_API_ROUTES) {
      const path = route.path
        .replace('{subject}', s.d.subject)
        .replace('{policy}', s.d.policy)
        .replace('{period}', s.d.period);
      const claims = path.includes('/citizen/') ? CALLERS.citizenOwn : CALLERS.reviewer;
      // Act
      const r = await s.call(route.method, path, { claims, body: {} });
      // Assess
      expect(
        [404, 405].includes(r.status) && /no such endpoint|not allowed/.test(String(r.json.error)),
        path,
      ).toBe(false);
    }
  });
});
