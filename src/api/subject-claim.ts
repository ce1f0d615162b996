/**
 * The citizen's subject claim. Cognito calls the pre token generation trigger (event version 2,
 * which customises both the ID and the access token) before it issues tokens; this module decides
 * what the trigger answers: `pb:subject` = the engine's pseudonym of the identity number an
 * administrator stored on the account (a person's resident identity number, or an enterprise's
 * unified social credit code for the account of its taxpayer), so a citizen's token names exactly
 * the subject the engine stores. The number comes from the user attributes only, never from what
 * the client sends (`clientMetadata`), and never reaches a token, a log line or an error.
 */
import type { PreTokenGenerationV2TriggerEvent } from 'aws-lambda';
import { creditCodeProblem, type IdentityProblem, personIdProblem } from '../domain/identity.ts';
import { type Pseudonym, pseudonymise } from '../domain/pseudonym.ts';
import { SUBJECT_CLAIM } from './auth.ts';

/** Name of the custom attribute without its prefix, as the user pool's schema declares it. */
export const RESIDENT_ID_ATTRIBUTE_NAME = 'resident_id';

/** The user attribute holding the citizen's resident identity number (GB 11643). */
export const RESIDENT_ID_ATTRIBUTE = `custom:${RESIDENT_ID_ATTRIBUTE_NAME}`;

/** Name of the enterprise account's custom attribute without its prefix. */
export const CREDIT_CODE_ATTRIBUTE_NAME = 'credit_code';

/** The user attribute holding an enterprise account's unified social credit code (GB 32100). */
export const CREDIT_CODE_ATTRIBUTE = `custom:${CREDIT_CODE_ATTRIBUTE_NAME}`;

/** Both identity attributes: neither ever reaches a token. */
const IDENTITY_ATTRIBUTES = [RESIDENT_ID_ATTRIBUTE, CREDIT_CODE_ATTRIBUTE];

/** The group whose members use the citizen routes (`src/api/auth.ts`). */
const CITIZEN_GROUP = 'citizen';

/** What the trigger did about the subject claim. */
export type SubjectClaimOutcome =
  | { status: 'added'; subject: Pseudonym; kind: 'person' | 'enterprise' }
  | { status: 'missing' }
  | { status: 'invalid'; problem: Exclude<IdentityProblem, null> | 'both-attributes' };

/** The trigger's answer and the one log line it writes. */
export interface SubjectClaimResult {
  response: PreTokenGenerationV2TriggerEvent['response'];
  outcome: SubjectClaimOutcome;
  log: { level: 'info' | 'warn'; message: string; fields: Record<string, string | boolean> };
}

/**
 * Decides the tokens' subject claim for one pre token generation event. The key is asked for only
 * when the account holds a valid number, so accounts without one (reviewers, auditors) never need
 * it. Whatever the event already carries in its response is replaced: `pb:subject` is either the
 * pseudonym computed here or suppressed, in both tokens. The identity attribute itself is
 * suppressed from the ID token as well, should an app client ever be allowed to read it.
 */
export async function subjectClaims(
  event: PreTokenGenerationV2TriggerEvent,
  key: () => Buffer | Promise<Buffer>,
): Promise<SubjectClaimResult> {
  const attributes = event.request.userAttributes ?? {};
  const groups = event.request.groupConfiguration?.groupsToOverride ?? [];
  const citizen = groups.includes(CITIZEN_GROUP);
  const fields = { sub: String(attributes.sub ?? ''), citizen };
  const own = (name: string): string | undefined => {
    const v = Object.hasOwn(attributes, name) ? attributes[name] : undefined;
    return v === undefined || v === '' ? undefined : v;
  };
  const residentId = own(RESIDENT_ID_ATTRIBUTE);
  const creditCode = own(CREDIT_CODE_ATTRIBUTE);

  if (residentId === undefined && creditCode === undefined) {
    return {
      response: withoutSubject(),
      outcome: { status: 'missing' },
      log: {
        // A citizen without a number cannot use the citizen routes: the operator must set it.
        level: citizen ? 'warn' : 'info',
        message: 'no subject claim: the account has no resident identity number or credit code',
        fields,
      },
    };
  }
  if (residentId !== undefined && creditCode !== undefined) {
    // One account, one subject: which one it speaks for must not be guessed.
    return {
      response: withoutSubject(),
      outcome: { status: 'invalid', problem: 'both-attributes' },
      log: {
        level: 'warn',
        message: 'no subject claim: the account has both a resident identity number and a credit code',
        fields: { ...fields, problem: 'both-attributes' },
      },
    };
  }
  const kind = residentId !== undefined ? 'person' : 'enterprise';
  const raw = (residentId ?? creditCode)!;
  const problem = kind === 'person' ? personIdProblem(raw) : creditCodeProblem(raw);
  if (problem !== null) {
    return {
      response: withoutSubject(),
      outcome: { status: 'invalid', problem },
      log: {
        level: 'warn',
        message: `no subject claim: the ${kind === 'person' ? 'resident identity number' : 'credit code'} on the account is not valid`,
        fields: { ...fields, problem },
      },
    };
  }
  const subject = pseudonymise(await key(), raw);
  return {
    response: {
      claimsAndScopeOverrideDetails: {
        idTokenGeneration: {
          claimsToAddOrOverride: { [SUBJECT_CLAIM]: subject },
          claimsToSuppress: [...IDENTITY_ATTRIBUTES],
        },
        accessTokenGeneration: { claimsToAddOrOverride: { [SUBJECT_CLAIM]: subject } },
      },
    },
    outcome: { status: 'added', subject, kind },
    log: { level: 'info', message: 'subject claim added', fields: { ...fields, subject, kind } },
  };
}

/** A response that leaves no `pb:subject` (nor an identity attribute) in either token. */
function withoutSubject(): PreTokenGenerationV2TriggerEvent['response'] {
  return {
    claimsAndScopeOverrideDetails: {
      idTokenGeneration: { claimsToSuppress: [SUBJECT_CLAIM, ...IDENTITY_ATTRIBUTES] },
      accessTokenGeneration: { claimsToSuppress: [SUBJECT_CLAIM] },
    },
  };
}
