/**
 * Builds API Gateway HTTP API events and a review API over the in-memory store, for the unit tests.
 */
import type { APIGatewayProxyEventV2WithJWTAuthorizer, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import type { OutboxRow } from '../../../src/domain/engine/model.ts';
import { createReviewApi, type ReviewApiHandler } from '../../../src/api/router.ts';
import type { PolicyInfo } from '../../../src/api/view.ts';
import { MemoryReviewStore } from './memory-store.ts';

/** Claims of the callers in the authorisation matrix. */
export type Claims = Record<string, string | number | boolean | string[]>;

/** Subject pseudonyms of the two citizens. */
export const OWN = `ps_${'a'.repeat(32)}`;
export const OTHER = `ps_${'b'.repeat(32)}`;

export const CALLERS = {
  // API Gateway hands Cognito's group array on in its flattened form.
  reviewer: { sub: 'reviewer-1', 'cognito:groups': '[reviewer]' },
  auditor: { sub: 'auditor-1', role: 'auditor' },
  citizenOwn: { sub: 'citizen-own', role: 'citizen', 'pb:subject': OWN },
  citizenOther: { sub: 'citizen-other', role: 'citizen', 'pb:subject': OTHER },
} satisfies Record<string, Claims>;

export const POLICIES: PolicyInfo[] = [
  {
    id: 'elderly-allowance',
    version: '1.0.0',
    title: { 'zh-CN': '高龄津贴', en: 'Municipal allowance for the very old' },
    legalReference: { document: '高龄津贴办法', article: '第三条', link: 'https://example.gov.cn/elderly' },
    reviewSampleRate: 0.02,
  },
];

/** A request as API Gateway would deliver it after its JWT authoriser. */
export function event(
  method: string,
  path: string,
  opts: { claims?: Claims; query?: Record<string, string>; body?: unknown } = {},
): APIGatewayProxyEventV2WithJWTAuthorizer {
  return {
    version: '2.0',
    routeKey: '$default',
    rawPath: path,
    rawQueryString: new URLSearchParams(opts.query ?? {}).toString(),
    headers: {},
    ...(opts.query ? { queryStringParameters: opts.query } : {}),
    requestContext: {
      accountId: 'test',
      apiId: 'test',
      domainName: 'test',
      domainPrefix: 'test',
      http: { method, path, protocol: 'HTTP/1.1', sourceIp: '127.0.0.1', userAgent: 'vitest' },
      requestId: 'req-1',
      routeKey: '$default',
      stage: '$default',
      time: '',
      timeEpoch: 0,
      authorizer: opts.claims
        ? { principalId: '', integrationLatency: 0, jwt: { claims: opts.claims, scopes: null } }
        : (undefined as never),
    },
    ...(opts.body === undefined
      ? {}
      : { body: typeof opts.body === 'string' ? opts.body : JSON.stringify(opts.body) }),
    isBase64Encoded: false,
  };
}

/** A review API over a fresh in-memory store, with a relay that records what it was given. */
export function testApi(opts: { relayFails?: boolean } = {}) {
  const store = new MemoryReviewStore();
  const relayed: OutboxRow[] = [];
  const errors: string[] = [];
  let clock = Date.parse('2025-04-01T02:00:00.000Z');
  const api: ReviewApiHandler = createReviewApi({
    store,
    relay: {
      relay: async (rows) => {
        if (opts.relayFails) throw new Error('queue unavailable');
        relayed.push(...rows);
      },
    },
    now: () => {
      clock += 1000;
      return new Date(clock);
    },
    policies: () => POLICIES,
    logError: (m) => errors.push(m),
  });
  const call = async (
    method: string,
    path: string,
    o: { claims?: Claims; query?: Record<string, string>; body?: unknown } = {},
  ) => {
    const r: APIGatewayProxyStructuredResultV2 = await api(event(method, path, o));
    const text = r.body ?? '';
    const isJson = String(r.headers?.['content-type'] ?? '').startsWith('application/json');
    return {
      status: r.statusCode ?? 200,
      headers: r.headers ?? {},
      text,
      json: isJson ? JSON.parse(text) : undefined,
    };
  };
  return { store, relayed, errors, api, call };
}
