/**
 * The shapes of the rule files (`rules/<policy>.json`), parameter files (`rules/params/*.json`) and
 * test-case files (`rules/<policy>.test.json`). Everything here is data: no field is ever run as code.
 */
import { z } from 'zod';
import type { Ratio } from '../facts/derived.ts';
import type { Fen, Outcome, Period, SubjectKind } from '../types.ts';

/** A reference to a parameter, resolved to its value in force on the first day of the period. */
export interface ParamRef {
  param: string;
}

/** A number written in the rule, or a parameter reference. */
export type NumberOrParam = number | ParamRef;

/** The right-hand side of a comparison. Object values other than `{param}` are refused. */
export type ConditionValue = string | number | boolean | null | Array<string | number | boolean> | ParamRef;

/** The operators a rule may use (json-rules-engine's comparison operators plus `startsWith`). */
export const OPERATORS = [
  'equal',
  'notEqual',
  'lessThan',
  'lessThanInclusive',
  'greaterThan',
  'greaterThanInclusive',
  'in',
  'notIn',
  'contains',
  'doesNotContain',
  'startsWith',
] as const;

/** One allow-listed operator name. */
export type Operator = (typeof OPERATORS)[number];

/** How an operator reads in explanations. */
export const OPERATOR_SYMBOL: Record<Operator, string> = {
  equal: '==',
  notEqual: '!=',
  lessThan: '<',
  lessThanInclusive: '<=',
  greaterThan: '>',
  greaterThanInclusive: '>=',
  in: 'in',
  notIn: 'not in',
  contains: 'contains',
  doesNotContain: 'does not contain',
  startsWith: 'starts with',
};

/**
 * A comparison. `name` is the reason reported when the comparison is false (e.g. `age-below-80`).
 * `params` feed a derived fact (json-rules-engine's fact params); `path` picks a property of an
 * object fact (dotted names only).
 */
export interface LeafCondition {
  name: string;
  fact: string;
  operator: Operator;
  value: ConditionValue;
  path?: string;
  params?: Record<string, NumberOrParam>;
  description?: string;
}

/** A json-rules-engine condition tree. A named `any`/`not` reports its name when it fails. */
export type ConditionNode =
  | { all: ConditionNode[]; name?: string; description?: string }
  | { any: ConditionNode[]; name?: string; description?: string }
  | { not: ConditionNode; name: string; description?: string }
  | LeafCondition;

/** One band of a tiered amount: matches when the fact is within [min, max] or one of `in`. */
export interface AmountTier {
  min?: NumberOrParam;
  max?: NumberOrParam;
  in?: Array<string | number>;
  amount: AmountSpec;
}

/** The declarative amount of a benefit, in fen. */
export type AmountSpec =
  | { kind: 'fixed'; value: NumberOrParam }
  | { kind: 'tiered'; fact: string; tiers: AmountTier[] }
  | { kind: 'percentOf'; fact: string; numerator: NumberOrParam; denominator: NumberOrParam }
  | { kind: 'perCountedMonth'; perMonth: NumberOrParam };

/** Where a rule comes from in law. */
export interface LegalReference {
  document: string;
  article: string;
  link: string;
}

/** Who hears about a grant, with which message templates. */
export interface NotificationSpec {
  templateIds: string[];
  recipients: 'subject' | 'guardians';
}

/** The effective window of a policy, in the form of its period unit (`2023`/`2024-01`); `to` inclusive. */
export interface EffectiveWindow {
  from: Period;
  to?: Period;
}

/** A policy as published: one rule file. */
export interface Policy {
  id: string;
  /** The rule version as written (semver or integer), as a string. */
  version: string;
  title: { 'zh-CN': string; en: string };
  description?: string;
  legalReference: LegalReference;
  subjectKind: SubjectKind;
  periodUnit: 'year' | 'month';
  effective: EffectiveWindow;
  conditions: ConditionNode;
  amount: AmountSpec;
  notification: NotificationSpec;
  /** Share (0..1) of grants sampled for human review. */
  reviewSampleRate: number;
  /** The rule file's name inside the rules directory. */
  file: string;
  /** sha256 (hex) of the canonical JSON of the rule file. */
  contentHash: string;
}

