/**
 * Every route of the review API as API Gateway declares it. The CDK app can build its HTTP API
 * routes from this list and the router's tests check each one is served, so the two cannot drift.
 * No imports: infra code may read it without pulling in the domain.
 */
export const REVIEW_API_ROUTES = [
  { method: 'GET', path: '/api/decisions' },
  { method: 'GET', path: '/api/decisions/{subject}/{policy}/{period}' },
  { method: 'POST', path: '/api/decisions/{subject}/{policy}/{period}/confirm' },
  { method: 'POST', path: '/api/decisions/{subject}/{policy}/{period}/revoke' },
  { method: 'POST', path: '/api/decisions/{subject}/{policy}/{period}/resolve' },
  { method: 'GET', path: '/api/review-queue' },
  { method: 'GET', path: '/api/export.csv' },
  { method: 'POST', path: '/api/citizen/objections' },
  { method: 'POST', path: '/api/citizen/declines' },
  { method: 'GET', path: '/api/citizen/decisions' },
  { method: 'GET', path: '/api/policies' },
  { method: 'GET', path: '/api/me' },
] as const satisfies ReadonlyArray<{ method: 'GET' | 'POST'; path: string }>;
