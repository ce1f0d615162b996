/**
 * Half-up percentages in plain integer arithmetic. `percentHalfUp` (facts/derived.ts) is exact
 * through BigInt, which costs more than the whole rest of an evaluation; while every intermediate
 * value stays a safe integer, doubles are exact too, and the result is the same.
 */
import { percentHalfUp } from '../../facts/derived.ts';

const MAX_SAFE = Number.MAX_SAFE_INTEGER;

/**
 * `amount × numerator / denominator` rounded half-up (towards +∞ at exactly .5) to a whole fen,
 * identical to `percentHalfUp`, including its errors (non-integers, denominator <= 0, overflow),
 * which it leaves to `percentHalfUp` itself.
 */
export function percentHalfUpFast(amount: number, numerator: number, denominator: number): number {
  if (
    !Number.isSafeInteger(amount) ||
    !Number.isSafeInteger(numerator) ||
    !Number.isSafeInteger(denominator) ||
    denominator <= 0
  ) {
    return percentHalfUp(amount, numerator, denominator);
  }
  const n = amount * numerator;
  // 2n + d must stay safe as well: the quotient of floor((2n + d) / 2d) is computed from it.
  if (Math.abs(n) > (MAX_SAFE - denominator) / 2 || 2 * denominator > MAX_SAFE) {
    return percentHalfUp(amount, numerator, denominator);
  }
  const top = 2 * n + denominator;
  const bottom = 2 * denominator;
  // floor division, corrected for the rounding of `/` on large operands.
  let q = Math.floor(top / bottom);
  let r = top - q * bottom;
  while (r < 0) {
    q -= 1;
    r += bottom;
  }
  while (r >= bottom) {
    q += 1;
    r -= bottom;
  }
  return q === 0 ? 0 : q;
}
