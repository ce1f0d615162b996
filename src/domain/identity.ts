/**
 * Identity numbers of the two kinds of subject: the resident identity number of a person
 * (GB 11643, 18 characters) and the unified social credit code of an enterprise (GB 32100,
 * 18 characters). Validators, generators (for synthetic data and tests) and patterns that find
 * raw numbers in arbitrary text (security scans, redaction).
 *
 * Only the format and the check character are enforced, as the event contract requires; the
 * birth date embedded in a person id is not checked, because the contract does not promise it.
 */

const PERSON_WEIGHTS = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2] as const;
const PERSON_CHECK = '10X98765432';
const PERSON_FORMAT = /^[0-9]{17}[0-9X]$/;

/** The 31 characters a unified social credit code is written with (no I, O, S, V, Z). */
export const CREDIT_CODE_ALPHABET = '0123456789ABCDEFGHJKLMNPQRTUWXY';
const CREDIT_WEIGHTS = [1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28] as const;
const CREDIT_FORMAT = /^[0-9A-HJ-NPQRTUWXY]{18}$/;

/** The GB 11643 check character of the first 17 digits of a resident identity number. */
export function personCheckDigit(body17: string): string {
  if (!/^[0-9]{17}$/.test(body17)) throw new Error('a person id body is 17 digits');
  let sum = 0;
  for (let i = 0; i < 17; i++) sum += Number(body17.charCodeAt(i) - 48) * PERSON_WEIGHTS[i]!;
  return PERSON_CHECK[sum % 11]!;
}

/** The GB 32100 check character of the first 17 characters of a unified social credit code. */
export function creditCheckChar(body17: string): string {
  if (!/^[0-9A-HJ-NPQRTUWXY]{17}$/.test(body17)) throw new Error('a credit code body is 17 code characters');
  let sum = 0;
  for (let i = 0; i < 17; i++) sum += CREDIT_CODE_ALPHABET.indexOf(body17[i]!) * CREDIT_WEIGHTS[i]!;
  return CREDIT_CODE_ALPHABET[(31 - (sum % 31)) % 31]!;
}

/** Why a string is not a valid identity number, or null when it is one. */
export type IdentityProblem = 'format' | 'check-digit' | null;

/** Checks a resident identity number (GB 11643): 17 digits, then a digit or `X` that matches. */
export function personIdProblem(id: string): IdentityProblem {
  if (!PERSON_FORMAT.test(id)) return 'format';
  return personCheckDigit(id.slice(0, 17)) === id[17] ? null : 'check-digit';
}

/** Checks a unified social credit code (GB 32100): 18 code characters, the last one the check. */
export function creditCodeProblem(code: string): IdentityProblem {
  if (!CREDIT_FORMAT.test(code)) return 'format';
  return creditCheckChar(code.slice(0, 17)) === code[17] ? null : 'check-digit';
}

/** True for a valid resident identity number. */
export const isValidPersonId = (id: string): boolean => personIdProblem(id) === null;

/** True for a valid unified social credit code. */
export const isValidCreditCode = (code: string): boolean => creditCodeProblem(code) === null;

/**
 * Builds a valid resident identity number from its parts: the 6-digit region of first
 * registration, the birth date `YYYY-MM-DD` and a 3-digit sequence (odd for men, even for women).
 */
export function makePersonId(region: string, birthDate: string, sequence: number): string {
  if (!/^[0-9]{6}$/.test(region)) throw new Error('region is 6 digits');
  if (!/^[0-9]{4}-[0-9]{2}-[0-9]{2}$/.test(birthDate)) throw new Error('birthDate is YYYY-MM-DD');
  if (!Number.isInteger(sequence) || sequence < 0 || sequence > 999) throw new Error('sequence is 0..999');
  const body = region + birthDate.replaceAll('-', '') + String(sequence).padStart(3, '0');
  return body + personCheckDigit(body);
}

/**
 * Builds a valid unified social credit code: registration authority and type (`91` = company
 * registered with market regulation, `92` = individual business), the 6-digit region, and a
 * 9-character organisation code made from `serial`.
 */
export function makeCreditCode(authorityAndType: string, region: string, serial: number): string {
  if (!/^[0-9A-HJ-NPQRTUWXY]{2}$/.test(authorityAndType))
    throw new Error('authority and type are 2 code chars');
  if (!/^[0-9]{6}$/.test(region)) throw new Error('region is 6 digits');
  if (!Number.isSafeInteger(serial) || serial < 0) throw new Error('serial is a non-negative integer');
  // The organisation code in base 31 over the code alphabet, 9 characters, so serials never collide.
  let org = '';
  let n = serial;
  for (let i = 0; i < 9; i++) {
    org = CREDIT_CODE_ALPHABET[n % 31]! + org;
    n = Math.floor(n / 31);
  }
  if (n > 0) throw new Error('serial too large for a 9-character organisation code');
  const body = authorityAndType + region + org;
  return body + creditCheckChar(body);
}

/**
 * Patterns that find candidate raw identity numbers in arbitrary text: 18 characters of the
 * right shape, not part of a longer run of letters or digits. A candidate is a raw identity
 * number only when its check character is valid; use {@link findIdentityNumbers} for that.
 * Both have the global flag: reset `lastIndex` or use `matchAll`.
 */
export const IDENTITY_PATTERN = {
  person: /(?<![0-9A-Za-z])[0-9]{17}[0-9X](?![0-9A-Za-z])/g,
  enterprise: /(?<![0-9A-Za-z])[0-9A-HJ-NPQRTUWXY]{18}(?![0-9A-Za-z])/g,
} as const;

