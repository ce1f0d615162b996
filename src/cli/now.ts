import { parseOffsetDateTime } from '../domain/events/time.ts';
import { UsageError } from './io.ts';

/**
 * The `--now` option of the commands that run the engine at a given time: an ISO 8601 date-time
 * with an offset naming a real date and time (`2025-02-30T…` is refused, not rolled over to March).
 */
export function nowOption(value: string, example = '2026-03-01T09:00:00+08:00'): string {
  if (parseOffsetDateTime(value) === null) {
    throw new UsageError(`--now '${value}' is not a real ISO 8601 date-time with offset (e.g. ${example})`);
  }
  // The years agency events may name (events.md): grants for year 9999 could never be undone.
  const year = Number(value.slice(0, 4));
  if (year < 2000 || year > 2100) throw new UsageError(`--now '${value}': the year must be 2000 to 2100`);
  return value;
}
