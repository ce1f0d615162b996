/**
 * HTTP plumbing of the review API: the error type routes throw, and the response shapes of API
 * Gateway's payload format 2.0. Nothing here knows about decisions.
 */
import type { APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import type { z } from 'zod';
import { maskIdentities } from '../domain/identity.ts';

/** An error a caller can act on: its status and one sentence, sent as `{"error": "..."}`. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

/** 400 with the field named: `limit: must be at most 200`. */
export const badRequest = (message: string): ApiError => new ApiError(400, message);
/** 401: no identity at all. */
export const unauthorized = (message = 'sign in first: send a valid bearer token'): ApiError =>
  new ApiError(401, message);
/** 403: known identity, wrong role. */
export const forbidden = (message: string): ApiError => new ApiError(403, message);
/** 404: also what a citizen gets for somebody else's decision, so existence never leaks. */
export const notFound = (message: string): ApiError => new ApiError(404, message);
/** 409: the action does not fit the decision's current status. */
export const conflict = (message: string): ApiError => new ApiError(409, message);

/** The first problem of a failed zod parse as `field: message` (the field path dotted). */
export function firstIssue(error: z.ZodError, prefix = ''): string {
  const issue = error.issues[0];
  if (!issue) return 'the request is not valid';
  const path = [prefix, ...issue.path.map(String)].filter((p) => p !== '').join('.');
  return path ? `${path}: ${issue.message}` : issue.message;
}

/** Parses with a zod schema, turning the first problem into a 400 that names the field. */
export function parseOr400<T>(schema: z.ZodType<T>, value: unknown, prefix = ''): T {
  const r = schema.safeParse(value);
  if (!r.success) throw badRequest(firstIssue(r.error, prefix));
  return r.data;
}

const SECURITY_HEADERS = {
  'cache-control': 'no-store',
  'x-content-type-options': 'nosniff',
} as const;

/**
 * Response bodies are masked of anything shaped like a valid raw identity number: subjects are
 * pseudonyms already; this is the last line of defence for free text.
 */
export { maskIdentities };

/** A JSON response. */
export function json(status: number, body: unknown): APIGatewayProxyStructuredResultV2 {
  return {
    statusCode: status,
    headers: { 'content-type': 'application/json; charset=utf-8', ...SECURITY_HEADERS },
    body: maskIdentities(JSON.stringify(body)),
  };
}

/** The one-line JSON error response of an {@link ApiError}. */
export const errorResponse = (e: ApiError): APIGatewayProxyStructuredResultV2 =>
  json(e.status, { error: e.message });

/** A CSV download. */
export function csvResponse(filename: string, text: string): APIGatewayProxyStructuredResultV2 {
  return {
    statusCode: 200,
    headers: {
      'content-type': 'text/csv; charset=utf-8',
      'content-disposition': `attachment; filename="${filename}"`,
      ...SECURITY_HEADERS,
    },
    body: maskIdentities(text),
  };
}