/**
 * A run of 15 or more digits (optionally ending in X) could be a resident identity number (18
 * characters, or 15 for the old format), typed with ASCII or full-width digits, in any case, next
 * to letters or not. Free text (review reasons, notices) never needs one, so such a run is refused
 * or masked rather than trusted to be something else. Global flag: use `replace`/`matchAll`, or
 * {@link hasIdentityLike}.
 */
export const IDENTITY_LIKE = /[0-9０-９]{14,}[0-9０-９XxＸｘ]/g;

/**
 * True when a text holds an identity-number-like run of digits (see `IDENTITY_LIKE`), or a valid
 * identity number written in groups (see {@link hasGroupedIdentity}).
 */
export const hasIdentityLike = (text: string): boolean =>
  text.search(IDENTITY_LIKE) !== -1 || hasGroupedIdentity(text);

/** Full-width digits, letters and space as their ASCII forms; dashes of every kind as `-`. */
const toHalfWidth = (text: string): string =>
  text
    .replace(/[\uFF01-\uFF5E]/g, (c) => String.fromCharCode(c.charCodeAt(0) - 0xfee0))
    .replace(/[\u3000\u00A0\u2000-\u200B\u202F\u205F]/g, ' ')
    .replace(/[\u2010-\u2015\u2212\uFE58\uFE63]/g, '-');

/**
 * Groups of digits (a person id may end in X) joined by one space, dash or dot each; not a slash:
 * `010-65123456/13800138000` is two numbers.
 */
const GROUPED_DIGITS = /[0-9](?:[ \t\-.]?[0-9])*(?:[ \t\-.]?[Xx])?/g;
/** Groups of credit-code characters joined by one space, dash or dot each. */
const GROUPED_CODE = /[0-9A-HJ-NPQRTUWXY](?:[ \t\-.]?[0-9A-HJ-NPQRTUWXY])*/g;
/**
 * A calendar month or date (`2025-03`, `2025-03-01`, `2025/3/1`): dates listed one after another
 * (`2025-03 2025-04 2025-05`) are not one grouped number. Read as a separator.
 */
const DATE =
  /(?<![0-9])(?:19|20)[0-9]{2}([-/.])(?:0?[1-9]|1[0-2])(?:\1(?:0?[1-9]|[12][0-9]|3[01]))?(?![0-9])/g;
/** A decision reference number (`PB-2025-7K3M-9QXD-2F8A`), which is never an identity number. */
const REFERENCE = /PB[ -]?[0-9]{4}(?:[ -]?[0-9A-Z]{4}){3}/gi;

/**
 * True when a text holds what could be an identity number written in groups, as people type them
 * (`110105 1949 1231 002X`, `110105-19491231-002x`, full-width digits and spaces too): digits
 * joined by single spaces, dashes or dots that add up to 18 or more (an X at the end
 * counts), or a valid unified social credit code in groups. A decision reference number is not
 * read as one, nor a run made only of dates or months (`2025-03 2025-04 2025-05`).
 */
export function hasGroupedIdentity(text: string): boolean {
  const t = toHalfWidth(text).replace(REFERENCE, ' ');
  for (const m of t.matchAll(GROUPED_DIGITS)) {
    // A run made only of dates or months (`2025-03 2025-04 2025-05`) is a list of dates.
    if (m[0].replace(DATE, '').replace(/[ \t\-.]/g, '') === '') continue;
    if (m[0].replace(/[^0-9Xx]/g, '').length >= 18) return true;
  }
  // Credit codes typed in groups, in either case; the six digits of the region (characters 3 to 8)
  // keep runs of ordinary upper-case words from being read as one.
  for (const m of t.toUpperCase().matchAll(GROUPED_CODE)) {
    const code = m[0].replace(/[^0-9A-Z]/g, '');
    if (code.length === m[0].length || !/[A-Z]/.test(code)) continue;
    for (let i = 0; i + 18 <= code.length; i++) {
      const window = code.slice(i, i + 18);
      if (/^..[0-9]{6}/.test(window) && isValidCreditCode(window)) return true;
    }
  }
  return false;
}

/**
 * A text with every valid raw identity number (checked character included, credit codes too)
 * replaced by as many `*`.
 */
export function maskIdentities(text: string): string {
  const found = findIdentityNumbers(text);
  if (found.length === 0) return text;
  let out = '';
  let at = 0;
  for (const f of found) {
    out += text.slice(at, f.index) + '*'.repeat(f.value.length);
    at = f.index + f.value.length;
  }
  return out + text.slice(at);
}

/** A raw identity number found in text. */
export interface FoundIdentity {
  kind: 'person' | 'enterprise';
  value: string;
  index: number;
}

/**
 * Every valid raw identity number in a text (person ids and credit codes with valid check
 * characters), in order of position. A string valid as both is reported once, as a person id.
 */
export function findIdentityNumbers(text: string): FoundIdentity[] {
  const found = new Map<number, FoundIdentity>();
  for (const m of text.matchAll(IDENTITY_PATTERN.person)) {
    if (isValidPersonId(m[0])) found.set(m.index, { kind: 'person', value: m[0], index: m.index });
  }
  for (const m of text.matchAll(IDENTITY_PATTERN.enterprise)) {
    if (!found.has(m.index) && isValidCreditCode(m[0])) {
      found.set(m.index, { kind: 'enterprise', value: m[0], index: m.index });
    }
  }
  return [...found.values()].sort((a, b) => a.index - b.index);
}
