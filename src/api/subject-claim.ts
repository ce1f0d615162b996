/**
 * The citizen's subject claim. Cognito calls the pre token generation trigger (event version 2,
 * which customises both the ID and the access token) before it issues tokens; this module decides
 * what the trigger answers: `pb:subject` = the engine's pseudonym of the resident identity number
 * an administrator stored on the account, so a citizen's token names exactly the subject the
 * engine stores for that person. The number comes from the user attribute only, never from what
 * the client sends (`clientMetadata`), and never reaches a token, a log line or an error.
 */
import type { PreTokenGenerationV2TriggerEvent } from 'aws-lambda';
import { type IdentityProblem, personIdProblem } from '../domain/identity.ts';
import { type Pseudonym, pseudonymise } from '../domain/pseudonym.ts';
import { SUBJECT_CLAIM } from './auth.ts';

/** Name of the custom attribute without its prefix, as the user pool's schema declares it. */
export const RESIDENT_ID_ATTRIBUTE_NAME = 'resident_id';

/** The user attribute holding the citizen's resident identity number (GB 11643). */
export const RESIDENT_ID_ATTRIBUTE = `custom:${RESIDENT_ID_ATTRIBUTE_NAME}`;

/** The group whose members use the citizen routes (`src/api/auth.ts`). */
const CITIZEN_GROUP = 'citizen';

/** What the trigger did about the subject claim. */
export type SubjectClaimOutcome =
  | { status: 'added'; subject: Pseudonym }
  | { status: 'missing' }
  | { status: 'invalid'; problem: Exclude<IdentityProblem, null> };

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
  const raw = Object.hasOwn(attributes, RESIDENT_ID_ATTRIBUTE)
    ? attributes[RESIDENT_ID_ATTRIBUTE]
    : undefined;

  if (raw === undefined || raw === '') {
    return {
      response: withoutSubject(),
      outcome: { status: 'missing' },
      log: {
        // A citizen without a number cannot use the citizen routes: the operator must set it.
        level: citizen ? 'warn' : 'info',
        message: 'no subject claim: the account has no resident identity number',
        fields,
      },
    };
  }
  const problem = personIdProblem(raw);
  if (problem !== null) {
    return {
      response: withoutSubject(),
      outcome: { status: 'invalid', problem },
      log: {
        level: 'warn',
        message: 'no subject claim: the resident identity number on the account is not valid',
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
          claimsToSuppress: [RESIDENT_ID_ATTRIBUTE],
        },
        accessTokenGeneration: { claimsToAddOrOverride: { [SUBJECT_CLAIM]: subject } },
      },
    },
    outcome: { status: 'added', subject },
    log: { level: 'info', message: 'subject claim added', fields: { ...fields, subject } },
  };
}

/** A response that leaves no `pb:subject` (nor the identity attribute) in either token. */
function withoutSubject(): PreTokenGenerationV2TriggerEvent['response'] {
  return {
    claimsAndScopeOverrideDetails: {
      idTokenGeneration: { claimsToSuppress: [SUBJECT_CLAIM, RESIDENT_ID_ATTRIBUTE] },
      accessTokenGeneration: { claimsToSuppress: [SUBJECT_CLAIM] },
    },
  };
}
