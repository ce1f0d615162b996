import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import type { PreTokenGenerationV2TriggerEvent } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { principalFrom, SUBJECT_CLAIM } from '../../../src/api/auth.ts';
import {
  CREDIT_CODE_ATTRIBUTE,
  RESIDENT_ID_ATTRIBUTE,
  subjectClaims,
} from '../../../src/api/subject-claim.ts';
import { type EngineDeps, ingestRaw } from '../../../src/domain/engine/ingest.ts';
import { findIdentityNumbers } from '../../../src/domain/identity.ts';
import { pseudonymise } from '../../../src/domain/pseudonym.ts';
import { localContext } from '../../../src/local/poller.ts';
import { MemoryStore } from '../engine/memory-store.ts';

const KEY = Buffer.alloc(32, 7);
/** The subject of the first sample birth event: a valid resident identity number. */
const birth = readFileSync(resolve('events/samples/civil.birth-registered.jsonl'), 'utf8').split('\n')[0]!;
const RAW_ID = (JSON.parse(birth) as { subject: { id: string } }).subject.id;
const BAD_CHECK = RAW_ID.slice(0, 17) + (RAW_ID[17] === '0' ? '1' : '0');
/** The subject of the first sample business registration: a valid unified social credit code. */
const registered = readFileSync(resolve('events/samples/samr.business-registered.jsonl'), 'utf8').split(
  '\n',
)[0]!;
const CREDIT_CODE = (JSON.parse(registered) as { subject: { id: string } }).subject.id;

/** A version 2 pre token generation event as Cognito sends it. */
function tokenEvent(
  attributes: Record<string, string>,
  more: { groups?: string[]; clientMetadata?: Record<string, string> } = {},
): PreTokenGenerationV2TriggerEvent {
  return {
    version: '2',
    region: 'cn-north-1',
    userPoolId: 'cn-north-1_pool',
    triggerSource: 'TokenGeneration_Authentication',
    userName: 'citizen-1',
    callerContext: { awsSdkVersion: 'aws-sdk-unknown-unknown', clientId: 'client' },
    request: {
      userAttributes: { sub: '5f0c2b4e-0000-4000-8000-000000000001', ...attributes },
      groupConfiguration: { groupsToOverride: more.groups ?? ['citizen'] },
      ...(more.clientMetadata ? { clientMetadata: more.clientMetadata } : {}),
    },
    response: { claimsAndScopeOverrideDetails: {} },
  };
}

/** The pseudonym the engine stores for a subject: ingest the sample event naming them. */
async function storedSubject(key: Buffer, event = birth): Promise<string> {
  const store = new MemoryStore();
  const deps = {
    store,
    quarantine: { keep: async () => {} },
    relay: { relay: async () => {} },
    clock: { now: () => new Date('2026-03-15T02:00:00Z') },
    pseudonymKey: key,
    reviewAmountThreshold: 500000,
  } as unknown as EngineDeps;
  const outcome = await ingestRaw(deps, event, { deliveryKey: 'm1' });
  if (outcome.status === 'rejected') throw new Error(outcome.reason);
  expect([...store.profiles.keys()]).toEqual([outcome.subject]);
  return outcome.subject;
}

