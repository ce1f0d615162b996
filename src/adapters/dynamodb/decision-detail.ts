/**
 * A decision's detail (its explanation, provenance, reasons, rule-set hash: everything outside
 * {@link DECISION_SUMMARY}) is stored as one compressed binary attribute. No index projects it and
 * no query filters on it, and it is most of the item, whose size sets the write units of every grant.
 * Only the decision adapter packs and unpacks it, so every reader sees the
 * decision exactly as the engine made it.
 *
 * Format: one byte naming the codec, then the compressed UTF-8 JSON of an object. Codec 1 is
 * Brotli. An unknown codec byte is an error, never a silent empty detail.
 */
import { brotliCompressSync, brotliDecompressSync, constants } from 'node:zlib';
import { DECISION_SUMMARY } from '../../resources.ts';

/** The attribute that holds a decision's packed detail. */
export const DETAIL_ATTRIBUTE = 'detail';

const BROTLI_JSON = 1;

const SUMMARY: ReadonlySet<string> = new Set(DECISION_SUMMARY);

/** Whether a decision field is kept uncompressed (what lists, indexes and filters need). */
export const isSummaryField = (name: string): boolean => SUMMARY.has(name);

/** Packs an object's JSON: codec byte, then Brotli. */
export function packDetail(detail: Record<string, unknown>): Uint8Array {
  const json = Buffer.from(JSON.stringify(detail), 'utf8');
  const compressed = brotliCompressSync(json, {
    params: {
      [constants.BROTLI_PARAM_MODE]: constants.BROTLI_MODE_TEXT,
      [constants.BROTLI_PARAM_QUALITY]: 11,
      [constants.BROTLI_PARAM_SIZE_HINT]: json.length,
    },
  });
  const out = new Uint8Array(compressed.length + 1);
  out[0] = BROTLI_JSON;
  out.set(compressed, 1);
  return out;
}

/** Whether a stored binary value is a packed detail (by its codec byte). */
export const isPackedDetail = (value: unknown): value is Uint8Array =>
  value instanceof Uint8Array && value.length > 1 && value[0] === BROTLI_JSON;

/** The object a packed detail holds. Throws on an unknown codec or damaged bytes. */
export function unpackDetail(packed: Uint8Array): Record<string, unknown> {
  if (!(packed instanceof Uint8Array) || packed.length < 2)
    throw new Error('decision detail: not a packed value');
  if (packed[0] !== BROTLI_JSON) throw new Error(`decision detail: unknown codec ${packed[0]}`);
  const json = brotliDecompressSync(packed.subarray(1)).toString('utf8');
  const value: unknown = JSON.parse(json);
  if (!value || typeof value !== 'object' || Array.isArray(value))
    throw new Error('decision detail: not an object');
  return value as Record<string, unknown>;
}
