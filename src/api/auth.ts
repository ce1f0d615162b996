/**
 * Who is calling, from the claims of a verified JWT. In AWS the HTTP API's Cognito authoriser has
 * checked the token before the function runs; locally `src/local/http.ts` does the same with its
 * own issuer. Either way this module only reads claims, never verifies signatures.
 */
import { forbidden, unauthorized } from './http.ts';

/** The roles of the review API, most powerful first. */
export const ROLES = ['reviewer', 'auditor', 'citizen'] as const;

/** `reviewer` reads and acts; `auditor` only reads; `citizen` sees and answers their own decisions. */
export type Role = (typeof ROLES)[number];

/** The claim that carries a citizen's subject pseudonym. */
export const SUBJECT_CLAIM = 'pb:subject';

/** The caller. */
export interface Principal {
  /** The identity provider's id of the caller (`sub`); it becomes the ledger entry's actor. */
  id: string;
  role: Role;
  /** A citizen's own subject pseudonym (`pb:subject`). */
  subject?: string;
}

/** Claims as API Gateway hands them over: arrays may already be flattened to `"[a b]"`. */
export type Claims = Record<string, string | number | boolean | string[]>;

/**
 * Group names from a claim. Cognito puts groups in `cognito:groups` as a JSON array; API Gateway's
 * JWT authoriser passes arrays on as the string `[a b]`, and some issuers use commas.
 */
export function claimList(value: Claims[string] | undefined): string[] {
  if (value === undefined) return [];
  if (Array.isArray(value)) return value.map(String);
  const text = String(value).trim();
  if (text.startsWith('[') && text.endsWith(']')) {
    try {
      const parsed: unknown = JSON.parse(text);
      if (Array.isArray(parsed)) return parsed.map(String);
    } catch {
      // `[a b]`: API Gateway's flattened form, not JSON.
    }
    return text
      .slice(1, -1)
      .split(/[\s,]+/)
      .filter(Boolean);
  }
  return text.split(/[\s,]+/).filter(Boolean);
}

/**
 * The caller from verified claims; 401 when there is no identity at all. A caller in several
 * groups gets the most powerful role; one in none of ours gets 403.
 */
export function principalFrom(claims: Claims | undefined): Principal {
  const id = claims?.sub;
  if (!claims || typeof id !== 'string' || id === '') throw unauthorized();
  const named = new Set([...claimList(claims['cognito:groups']), ...claimList(claims.role)]);
  const role = ROLES.find((r) => named.has(r));
  if (!role) throw forbidden('your account has none of the roles reviewer, auditor or citizen');
  const subject = claims[SUBJECT_CLAIM];
  return { id, role, ...(typeof subject === 'string' && subject !== '' ? { subject } : {}) };
}

/** 403 unless the caller has one of the roles. */
export function requireRole(p: Principal, roles: readonly Role[], what: string): void {
  if (!roles.includes(p.role)) {
    throw forbidden(`${what} is for ${roles.join(' or ')} accounts; yours is ${p.role}`);
  }
}