describe('Module: subject-claim', () => {
  describe('Function: subjectClaims', () => {
    it('a valid number: both tokens carry the pseudonym the engine stores for that person', async () => {
      // Act
      const result = await subjectClaims(tokenEvent({ [RESIDENT_ID_ATTRIBUTE]: RAW_ID }), () => KEY);
      // Assess
      const subject = await storedSubject(KEY);
      const details = result.response.claimsAndScopeOverrideDetails;
      expect(result.outcome).toEqual({ status: 'added', subject, kind: 'person' });
      expect(details.idTokenGeneration?.claimsToAddOrOverride).toEqual({ [SUBJECT_CLAIM]: subject });
      expect(details.accessTokenGeneration?.claimsToAddOrOverride).toEqual({ [SUBJECT_CLAIM]: subject });
      // The raw number stays out of the ID token, and nothing is both added and suppressed.
      expect(details.idTokenGeneration?.claimsToSuppress).toEqual([
        RESIDENT_ID_ATTRIBUTE,
        CREDIT_CODE_ATTRIBUTE,
      ]);
      expect(details.accessTokenGeneration?.claimsToSuppress).toBeUndefined();
      expect(details.groupOverrideDetails).toBeUndefined();
    });

    it('an enterprise account: both tokens carry the pseudonym the engine stores for the enterprise', async () => {
      // Act
      const result = await subjectClaims(tokenEvent({ [CREDIT_CODE_ATTRIBUTE]: CREDIT_CODE }), () => KEY);
      // Assess
      const subject = await storedSubject(KEY, registered);
      const details = result.response.claimsAndScopeOverrideDetails;
      expect(result.outcome).toEqual({ status: 'added', subject, kind: 'enterprise' });
      expect(details.accessTokenGeneration?.claimsToAddOrOverride).toEqual({ [SUBJECT_CLAIM]: subject });
      expect(details.idTokenGeneration?.claimsToSuppress).toContain(CREDIT_CODE_ATTRIBUTE);
      expect(JSON.stringify(result)).not.toContain(CREDIT_CODE);
    });

    it('the review API reads the claim as the citizen’s own subject', async () => {
      const result = await subjectClaims(tokenEvent({ [RESIDENT_ID_ATTRIBUTE]: RAW_ID }), () => KEY);
      const claims = {
        sub: 'citizen-1',
        'cognito:groups': '[citizen]',
        ...result.response.claimsAndScopeOverrideDetails.accessTokenGeneration?.claimsToAddOrOverride,
      };
      expect(principalFrom(claims)).toEqual({
        id: 'citizen-1',
        role: 'citizen',
        subject: pseudonymise(KEY, RAW_ID),
      });
    });

    it.each([
      ['missing', {}, { status: 'missing' }],
      ['empty', { [RESIDENT_ID_ATTRIBUTE]: '' }, { status: 'missing' }],
      [
        'bad check character',
        { [RESIDENT_ID_ATTRIBUTE]: BAD_CHECK },
        { status: 'invalid', problem: 'check-digit' },
      ],
      [
        'lower-case x',
        { [RESIDENT_ID_ATTRIBUTE]: '11010519491231002x' },
        { status: 'invalid', problem: 'format' },
      ],
      [
        '17 digits',
        { [RESIDENT_ID_ATTRIBUTE]: RAW_ID.slice(0, 17) },
        { status: 'invalid', problem: 'format' },
      ],
      [
        'full-width digits',
        { [RESIDENT_ID_ATTRIBUTE]: '１１０１０５１９４９１２３１００２X' },
        { status: 'invalid', problem: 'format' },
      ],
      [
        'surrounding spaces',
        { [RESIDENT_ID_ATTRIBUTE]: ` ${RAW_ID} ` },
        { status: 'invalid', problem: 'format' },
      ],
      [
        'a credit code with a bad check character',
        { [CREDIT_CODE_ATTRIBUTE]: CREDIT_CODE.slice(0, 17) + (CREDIT_CODE[17] === '0' ? '1' : '0') },
        { status: 'invalid', problem: 'check-digit' },
      ],
      [
        'a credit code with a letter outside its alphabet (I)',
        { [CREDIT_CODE_ATTRIBUTE]: BAD_CHECK.replace(/.$/, 'I') },
        { status: 'invalid', problem: 'format' },
      ],
      [
        'both a resident identity number and a credit code',
        { [RESIDENT_ID_ATTRIBUTE]: RAW_ID, [CREDIT_CODE_ATTRIBUTE]: CREDIT_CODE },
        { status: 'invalid', problem: 'both-attributes' },
      ],
    ])('%s: no claim in either token, and the key is never asked for', async (_name, attributes, outcome) => {
      // Act
      const result = await subjectClaims(tokenEvent(attributes), () => {
        throw new Error('the key is not needed without a valid number');
      });
      // Assess
      const details = result.response.claimsAndScopeOverrideDetails;
      expect(result.outcome).toEqual(outcome);
      expect(details.idTokenGeneration?.claimsToAddOrOverride).toBeUndefined();
      expect(details.accessTokenGeneration?.claimsToAddOrOverride).toBeUndefined();
      expect(details.idTokenGeneration?.claimsToSuppress).toContain(SUBJECT_CLAIM);
      expect(details.accessTokenGeneration?.claimsToSuppress).toContain(SUBJECT_CLAIM);
      expect(result.log.level).toBe('warn');
    });

    it('an account outside the citizen group without a number logs at info, a citizen at warn', async () => {
      const reviewer = await subjectClaims(tokenEvent({}, { groups: ['reviewer'] }), () => KEY);
      const citizen = await subjectClaims(tokenEvent({}, { groups: ['citizen'] }), () => KEY);
      expect(reviewer.log.level).toBe('info');
      expect(citizen.log.level).toBe('warn');
    });

    it('a pb:subject the client supplies is overridden: only the account attribute counts', async () => {
      // Prepare: another person's pseudonym and number offered through the client metadata and a
      // response already carrying a claim.
      const other = '110105199307210867';
      const forged = {
        [SUBJECT_CLAIM]: pseudonymise(KEY, other),
        [RESIDENT_ID_ATTRIBUTE]: other,
      };
      const withId = tokenEvent({ [RESIDENT_ID_ATTRIBUTE]: RAW_ID }, { clientMetadata: forged });
      withId.response.claimsAndScopeOverrideDetails = {
        idTokenGeneration: { claimsToAddOrOverride: forged },
        accessTokenGeneration: { claimsToAddOrOverride: forged },
      };
      const withoutId = tokenEvent({ [SUBJECT_CLAIM]: forged[SUBJECT_CLAIM] }, { clientMetadata: forged });
      // Act
      const added = await subjectClaims(withId, () => KEY);
      const refused = await subjectClaims(withoutId, () => KEY);
      // Assess
      const own = pseudonymise(KEY, RAW_ID);
      expect(added.response.claimsAndScopeOverrideDetails.idTokenGeneration?.claimsToAddOrOverride).toEqual({
        [SUBJECT_CLAIM]: own,
      });
      expect(
        added.response.claimsAndScopeOverrideDetails.accessTokenGeneration?.claimsToAddOrOverride,
      ).toEqual({ [SUBJECT_CLAIM]: own });
      expect(refused.outcome).toEqual({ status: 'missing' });
      expect(refused.response.claimsAndScopeOverrideDetails.accessTokenGeneration?.claimsToSuppress).toEqual([
        SUBJECT_CLAIM,
      ]);
      expect(JSON.stringify(refused.response)).not.toContain(forged[SUBJECT_CLAIM]);
    });

    it('no raw number in the response or the log line, whatever the outcome', async () => {
      for (const id of [RAW_ID, BAD_CHECK, RAW_ID.slice(0, 17)]) {
        const result = await subjectClaims(tokenEvent({ [RESIDENT_ID_ATTRIBUTE]: id }), () => KEY);
        const text = JSON.stringify({ response: result.response, log: result.log });
        expect(text).not.toContain(id.slice(0, 17));
        expect(findIdentityNumbers(text)).toEqual([]);
      }
    });
  });
});

