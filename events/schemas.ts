/**
 * Zod schemas of the agency events, version 1: the contract of `shared/spec/events.md` in code.
 *
 * Every object is strict (an unknown key is an issue, never silently stripped), because an agency
 * that sends a field we do not know is sending data we would otherwise keep without a purpose.
 * Raw identity numbers come out branded `RawIdentityNumber`, so the type system keeps them apart
 * from pseudonyms (see `src/domain/pseudonym.ts`).
 */
import { z } from 'zod';
import { creditCodeProblem, personIdProblem } from '../src/domain/identity.ts';
import { isCalendarDate, parseOffsetDateTime } from '../src/domain/events/time.ts';

/** The largest raw event accepted, in bytes of UTF-8. */
export const MAX_EVENT_BYTES = 65536;

/** The publishing agencies. */
export const SOURCES = ['public-security', 'civil-affairs', 'dpf', 'tax', 'hrss', 'samr'] as const;
/** A publishing agency. */
export type Source = (typeof SOURCES)[number];

/** Pattern of an event `id`. */
export const EVENT_ID_PATTERN = /^[A-Za-z0-9._:-]{1,128}$/;

/** Marks an issue that is about an identity number, so parse can report `invalid-identity`. */
export const IDENTITY_ISSUE = 'invalid-identity';

const identityIssue = (problem: 'format' | 'check-digit', what: string) => ({
  code: 'custom' as const,
  message: problem === 'format' ? `not an 18-character ${what}` : 'bad check digit',
  params: { reason: IDENTITY_ISSUE },
});

/** A raw resident identity number (GB 11643): branded so it is never mistaken for a pseudonym. */
export const PersonId = z
  .string()
  .superRefine((s, ctx) => {
    const problem = personIdProblem(s);
    if (problem) ctx.addIssue(identityIssue(problem, 'resident identity number'));
  })
  .brand<'RawIdentityNumber'>();

/** A raw unified social credit code (GB 32100), branded like {@link PersonId}. */
export const CreditCode = z
  .string()
  .superRefine((s, ctx) => {
    const problem = creditCodeProblem(s);
    if (problem) ctx.addIssue(identityIssue(problem, 'unified social credit code'));
  })
  .brand<'RawIdentityNumber'>();

/** A raw identity number of either kind, as it arrives. */
export type RawIdentityNumber = z.output<typeof PersonId>;

/** `YYYY-MM-DD`, a real calendar date. */
export const CalendarDate = z
  .string()
  .regex(/^[0-9]{4}-[0-9]{2}-[0-9]{2}$/, 'expected YYYY-MM-DD')
  .refine(isCalendarDate, 'not a calendar date');

/** ISO 8601 date-time with an offset (`Z` or `±HH:MM`), a real date and time. */
export const OffsetDateTime = z
  .string()
  .refine((s) => parseOffsetDateTime(s) !== null, 'expected an ISO 8601 date-time with offset');

/** Money in fen: a non-negative integer. */
export const NonNegativeFen = z.int('expected integer fen').nonnegative('expected non-negative fen');
/** Money in fen that may be negative (a loss). */
export const SignedFen = z.int('expected integer fen');
/** A count of people: a non-negative integer. */
export const Count = z.int('expected an integer count').nonnegative('expected a non-negative count');
/** A tax or premium year. */
export const Year = z
  .int('expected an integer year')
  .min(2000, 'year before 2000')
  .max(2100, 'year after 2100');
/** A 6-digit region code (GB/T 2260). */
export const RegionCode = z.string().regex(/^[0-9]{6}$/, 'expected 6 digits');

const EventId = z.string().regex(EVENT_ID_PATTERN, 'expected 1-128 characters [A-Za-z0-9._:-]');

/** The envelope of every event, before its `type` picks the schema of `data`. */
export const EnvelopeSchema = z.strictObject({
  id: EventId,
  type: z.string(),
  schemaVersion: z.int(),
  source: z.enum(SOURCES),
  occurredAt: OffsetDateTime,
  subject: z.strictObject({ kind: z.enum(['person', 'enterprise']), id: z.string() }),
  data: z.record(z.string(), z.unknown()),
});

function personEvent<T extends string, S extends Source, D extends z.ZodType>(type: T, source: S, data: D) {
  return z.strictObject({
    id: EventId,
    type: z.literal(type),
    schemaVersion: z.literal(1),
    source: z.literal(source),
    occurredAt: OffsetDateTime,
    subject: z.strictObject({ kind: z.literal('person'), id: PersonId }),
    data,
  });
}

function enterpriseEvent<T extends string, S extends Source, D extends z.ZodType>(
  type: T,
  source: S,
  data: D,
) {
  return z.strictObject({
    id: EventId,
    type: z.literal(type),
    schemaVersion: z.literal(1),
    source: z.literal(source),
    occurredAt: OffsetDateTime,
    subject: z.strictObject({ kind: z.literal('enterprise'), id: CreditCode }),
    data,
  });
}

/** `person.registered`: a person's birth date and household registration. */
export const PersonRegistered = personEvent(
  'person.registered',
  'public-security',
  z.strictObject({ birthDate: CalendarDate, hukouRegion: RegionCode }),
);

/** `civil.birth-registered`: a newborn with 1–4 guardians. */
export const BirthRegistered = personEvent(
  'civil.birth-registered',
  'civil-affairs',
  z.strictObject({
    birthDate: CalendarDate,
    hukouRegion: RegionCode,
    guardians: z.array(PersonId).min(1, 'expected 1-4 guardians').max(4, 'expected 1-4 guardians'),
  }),
);

/** `civil.death-registered`. */
export const DeathRegistered = personEvent(
  'civil.death-registered',
  'civil-affairs',
  z.strictObject({ deathDate: CalendarDate }),
);

