/**
 * Request schemas of the review API (zod 4). Every message names what to send instead, and
 * {@link parseOr400} prefixes it with the field, so a 400 reads `limit: must be at most 200`.
 */
import { z } from 'zod';
import type { DecisionStatus } from '../domain/engine/model.ts';
import { parseOffsetDateTime } from '../domain/events/time.ts';
import { findIdentityNumbers, hasIdentityLike } from '../domain/identity.ts';
import { parseReference } from '../domain/notifications/index.ts';
import { PSEUDONYM_PATTERN } from '../domain/pseudonym.ts';

/** Every status a decision can have. */
export const STATUSES = [
  'granted',
  'eligibility-changed',
  'confirmed',
  'revoked',
  'declined',
  'objected',
] as const satisfies readonly DecisionStatus[];

/** Most results a page may hold. */
export const MAX_LIMIT = 200;
/** Results of a page when `limit` is not given. */
export const DEFAULT_LIMIT = 50;

const POLICY = z
  .string()
  .regex(/^[a-z0-9]+(?:-[a-z0-9]+)*$/, 'must be a policy id such as elderly-allowance');
const PERIOD = z
  .string()
  .regex(/^\d{4}(?:-(?:0[1-9]|1[0-2]))?$/, 'must be a period written YYYY or YYYY-MM, e.g. 2025-03');
const SUBJECT = z
  .string()
  .regex(PSEUDONYM_PATTERN, 'must be a subject pseudonym such as ps_ followed by 32 hex digits');

const CST_OFFSET = '+08:00';

/**
 * A point in time for `from`/`to`: a civil date (`2025-03-01`, read in China Standard Time, the
 * whole day) or an ISO date-time with its offset. Returned as the ISO UTC form `createdAt` uses.
 */
const instant = (end: boolean) =>
  z.string().transform((text, ctx) => {
    const dateOnly = /^\d{4}-\d{2}-\d{2}$/.test(text);
    const withZone = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(?::\d{2}(?:\.\d{1,3})?)?(?:Z|[+-]\d{2}:\d{2})$/.test(
      text,
    );
    const d = dateOnly
      ? new Date(`${text}T${end ? '23:59:59.999' : '00:00:00.000'}${CST_OFFSET}`)
      : withZone
        ? new Date(text)
        : undefined;
    if (
      !d ||
      Number.isNaN(d.getTime()) ||
      (dateOnly && !sameCivilDate(d, text)) ||
      (withZone && parseOffsetDateTime(text) === null)
    ) {
      ctx.addIssue({
        code: 'custom',
        message: 'must be a date YYYY-MM-DD or a date-time with its offset, e.g. 2025-03-01T08:00:00+08:00',
      });
      return z.NEVER;
    }
    return d.toISOString();
  });

function sameCivilDate(d: Date, text: string): boolean {
  const cst = new Date(d.getTime() + 8 * 3600_000);
  return cst.toISOString().slice(0, 10) === text;
}

const LIMIT = z
  .string()
  .regex(/^\d+$/, 'must be a whole number')
  .transform(Number)
  .pipe(z.number().min(1, 'must be at least 1').max(MAX_LIMIT, `must be at most ${MAX_LIMIT}`));

/** Filters shared by the listing and the CSV export. */
const FILTERS = {
  policy: POLICY.optional(),
  period: PERIOD.optional(),
  status: z.enum(STATUSES, { error: `must be one of ${STATUSES.join(', ')}` }).optional(),
  from: instant(false).optional(),
  to: instant(true).optional(),
};

const fromBeforeTo = (q: { from?: string; to?: string }) => !(q.from && q.to && q.from > q.to);
const FROM_AFTER_TO = { message: 'must not be later than to', path: ['from'] };

/** `GET /api/decisions` query. */
export const ListQuerySchema = z
  .strictObject(
    { ...FILTERS, limit: LIMIT.optional(), cursor: z.string().max(8000, 'is too long').optional() },
    { error: (i) => (i.code === 'unrecognized_keys' ? `unknown parameter ${i.keys.join(', ')}` : undefined) },
  )
  .refine(fromBeforeTo, FROM_AFTER_TO);
export type ListQuery = z.infer<typeof ListQuerySchema>;

/** `GET /api/export.csv` query: the listing's filters, without paging. */
export const ExportQuerySchema = z
  .strictObject(FILTERS, {
    error: (i) => (i.code === 'unrecognized_keys' ? `unknown parameter ${i.keys.join(', ')}` : undefined),
  })
  .refine(fromBeforeTo, FROM_AFTER_TO);
export type ExportQuery = z.infer<typeof ExportQuerySchema>;

/** `GET /api/review-queue` query. */
export const QueueQuerySchema = z.strictObject(
  { limit: LIMIT.optional(), cursor: z.string().max(8000, 'is too long').optional() },
  { error: (i) => (i.code === 'unrecognized_keys' ? `unknown parameter ${i.keys.join(', ')}` : undefined) },
);

/** `{subject}/{policy}/{period}` of a decision's path. */
export const DecisionPathSchema = z.object({ subject: SUBJECT, policy: POLICY, period: PERIOD });

/**
 * A free-text reason: trimmed, 1–500 characters, never an identity number. It is kept for good in
 * the ledger, so anything that could be one is refused: a valid number in any form, any run of
 * 15 or more digits (full-width too, lower-case x too, next to letters too), and 18 or more digits
 * in groups (`110105 1949 1231 002X`).
 */
const reason = z
  .string({ error: 'is required: say why, in up to 500 characters' })
  .trim()
  .min(1, 'is required: say why, in up to 500 characters')
  .max(500, 'must be at most 500 characters')
  .refine(
    (t) => findIdentityNumbers(t).length === 0 && !hasIdentityLike(t),
    'must not contain an identity number (nor 15 or more digits in a row, or 18 or more in groups)',
  );

const body = <T extends z.ZodRawShape>(shape: T) =>
  z.strictObject(shape, {
    error: (i) => (i.code === 'unrecognized_keys' ? `unknown field ${i.keys.join(', ')}` : undefined),
  });

/** `POST …/confirm` body: an optional note. */
export const ConfirmBodySchema = body({ reason: reason.optional() });
/** `POST …/revoke` body. */
export const RevokeBodySchema = body({ reason });
/** `POST …/resolve` body. */
export const ResolveBodySchema = body({
  resolution: z.enum(['keep', 'adjust', 'revoke'], { error: 'must be keep, adjust or revoke' }),
  reason,
});

/** A reference number as a person may type it, read into its canonical form. */
const REF = z
  .string({ error: 'is required: the reference number from the notification, e.g. PB-2025-…' })
  .transform((text, ctx) => {
    const ref = parseReference(text);
    if (!ref) {
      ctx.addIssue({
        code: 'custom',
        message: 'is not a reference number: copy it from the notification, e.g. PB-2025-ABCD-EFGH-JKLM',
      });
      return z.NEVER;
    }
    return ref;
  });

/** `POST /api/citizen/objections` and `/declines` body. */
export const CitizenBodySchema = body({ ref: REF, reason });

/**
 * `GET /api/citizen/decisions` query: without `ref`, the citizen's own decisions; with it, the one
 * decision of that reference number they are the subject or a recipient of (a guardian reading a
 * child's decision from the notice they received).
 */
export const CitizenQuerySchema = z.strictObject(
  { ref: REF.optional() },
  { error: (i) => (i.code === 'unrecognized_keys' ? `unknown parameter ${i.keys.join(', ')}` : undefined) },
);