describe('Function: pre-token handler', () => {
  const VARIABLES = ['PB_PSEUDONYM_KEY', 'PB_PSEUDONYM_SECRET_ARN', 'POWERTOOLS_LOG_LEVEL'] as const;
  const saved = Object.fromEntries(VARIABLES.map((v) => [v, process.env[v]]));
  const logged: string[] = [];
  const writes = { out: process.stdout.write, err: process.stderr.write };

  beforeAll(() => {
    // Prepare: the engine's local key source and every log line, debug included (the handler's
    // logger is built when it is first loaded).
    process.env.PB_PSEUDONYM_KEY = KEY.toString('hex');
    delete process.env.PB_PSEUDONYM_SECRET_ARN;
    process.env.POWERTOOLS_LOG_LEVEL = 'DEBUG';
    for (const [name, stream] of [
      ['out', process.stdout],
      ['err', process.stderr],
    ] as const) {
      const write = writes[name].bind(stream);
      stream.write = ((chunk: string | Uint8Array, ...rest: unknown[]) => {
        logged.push(String(chunk));
        return (write as (c: string | Uint8Array, ...r: unknown[]) => boolean)(chunk, ...rest);
      }) as typeof stream.write;
    }
  });

  afterAll(() => {
    process.stdout.write = writes.out;
    process.stderr.write = writes.err;
    for (const v of VARIABLES) {
      if (saved[v] === undefined) delete process.env[v];
      else process.env[v] = saved[v];
    }
  });

  it('answers Cognito with the claim, one log line per token, no raw number in any line', async () => {
    // Act
    const { handler } = await import('../../../functions/pre-token.ts');
    const context = localContext('pb-test-pre-token', 5_000);
    const added = (await handler(
      tokenEvent({ [RESIDENT_ID_ATTRIBUTE]: RAW_ID }),
      context,
    )) as PreTokenGenerationV2TriggerEvent;
    const refused = (await handler(
      tokenEvent({ [RESIDENT_ID_ATTRIBUTE]: BAD_CHECK }),
      context,
    )) as PreTokenGenerationV2TriggerEvent;
    // Assess
    expect(added.response.claimsAndScopeOverrideDetails.accessTokenGeneration?.claimsToAddOrOverride).toEqual(
      {
        [SUBJECT_CLAIM]: await storedSubject(KEY),
      },
    );
    expect(refused.response.claimsAndScopeOverrideDetails.accessTokenGeneration?.claimsToSuppress).toEqual([
      SUBJECT_CLAIM,
    ]);
    const lines = logged.join('').split('\n').filter(Boolean);
    const messages = lines.map((l) => (JSON.parse(l) as { message: string }).message);
    expect(messages).toEqual([
      'subject claim added',
      'no subject claim: the resident identity number on the account is not valid',
    ]);
    for (const id of [RAW_ID, BAD_CHECK]) expect(logged.join('')).not.toContain(id.slice(0, 17));
    expect(findIdentityNumbers(logged.join(''))).toEqual([]);
  });
});