/** `public-security.hukou-moved`: a new household-registration region. */
export const HukouMoved = personEvent(
  'public-security.hukou-moved',
  'public-security',
  z.strictObject({ hukouRegion: RegionCode }),
);

/** `dpf.disability-certified`: level 1 (most severe) to 4; `validUntil` null = no expiry. */
export const DisabilityCertified = personEvent(
  'dpf.disability-certified',
  'dpf',
  z.strictObject({
    level: z.int('expected level 1-4').min(1, 'expected level 1-4').max(4, 'expected level 1-4'),
    validUntil: CalendarDate.nullable(),
  }),
);

/** `dpf.disability-revoked`. */
export const DisabilityRevoked = personEvent(
  'dpf.disability-revoked',
  'dpf',
  z.strictObject({ revokedOn: CalendarDate }),
);

/** `civil.dibao-status-changed`: enrolled in the minimum living allowance or not. */
export const DibaoStatusChanged = personEvent(
  'civil.dibao-status-changed',
  'civil-affairs',
  z.strictObject({ enrolled: z.boolean() }),
);

/** `samr.business-registered`. */
export const BusinessRegistered = enterpriseEvent(
  'samr.business-registered',
  'samr',
  z.strictObject({ enterpriseType: z.enum(['company', 'individual-business']), region: RegionCode }),
);

/** `tax.vat-status-changed`. */
export const VatStatusChanged = enterpriseEvent(
  'tax.vat-status-changed',
  'tax',
  z.strictObject({ vatTaxpayerType: z.enum(['small-scale', 'general']) }),
);

/** `tax.annual-cit-assessed`: corporate income tax assessment of one tax year. */
export const AnnualCitAssessed = enterpriseEvent(
  'tax.annual-cit-assessed',
  'tax',
  z.strictObject({
    taxYear: Year,
    taxableIncome: SignedFen,
    employeesAvg: Count,
    totalAssetsAvg: NonNegativeFen,
    industryRestricted: z.boolean(),
  }),
);

/** `tax.local-taxes-assessed`: the six taxes and two fees due for one tax year. */
export const LocalTaxesAssessed = enterpriseEvent(
  'tax.local-taxes-assessed',
  'tax',
  z.strictObject({ taxYear: Year, localTaxesDue: NonNegativeFen }),
);

/** `hrss.ui-annual-summary`: unemployment insurance of one year. */
export const UiAnnualSummary = enterpriseEvent(
  'hrss.ui-annual-summary',
  'hrss',
  z.strictObject({
    year: Year,
    premiumsPaid: NonNegativeFen,
    insuredHeadcount: Count,
    layoffs: Count,
    arrears: z.boolean(),
    enterpriseSize: z.enum(['large', 'medium', 'small', 'micro']),
  }),
);

/** Every known event schema, version 1, keyed by type. */
export const EVENT_SCHEMAS = {
  'person.registered': PersonRegistered,
  'civil.birth-registered': BirthRegistered,
  'civil.death-registered': DeathRegistered,
  'public-security.hukou-moved': HukouMoved,
  'dpf.disability-certified': DisabilityCertified,
  'dpf.disability-revoked': DisabilityRevoked,
  'civil.dibao-status-changed': DibaoStatusChanged,
  'samr.business-registered': BusinessRegistered,
  'tax.vat-status-changed': VatStatusChanged,
  'tax.annual-cit-assessed': AnnualCitAssessed,
  'tax.local-taxes-assessed': LocalTaxesAssessed,
  'hrss.ui-annual-summary': UiAnnualSummary,
} as const;

/** An event type of version 1. */
export type EventType = keyof typeof EVENT_SCHEMAS;

/** The event types, in the order of the contract's table. */
export const EVENT_TYPES = Object.keys(EVENT_SCHEMAS) as EventType[];

/** The one allowed source and the subject kind of each event type. */
export const EVENT_ROUTING: Record<EventType, { source: Source; kind: 'person' | 'enterprise' }> = {
  'person.registered': { source: 'public-security', kind: 'person' },
  'civil.birth-registered': { source: 'civil-affairs', kind: 'person' },
  'civil.death-registered': { source: 'civil-affairs', kind: 'person' },
  'public-security.hukou-moved': { source: 'public-security', kind: 'person' },
  'dpf.disability-certified': { source: 'dpf', kind: 'person' },
  'dpf.disability-revoked': { source: 'dpf', kind: 'person' },
  'civil.dibao-status-changed': { source: 'civil-affairs', kind: 'person' },
  'samr.business-registered': { source: 'samr', kind: 'enterprise' },
  'tax.vat-status-changed': { source: 'tax', kind: 'enterprise' },
  'tax.annual-cit-assessed': { source: 'tax', kind: 'enterprise' },
  'tax.local-taxes-assessed': { source: 'tax', kind: 'enterprise' },
  'hrss.ui-annual-summary': { source: 'hrss', kind: 'enterprise' },
};

/** Any valid agency event, version 1: a union discriminated on `type`. */
export const AgencyEventSchema = z.discriminatedUnion('type', [
  PersonRegistered,
  BirthRegistered,
  DeathRegistered,
  HukouMoved,
  DisabilityCertified,
  DisabilityRevoked,
  DibaoStatusChanged,
  BusinessRegistered,
  VatStatusChanged,
  AnnualCitAssessed,
  LocalTaxesAssessed,
  UiAnnualSummary,
]);

/** A valid agency event as it arrived, with raw identity numbers. */
export type AgencyEvent = z.output<typeof AgencyEventSchema>;

/** The agency event of one type. */
export type AgencyEventOf<T extends EventType> = Extract<AgencyEvent, { type: T }>;
