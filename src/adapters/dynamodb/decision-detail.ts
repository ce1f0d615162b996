/**
 * A decision's detail (its explanation, provenance, reasons, rule-set hash: everything outside
 * {@link DECISION_SUMMARY}) is stored as one compressed binary attribute. No index projects it and
 * no query filters on it, and it is most of the item, whose size sets the write units of every
 * grant. Only the decision adapter packs and unpacks it, so every reader sees the decision exactly
 * as the engine made it.
 *
 * Format: one byte naming the codec, then the compressed UTF-8 JSON of an object.
 * - Codec 1: Brotli.
 * - Codec 2 (written): deflate-raw with a preset dictionary of explanations (detail-dictionary.ts),
 *   which holds the wording every explanation of a policy shares: a grant's item fits in 1 KB.
 * An unknown codec byte is an error, never a silent empty detail.
 */
import { brotliDecompressSync, deflateRawSync, inflateRawSync } from 'node:zlib';
import { DECISION_SUMMARY } from '../../resources.ts';
import { DETAIL_DICTIONARY_1 } from './detail-dictionary.ts';

/** The attribute that holds a decision's packed detail. */
export const DETAIL_ATTRIBUTE = 'detail';

const BROTLI_JSON = 1;
const DEFLATE_DICTIONARY_1_JSON = 2;
const CODECS: ReadonlySet<number> = new Set([BROTLI_JSON, DEFLATE_DICTIONARY_1_JSON]);
const dictionary1 = Buffer.from(DETAIL_DICTIONARY_1, 'utf8');

const SUMMARY: ReadonlySet<string> = new Set(DECISION_SUMMARY);

/** Whether a decision field is kept uncompressed (what lists, indexes and filters need). */
export const isSummaryField = (name: string): boolean => SUMMARY.has(name);

/** Packs an object's JSON: codec byte, then deflate-raw with the preset dictionary. */
export function packDetail(detail: Record<string, unknown>): Uint8Array {
  const json = Buffer.from(JSON.stringify(detail), 'utf8');
  const compressed = deflateRawSync(json, { level: 9, dictionary: dictionary1 });
  const out = new Uint8Array(compressed.length + 1);
  out[0] = DEFLATE_DICTIONARY_1_JSON;
  out.set(compressed, 1);
  return out;
}

/** Whether a stored binary value is a packed detail (by its codec byte). */
export const isPackedDetail = (value: unknown): value is Uint8Array =>
  value instanceof Uint8Array && value.length > 1 && CODECS.has(value[0]!);

/** The object a packed detail holds. Throws on an unknown codec or damaged bytes. */
export function unpackDetail(packed: Uint8Array): Record<string, unknown> {
  if (!(packed instanceof Uint8Array) || packed.length < 2)
    throw new Error('decision detail: not a packed value');
  const body = packed.subarray(1);
  let json: string;
  if (packed[0] === DEFLATE_DICTIONARY_1_JSON)
    json = inflateRawSync(body, { dictionary: dictionary1 }).toString('utf8');
  else if (packed[0] === BROTLI_JSON) json = brotliDecompressSync(body).toString('utf8');
  else throw new Error(`decision detail: unknown codec ${packed[0]}`);
  const value: unknown = JSON.parse(json);
  if (!value || typeof value !== 'object' || Array.isArray(value))
    throw new Error('decision detail: not an object');
  return value as Record<string, unknown>;
}
