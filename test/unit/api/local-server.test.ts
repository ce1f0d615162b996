import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SignJWT } from 'jose';
import { type ReviewServer, startReviewServer } from '../../../src/local/http.ts';

// The server's 401s and its console files need no store: the handler is reached only by /api/me,
// which reads the token's claims and nothing else.
const SECRET = new TextEncoder().encode('x'.repeat(40));
let server: ReviewServer;

beforeAll(async () => {
  server = await startReviewServer({ port: 0, secret: SECRET });
});

afterAll(async () => {
  await server.close();
});

const get = (path: string, token?: string) =>
  fetch(`${server.url}${path}`, { headers: token ? { authorization: `Bearer ${token}` } : {} });

async function signed(
  claims: Record<string, unknown>,
  opts: { key?: Uint8Array; issuer?: string; expires?: string | number } = {},
) {
  return new SignJWT(claims)
    .setProtectedHeader({ alg: 'HS256' })
    .setIssuer(opts.issuer ?? 'pb-local')
    .setSubject('someone')
    .setIssuedAt()
    .setExpirationTime(opts.expires ?? '1h')
    .sign(opts.key ?? SECRET);
}

describe('Function: startReviewServer', () => {
  describe('API authentication', () => {
    const cases: Array<[string, () => Promise<string | undefined>]> = [
      ['no Authorization header', async () => undefined],
      ['a token that is not a JWT', async () => 'not-a-token'],
      ['a token signed with another key', () => signed({ role: 'reviewer' }, { key: new Uint8Array(32) })],
      ['a token from another issuer', () => signed({ role: 'reviewer' }, { issuer: 'elsewhere' })],
      [
        'an expired token',
        () => signed({ role: 'reviewer' }, { expires: Math.floor(Date.now() / 1000) - 60 }),
      ],
      [
        'an unsigned token (alg none)',
        async () =>
          `${Buffer.from('{"alg":"none"}').toString('base64url')}.${Buffer.from(
            JSON.stringify({ sub: 'x', role: 'reviewer', iss: 'pb-local' }),
          ).toString('base64url')}.`,
      ],
    ];
    for (const [what, token] of cases) {
      it(`answers 401 with a one-line JSON error for ${what}`, async () => {
        // Act
        const r = await get('/api/decisions', await token());
        // Assess
        expect(r.status).toBe(401);
        expect(r.headers.get('www-authenticate')).toMatch(/^Bearer/);
        const body = (await r.json()) as Record<string, unknown>;
        expect(Object.keys(body)).toEqual(['error']);
      });
    }

    it('passes a valid token on to the handler with its claims', async () => {
      // Act
      const reviewer = await (await get('/api/me', server.reviewerToken)).json();
      const auditor = await (await get('/api/me', server.auditorToken)).json();
      const subject = `ps_${'d'.repeat(32)}`;
      const citizen = await (await get('/api/me', await server.tokenFor('citizen', subject))).json();
      // Assess
      expect(reviewer).toEqual({ id: 'local-reviewer', role: 'reviewer' });
      expect(auditor).toEqual({ id: 'local-auditor', role: 'auditor' });
      expect(citizen).toEqual({ id: `citizen-${subject}`, role: 'citizen', subject });
    });

    it('refuses a query parameter given twice by its name (API Gateway would join the values)', async () => {
      // Act
      const r = await get('/api/me?limit=10&limit=20', server.reviewerToken);
      // Assess
      expect(r.status).toBe(400);
      expect(await r.json()).toEqual({ error: 'limit: given more than once: give each parameter once' });
    });

    it('answers 403 (not 401) to a valid token of the wrong role', async () => {
      // Act
      const r = await get('/api/review-queue', await server.tokenFor('citizen', `ps_${'e'.repeat(32)}`));
      // Assess
      expect(r.status).toBe(403);
    });
  });

  describe('Console files', () => {
    it('serves the console at / without a token', async () => {
      // Act
      const r = await get('/');
      // Assess
      expect(r.status).toBe(200);
      expect(r.headers.get('content-type')).toBe('text/html; charset=utf-8');
      expect(await r.text()).toContain('<script src="app.js"');
      expect((await get('/app.js')).headers.get('content-type')).toBe('text/javascript; charset=utf-8');
    });

    it('never serves a file outside the console directory', async () => {
      // Act
      const r = await get('/%2e%2e/package.json');
      // Assess
      expect(r.status).toBe(404);
      expect(await r.text()).not.toContain('"name": "proactive-benefits"');
    });
  });
});
