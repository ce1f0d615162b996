/**
 * Sealed text: AES-256-GCM under a key derived from the pseudonym key. Quarantined events keep
 * their raw body (an operator must be able to replay them after a fix) without a raw identity
 * number ever sitting readable in a table; previews and logs use {@link redactIdentifiers}.
 */
import { createCipheriv, createDecipheriv, hkdfSync, randomBytes } from 'node:crypto';
import { findIdentityNumbers } from './identity.ts';
import { pseudonymise } from './pseudonym.ts';

/** HKDF label of the sealing key: distinct from every other use of the pseudonym key. */
const SEAL_INFO = 'pb/sealed-body/aes-256-gcm/v1';
/** Format tag of sealed strings, so a future scheme can be told apart. */
const VERSION = 'v1';

const derived = new WeakMap<Buffer, Buffer>();

function sealKey(pseudonymKey: Buffer): Buffer {
  let k = derived.get(pseudonymKey);
  if (!k) {
    k = Buffer.from(hkdfSync('sha256', pseudonymKey, Buffer.alloc(0), SEAL_INFO, 32));
    derived.set(pseudonymKey, k);
  }
  return k;
}

/** Encrypts text: `v1.` + base64url(12-byte IV ‖ 16-byte tag ‖ ciphertext). `key` is the pseudonym key. */
export function seal(key: Buffer, plaintext: string): string {
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', sealKey(key), iv);
  cipher.setAAD(Buffer.from(VERSION));
  const body = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
  return `${VERSION}.${Buffer.concat([iv, cipher.getAuthTag(), body]).toString('base64url')}`;
}

/** Decrypts what {@link seal} made under the same key; throws when it was altered or the key differs. */
export function open(key: Buffer, sealed: string): string {
  const dot = sealed.indexOf('.');
  if (dot < 0 || sealed.slice(0, dot) !== VERSION) throw new Error('not a sealed v1 string');
  const buf = Buffer.from(sealed.slice(dot + 1), 'base64url');
  if (buf.length < 28) throw new Error('sealed string too short');
  const decipher = createDecipheriv('aes-256-gcm', sealKey(key), buf.subarray(0, 12));
  decipher.setAAD(Buffer.from(VERSION));
  decipher.setAuthTag(buf.subarray(12, 28));
  return Buffer.concat([decipher.update(buf.subarray(28)), decipher.final()]).toString('utf8');
}

/**
 * Replaces every raw identity number in a text (person ids and credit codes with a valid check
 * character) by its pseudonym, so previews and log lines still show which subject they concern.
 */
export function redactIdentifiers(text: string, key: Buffer): string {
  const found = findIdentityNumbers(text);
  if (found.length === 0) return text;
  let out = '';
  let at = 0;
  for (const f of found) {
    out += text.slice(at, f.index) + pseudonymise(key, f.value);
    at = f.index + f.value.length;
  }
  return out + text.slice(at);
}

/**
 * An agency's event id as it may be stored or shown: an identity number in it, written in any case
 * (a lower-case check `x`, a credit code in lower case), becomes its pseudonym; anything else,
 * timestamps and serial numbers included, stays as sent. With `maskLookalikes` (what a rejection
 * shows, never a key), an 18-character run shaped like a resident identity number that fails its
 * check (a mistyped one) is masked as well.
 */
export function redactEventId(id: string, key: Buffer, maskLookalikes = false): string {
  const folded = id.replace(/(?<![0-9A-Za-z])[0-9A-Za-z]{18}(?![0-9A-Za-z])/g, (run) => {
    if (!/[a-z]/.test(run)) return run;
    const upper = run.toUpperCase();
    return findIdentityNumbers(upper).length > 0 ? upper : run;
  });
  const redacted = redactIdentifiers(folded, key);
  const out = redacted === folded ? id : redacted;
  return maskLookalikes ? out.replace(/(?<![0-9A-Za-z])\d{17}[0-9Xx](?![0-9A-Za-z])/g, '[masked]') : out;
}

/**
 * Makes arbitrary text (a rejected body's preview, a rejection reason) safe to store or log: folds
 * full-width digits and a lower-case check character to the forms identity numbers are written in,
 * replaces every valid identity number by its pseudonym, then masks any remaining run of 15 or more
 * digits, so a number with a wrong check character does not slip through either.
 */
export function scrubIdentifiers(text: string, key: Buffer): string {
  const folded = text.normalize('NFKC').replace(/(\d{17})x/g, '$1X');
  return redactIdentifiers(folded, key).replace(/\d{15,}[0-9X]*/g, '[masked]');
}
