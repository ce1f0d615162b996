/**
 * Parses one raw agency event (a queue message body) into a valid {@link AgencyEvent}, or says
 * precisely why not. Never throws on any input: a bad event must become one quarantined record,
 * not a failed batch.
 */
import { createHash, createHmac, hkdfSync } from 'node:crypto';
import canonicalize from 'canonicalize';
import type { z } from 'zod';
import {
  type AgencyEvent,
  EVENT_ID_PATTERN,
  EVENT_ROUTING,
  EVENT_SCHEMAS,
  type EventType,
  IDENTITY_ISSUE,
  MAX_EVENT_BYTES,
} from '../../../events/schemas.ts';
import { withArticle } from '../words.ts';

/**
 * Machine-readable prefixes of rejection reasons; a reason is `<prefix>: <detail>` on one line.
 * Stable: operators filter the quarantine by them.
 */
export const REJECTION_PREFIXES = [
  'too-large',
  'malformed-json',
  'forbidden-key',
  'not-an-object',
  'missing-field',
  'unknown-type',
  'source-mismatch',
  'subject-kind-mismatch',
  'unknown-field',
  'invalid-identity',
  'invalid-field',
] as const;

/** The kind of a rejection, the part of its reason before the colon. */
export type RejectionPrefix = (typeof REJECTION_PREFIXES)[number];

/** What {@link parseAgencyEvent} returns. */
export type ParseResult =
  | { ok: true; event: AgencyEvent; bodyHash: string }
  | { ok: false; reason: string; id: string | null };

/** Keys that could reach an object's prototype if some later code copied them; never accepted. */
export const FORBIDDEN_KEYS: ReadonlySet<string> = new Set(['__proto__', 'constructor', 'prototype']);

/**
 * Parses and validates one raw event. `bodyHash` identifies the event's content independently of
 * its serialisation (keys in any order, any whitespace): a hex digest of its canonical JSON
 * (RFC 8785). Pass the pseudonym key as `hashKey` whenever the hash is stored: the unkeyed
 * SHA-256 of a body whose other fields are known could be brute-forced back to the raw identity
 * number (a person id has only ~10^3 unknowns once region and birth date are known), while the
 * keyed form (HMAC-SHA256 under a key derived from it) cannot.
 */
export function parseAgencyEvent(raw: string, hashKey?: Buffer): ParseResult {
  const bytes = Buffer.byteLength(raw, 'utf8');
  if (bytes > MAX_EVENT_BYTES) {
    // Named by its own id when the body is JSON at all (the rejection list says which event it was).
    let id: string | null = null;
    try {
      id = topLevelId(JSON.parse(raw));
    } catch {
      id = null;
    }
    return reject('too-large', `${bytes} bytes > ${MAX_EVENT_BYTES}`, id);
  }
  let value: unknown;
  try {
    // JSON.parse defines `__proto__` as an own data property, so parsing itself cannot pollute;
    // the walk below refuses such keys before any other code reads or copies the object.
    value = JSON.parse(raw);
  } catch (e) {
    // No event could be read, so no id either (not a guess from the text).
    return reject('malformed-json', (e as Error).message, null);
  }
  const forbidden = findForbiddenKey(value);
  if (forbidden !== null) return reject('forbidden-key', forbidden, topLevelId(value));
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return reject(
      'not-an-object',
      `got ${value === null ? 'null' : Array.isArray(value) ? 'array' : typeof value}`,
      null,
    );
  }
  const obj = value as Record<string, unknown>;
  const id = topLevelId(obj);

  // Envelope routing first, so the reason names the real problem (a wrong source) rather than a
  // consequence of it (the data not matching whatever schema we would have guessed).
  if (!Object.hasOwn(obj, 'type')) return reject('missing-field', 'type', id);
  if (typeof obj.type !== 'string') return reject('invalid-field', 'type: expected a string', id);
  if (!Object.hasOwn(obj, 'schemaVersion')) return reject('missing-field', 'schemaVersion', id);
  const version = obj.schemaVersion;
  if (!Object.hasOwn(EVENT_SCHEMAS, obj.type) || version !== 1) {
    if (Object.hasOwn(EVENT_SCHEMAS, obj.type) && typeof version !== 'number') {
      return reject('invalid-field', 'schemaVersion: expected an integer', id);
    }
    return reject('unknown-type', `${obj.type} v${show(version)}`, id);
  }
  const type = obj.type as EventType;
  const routing = EVENT_ROUTING[type];
  if (!Object.hasOwn(obj, 'source')) return reject('missing-field', 'source', id);
  if (obj.source !== routing.source) {
    return reject('source-mismatch', `${type} must come from ${routing.source}, not ${show(obj.source)}`, id);
  }
  const subject = obj.subject;
  if (
    typeof subject === 'object' &&
    subject !== null &&
    Object.hasOwn(subject, 'kind') &&
    (subject as { kind: unknown }).kind !== routing.kind
  ) {
    const kind = show((subject as { kind: unknown }).kind);
    return reject('subject-kind-mismatch', `${type} is about ${withArticle(routing.kind)}, not ${kind}`, id);
  }

  const result = EVENT_SCHEMAS[type].safeParse(obj);
  if (!result.success) return rejectIssue(result.error.issues, obj, id);
  const event = result.data as AgencyEvent;
  return { ok: true, event, bodyHash: bodyHash(event, hashKey) };
}

