/**
 * Pseudonyms: what the engine stores, logs and evaluates instead of raw identity numbers.
 * A pseudonym is a keyed HMAC of the raw number, so it is stable (the same person always gets
 * the same one, which is what lets facts from different agencies meet) and cannot be reversed or
 * recomputed without the key.
 */
import { createHmac } from 'node:crypto';
import type { AgencyEvent, EventType, RawIdentityNumber } from '../../events/schemas.ts';

/** A pseudonym, `ps_` + 32 lowercase hex characters (128 bits of HMAC-SHA256). */
export type Pseudonym = string & { readonly __brand: 'Pseudonym' };

/** Matches a pseudonym; it can never match an identity number (lowercase, prefix, length 35). */
export const PSEUDONYM_PATTERN = /^ps_[0-9a-f]{32}$/;

/** True when a string has the shape of a pseudonym. */
export const isPseudonym = (s: string): s is Pseudonym => PSEUDONYM_PATTERN.test(s);

/** The pseudonym of a raw identity number under a key (the configured pseudonym key). */
export function pseudonymise(key: Buffer, rawId: string): Pseudonym {
  return `ps_${createHmac('sha256', key).update(rawId, 'utf8').digest('hex').slice(0, 32)}` as Pseudonym;
}

/** Replaces the raw identity numbers of an event type by pseudonyms, keeping the rest. */
type Pseudonymised<E> = E extends { type: 'civil.birth-registered'; data: infer D }
  ? Omit<E, 'subject' | 'data'> & {
      subject: { kind: 'person'; id: Pseudonym };
      data: Omit<D, 'guardians'> & { guardians: Pseudonym[] };
    }
  : E extends { subject: { kind: infer K } }
    ? Omit<E, 'subject'> & { subject: { kind: K; id: Pseudonym } }
    : never;

/**
 * An agency event after pseudonymisation: the subject id and every guardian are {@link Pseudonym}s.
 * The raw numbers are branded `RawIdentityNumber`, so neither type is assignable to the other.
 */
export type PseudonymousEvent = Pseudonymised<AgencyEvent>;

/** The pseudonymous event of one type. */
export type PseudonymousEventOf<T extends EventType> = Extract<PseudonymousEvent, { type: T }>;

/** Pseudonymises every identity number of a valid event: the subject and any guardians. */
export function pseudonymiseEvent(key: Buffer, event: AgencyEvent): PseudonymousEvent {
  const subject = { kind: event.subject.kind, id: pseudonymise(key, event.subject.id) };
  if (event.type === 'civil.birth-registered') {
    const guardians = event.data.guardians.map((g: RawIdentityNumber) => pseudonymise(key, g));
    return { ...event, subject: { kind: 'person', id: subject.id }, data: { ...event.data, guardians } };
  }
  return { ...event, subject } as PseudonymousEvent;
}
