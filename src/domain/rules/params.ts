/**
 * Dated parameters (OpenFisca style): a change of amount is a new dated value, never an edit of
 * logic. The value used for a period is the one in force on the period's first day.
 */
import type { DatedValue, Parameter, ParamValue } from './model.ts';

/** A parameter value in force, with the date it has been in force from. */
export interface ParamInForce {
  name: string;
  value: ParamValue;
  from: string;
}

/** All parameters of a policy set by name. */
export type ParamTable = ReadonlyMap<string, Parameter>;

/**
 * The value of a parameter in force on a date (`YYYY-MM-DD`): the value with the latest `from` on
 * or before the date, unless its `to` has passed. A value without `to` lasts until the next one.
 */
export function valueInForce(param: Parameter, on: string): ParamInForce | undefined {
  let best: DatedValue | undefined;
  for (const v of param.values) if (v.from <= on && (!best || v.from > best.from)) best = v;
  if (!best || (best.to !== undefined && best.to < on)) return undefined;
  return { name: param.name, value: best.value, from: best.from };
}

/**
 * Problems of a parameter's dated values, with the index of the value concerned: out of date order,
 * `to` before `from`, or two values in force on the same day (overlap).
 */
export function datedValueProblems(values: readonly DatedValue[]): Array<{ index: number; message: string }> {
  const out: Array<{ index: number; message: string }> = [];
  values.forEach((v, i) => {
    if (v.to !== undefined && v.to < v.from)
      out.push({ index: i, message: `to ${v.to} is before from ${v.from}` });
    const prev = values[i - 1];
    if (!prev) return;
    if (v.from === prev.from) {
      out.push({ index: i, message: `overlaps values[${i - 1}]: both in force from ${v.from}` });
    } else if (v.from < prev.from) {
      out.push({
        index: i,
        message: `from ${v.from} is before values[${i - 1}].from ${prev.from}: list values in date order`,
      });
    } else if (prev.to !== undefined && prev.to >= v.from) {
      out.push({ index: i, message: `overlaps values[${i - 1}], in force until ${prev.to}, from ${v.from}` });
    }
  });
  return out;
}

/** A compact, comparable form of a parameter value for explanations. */
export function showParamValue(v: ParamValue): string {
  if (typeof v === 'object') return `${v.numerator}/${v.denominator}`;
  return typeof v === 'string' ? JSON.stringify(v) : String(v);
}

/** Names of the dated parameters a rule's conditions or amount read (`{"param": name}` at any depth), added to `out`. */
export function paramNamesIn(node: unknown, out: Set<string> = new Set()): Set<string> {
  if (Array.isArray(node)) for (const n of node) paramNamesIn(n, out);
  else if (node !== null && typeof node === 'object') {
    const obj = node as Record<string, unknown>;
    if (typeof obj.param === 'string') out.add(obj.param);
    for (const v of Object.values(obj)) paramNamesIn(v, out);
  }
  return out;
}