/** A parameter value: an integer (fen, count, percent), a text, or an exact ratio. */
export type ParamValue = number | string | Ratio;

/** One dated value of a parameter: in force from `from` (inclusive) to `to` (inclusive) or the next value. */
export interface DatedValue {
  from: string;
  to?: string;
  value: ParamValue;
}

/** A named parameter with its dated values. */
export interface Parameter {
  name: string;
  description?: string;
  unit?: string;
  values: DatedValue[];
  /** The parameter file's name relative to the rules directory (`params/x.json`). */
  file: string;
}

/** One test case beside a rule file. */
export interface RuleTestCase {
  name: string;
  subject?: string;
  kind: SubjectKind;
  period: Period;
  facts: Record<string, unknown>;
  expected: { outcome: Outcome; amount: Fen | null; reasons?: string[] };
}

// ---------------------------------------------------------------------------------------------
// zod schemas of the parts that are plain records. Condition trees and amounts are walked by hand
// in validate.ts so each problem gets an exact JSON path and a one-line message.

const nonEmpty = z.string().min(1, 'must not be empty');

/** Top level of a rule file. */
export const PolicyFileSchema = z.strictObject({
  $comment: z.string().optional(),
  id: z.string().regex(/^[a-z0-9]+(?:-[a-z0-9]+)*$/, 'must be kebab-case, e.g. elderly-allowance'),
  version: z.union([
    z.string().regex(/^\d+\.\d+\.\d+(?:-[0-9A-Za-z.-]+)?$/, {
      error: (issue) =>
        typeof issue.input === 'string' && /^[1-9]\d*$/.test(issue.input)
          ? `"${issue.input}" is a text: write the whole number without quotes (${issue.input}), or semver as "${issue.input}.0.0"`
          : 'must be semver (1.2.3) or a positive integer',
    }),
    z.number().int().positive(),
  ]),
  title: z.strictObject({ 'zh-CN': nonEmpty, en: nonEmpty }),
  description: z.string().optional(),
  legalReference: z.strictObject({
    document: nonEmpty,
    article: nonEmpty,
    link: z.url({ protocol: /^https?$/, error: 'must be an http(s) link' }),
  }),
  subjectKind: z.enum(['person', 'enterprise']),
  periodUnit: z.enum(['year', 'month']),
  effective: z.strictObject({ from: z.string(), to: z.string().optional() }),
  conditions: z.unknown(),
  amount: z.unknown(),
  notification: z.strictObject({
    templateIds: z.array(z.string().regex(/^[a-z0-9][a-z0-9.-]*$/, 'must be a template id')).min(1),
    recipients: z.enum(['subject', 'guardians']),
  }),
  reviewSampleRate: z.number().min(0).max(1),
});

const RatioSchema = z.strictObject({
  numerator: z.number().int(),
  denominator: z.number().int().positive(),
});

/** A parameter file: `{"parameters": [{name, description?, unit?, values: [{from, to?, value}]}]}`. */
export const ParamFileSchema = z.strictObject({
  $comment: z.string().optional(),
  parameters: z
    .array(
      z.strictObject({
        name: z
          .string()
          .regex(/^[a-z0-9]+(?:[.-][a-z0-9]+)*$/, 'must be dotted kebab-case, e.g. elderly.amount.80-89'),
        description: z.string().optional(),
        unit: z.enum(['fen', 'count', 'percent', 'years', 'ratio', 'text', 'region-prefix']).optional(),
        values: z
          .array(
            z.strictObject({
              from: z.string(),
              to: z.string().optional(),
              value: z.union([z.number().int(), z.string(), RatioSchema], {
                error:
                  'must be a whole number (fen, count, years, percent), a text, or a ratio {numerator, denominator}',
              }),
            }),
          )
          .min(1),
      }),
    )
    .min(1),
});

/** A test-case file: an array of cases. */
export const TestFileSchema = z.array(
  z.strictObject({
    name: nonEmpty,
    subject: z.string().optional(),
    kind: z.enum(['person', 'enterprise']),
    period: z.string(),
    facts: z.record(z.string(), z.unknown()),
    expected: z.strictObject({
      outcome: z.enum(['eligible', 'not-eligible']),
      amount: z.number().int().nullable(),
      reasons: z.array(z.string()).optional(),
    }),
  }),
);
