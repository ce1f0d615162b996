/**
 * The one clock. Domain code takes a `Clock`; the runtime uses the system clock, `pb replay` and
 * `pb tick` a fixed one (`--now`), tests whatever they need.
 */
export interface Clock {
  now(): Date;
}

export const systemClock: Clock = { now: () => new Date() };

/** A clock stopped at one instant. */
export const fixedClock = (at: Date | string): Clock => {
  const d = typeof at === 'string' ? new Date(at) : at;
  if (Number.isNaN(d.getTime())) throw new Error(`invalid date-time: ${String(at)}`);
  return { now: () => new Date(d.getTime()) };
};

const CST_OFFSET_MS = 8 * 3600 * 1000;

/** The civil date-time parts of an instant in China Standard Time (UTC+8, no DST). */
export function chinaParts(at: Date): { year: number; month: number; day: number } {
  const d = new Date(at.getTime() + CST_OFFSET_MS);
  return { year: d.getUTCFullYear(), month: d.getUTCMonth() + 1, day: d.getUTCDate() };
}

/** The month period (`YYYY-MM`) containing an instant, in China Standard Time. */
export function chinaMonth(at: Date): string {
  const p = chinaParts(at);
  return `${p.year}-${String(p.month).padStart(2, '0')}`;
}

/** The year period (`YYYY`) containing an instant, in China Standard Time. */
export function chinaYear(at: Date): string {
  return String(chinaParts(at).year);
}

/** An instant as China Standard Time reads it, with the offset: `2026-01-08T09:00:00+08:00`. */
export function chinaDateTime(at: Date): string {
  return `${new Date(at.getTime() + CST_OFFSET_MS).toISOString().slice(0, 19)}+08:00`;
}