/** The digest {@link parseAgencyEvent} gives as `bodyHash`, keyed when `hashKey` is given. */
export function bodyHash(event: AgencyEvent, hashKey?: Buffer): string {
  const canonical = canonicalize(event) ?? '';
  if (!hashKey) return createHash('sha256').update(canonical).digest('hex');
  const key = Buffer.from(hkdfSync('sha256', hashKey, Buffer.alloc(0), 'pb/event-body-hash/v1', 32));
  return createHmac('sha256', key).update(canonical).digest('hex');
}

/** The prefix of a rejection reason. */
export function reasonPrefix(reason: string): string {
  const i = reason.indexOf(':');
  return i < 0 ? reason : reason.slice(0, i);
}

function reject(prefix: RejectionPrefix, detail: string, id: string | null): ParseResult {
  return { ok: false, reason: `${prefix}: ${sanitise(detail)}`, id };
}

/**
 * Makes a detail safe to store and print: one line, bounded, and with anything long enough to be
 * an identity number masked, because details echo input (type names, keys, JSON.parse snippets).
 */
function sanitise(detail: string): string {
  const clean = detail
    .replace(/[\p{Cc}\u2028\u2029]/gu, '?')
    .replace(/[0-9A-Za-z]{15,}/g, (run) => (/[0-9]{6}/.test(run) ? '[masked]' : run));
  return clean.length > 160 ? `${clean.slice(0, 159)}…` : clean;
}

/** A value for a reason: strings as they are, anything else as JSON. */
function show(v: unknown): string {
  if (typeof v === 'string') return v;
  if (v === undefined) return 'undefined';
  return JSON.stringify(v) ?? String(v);
}

function topLevelId(value: unknown): string | null {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return null;
  const id = (value as Record<string, unknown>).id;
  return Object.hasOwn(value, 'id') && typeof id === 'string' && EVENT_ID_PATTERN.test(id) ? id : null;
}

/**
 * Path of the first forbidden key at any depth, or null. Iterative, so a deeply nested body
 * cannot overflow the stack.
 */
export function findForbiddenKey(value: unknown): string | null {
  const stack: Array<[unknown, string]> = [[value, '']];
  while (stack.length > 0) {
    const [v, path] = stack.pop()!;
    if (typeof v !== 'object' || v === null) continue;
    if (Array.isArray(v)) {
      for (let i = v.length - 1; i >= 0; i--) stack.push([v[i], `${path}[${i}]`]);
      continue;
    }
    const keys = Object.keys(v);
    for (const k of keys) if (FORBIDDEN_KEYS.has(k)) return path === '' ? k : `${path}.${k}`;
    for (let i = keys.length - 1; i >= 0; i--) {
      const k = keys[i]!;
      stack.push([(v as Record<string, unknown>)[k], path === '' ? k : `${path}.${k}`]);
    }
  }
  return null;
}

function formatPath(path: ReadonlyArray<PropertyKey>): string {
  let s = '';
  for (const seg of path) {
    if (typeof seg === 'number') s += `[${seg}]`;
    else s += s === '' ? String(seg) : `.${String(seg)}`;
  }
  return s === '' ? '(event)' : s;
}

function hasPath(obj: unknown, path: ReadonlyArray<PropertyKey>): boolean {
  let cur: unknown = obj;
  for (const seg of path) {
    if (typeof cur !== 'object' || cur === null || !Object.hasOwn(cur, seg)) return false;
    cur = (cur as Record<PropertyKey, unknown>)[seg];
  }
  return true;
}

/**
 * Turns zod's issues into one reason. Issues are ranked so the most telling one wins when there
 * are several: an unknown field, then a bad identity number, then a missing field, then the first
 * other problem in document order.
 */
function rejectIssue(issues: z.core.$ZodIssue[], obj: unknown, id: string | null): ParseResult {
  const ranked = issues.map((issue) => {
    if (issue.code === 'unrecognized_keys') {
      const key = issue.keys[0] ?? '?';
      const path = issue.path.length === 0 ? key : `${formatPath(issue.path)}.${key}`;
      return { rank: 0, prefix: 'unknown-field' as const, detail: path };
    }
    if (issue.code === 'custom' && issue.params?.reason === IDENTITY_ISSUE) {
      return {
        rank: 1,
        prefix: 'invalid-identity' as const,
        detail: `${formatPath(issue.path)}: ${issue.message}`,
      };
    }
    // Whatever zod calls it (a wrong type, a missing enum option), an absent key is a missing field.
    if (!hasPath(obj, issue.path)) {
      return { rank: 2, prefix: 'missing-field' as const, detail: formatPath(issue.path) };
    }
    return {
      rank: 3,
      prefix: 'invalid-field' as const,
      detail: `${formatPath(issue.path)}: ${issue.message}`,
    };
  });
  const best = ranked.reduce((a, b) => (b.rank < a.rank ? b : a));
  return reject(best.prefix, best.detail, id);
}
