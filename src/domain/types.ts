/**
 * Core vocabulary shared by every part of the engine. Nothing here imports AWS.
 */

/** Money: an integer number of fen (0.01 CNY). Never a float. */
export type Fen = number;

export type SubjectKind = 'person' | 'enterprise';

/** A period: `YYYY` for a year, `YYYY-MM` for a month. */
export type Period = string;

export type Outcome = 'eligible' | 'not-eligible';

/**
 * Fact values of one subject as the evaluators read them: fact name to value; per-year facts are
 * objects keyed by year (`{"2025": 120000000}`). A missing key is an unknown fact.
 * This is exactly the `facts` object of `pb evaluate`'s input lines.
 */
export type FactValues = Record<string, unknown>;

/** Where a fact value came from. */
export interface Provenance {
  eventId: string;
  source: string;
  occurredAt: string;
}

/**
 * One stored fact with its provenance. `value` undefined means the fact was cleared
 * (e.g. `dpf.disability-revoked`), which still takes part in latest-wins merging.
 */
export interface FactRecord extends Provenance {
  value?: unknown;
}

/**
 * Stored facts of a subject keyed by fact key: `name` for plain facts, `name#YYYY` for per-year facts.
 */
export type StoredFacts = Record<string, FactRecord>;

/** One line of `pb evaluate` output, plus the explanation the engine keeps. */
export interface EvaluationResult {
  subject: string;
  policy: string;
  period: Period;
  outcome: Outcome;
  amount: Fen | null;
  reasons: string[];
}
