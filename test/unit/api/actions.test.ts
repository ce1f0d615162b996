import { describe, expect, it } from 'vitest';
import { GENESIS } from '../../../src/domain/ledger/index.ts';
import type { DecisionStatus } from '../../../src/domain/engine/model.ts';
import { CALLERS, OWN, OTHER, testApi } from './fixtures.ts';
import { decision } from './memory-store.ts';

const pathOf = (d: { subject: string; policy: string; period: string }) =>
  `/api/decisions/${d.subject}/${d.policy}/${d.period}`;

function withDecision(over: Parameters<typeof decision>[0] = {}, opts: { relayFails?: boolean } = {}) {
  const t = testApi(opts);
  const d = decision(over);
  t.store.put(d);
  return { ...t, d, base: pathOf(d) };
}

describe('Route: POST …/confirm', () => {
  it('confirms a granted decision, takes it out of the queue and appends review.confirm by the reviewer', async () => {
    // Prepare
    const s = withDecision({ reviewReason: 'sampled' });
    // Act
    const r = await s.call('POST', `${s.base}/confirm`, {
      claims: CALLERS.reviewer,
      body: { reason: 'Checked.' },
    });
    // Assess
    expect(r.status).toBe(200);
    const stored = await s.store.getDecision(s.d.subject, s.d.policy, s.d.period);
    expect(stored?.status).toBe('confirmed');
    expect(stored?.inReviewQueue).toBe(false);
    const [entry] = s.store.ledger.get(s.d.subject) ?? [];
    expect(entry).toMatchObject({
      kind: 'review.confirm',
      actor: 'reviewer-1',
      seq: 1,
      prevHash: GENESIS,
      payload: {
        decision: `${s.d.policy}#${s.d.period}`,
        ref: s.d.ref,
        from: 'granted',
        to: 'confirmed',
        reason: 'Checked.',
      },
    });
    expect(s.store.heads.get(s.d.subject)?.head).toEqual({ seq: 1, hash: entry?.hash });
    expect(r.json.ledgerEntry).toEqual(entry);
    expect(s.relayed).toHaveLength(0);
  });

  it('tells whoever objected the outcome, with a delivery id of its own for each review', async () => {
    // Prepare: objected once already, so this is the decision's second review entry.
    const s = withDecision({ subject: OWN, recipients: [OWN] });
    await s.call('POST', '/api/citizen/objections', {
      claims: CALLERS.citizenOwn,
      body: { ref: s.d.ref, reason: 'I already receive this from another district.' },
    });
    // Act
    const r = await s.call('POST', `${s.base}/confirm`, {
      claims: CALLERS.reviewer,
      body: { reason: 'Checked.' },
    });
    // Assess
    expect(r.status).toBe(200);
    expect(s.relayed).toEqual([
      expect.objectContaining({
        kind: 'review-outcome',
        recipient: OWN,
        amount: s.d.amount,
        reason: 'Checked.',
        deliveryId: `${s.d.ref}:${OWN}:review-outcome:1`,
      }),
    ]);
  });

  it('turns an objection down only with a reason: 400 without one, writing nothing', async () => {
    // Prepare
    const s = withDecision({ subject: OWN, recipients: [OWN] });
    await s.call('POST', '/api/citizen/objections', {
      claims: CALLERS.citizenOwn,
      body: { ref: s.d.ref, reason: 'I already receive this from another district.' },
    });
    // Act
    const bare = await s.call('POST', `${s.base}/confirm`, { claims: CALLERS.reviewer, body: {} });
    // Assess
    expect(bare.status).toBe(400);
    expect(bare.json.error).toMatch(/^body\.reason: is required to turn down an objection/);
    expect((await s.store.getDecision(s.d.subject, s.d.policy, s.d.period))?.status).toBe('objected');
    expect(s.store.ledger.get(OWN)).toHaveLength(1);
    expect(s.relayed).toHaveLength(0);
  });

  it('chains a second action on the first (seq 2, prevHash = first hash) and shows both in the history', async () => {
    // Prepare
    const s = withDecision();
    await s.call('POST', `${s.base}/confirm`, { claims: CALLERS.reviewer, body: {} });
    // Act
    await s.call('POST', `${s.base}/revoke`, { claims: CALLERS.reviewer, body: { reason: 'Fraud found.' } });
    const detail = await s.call('GET', s.base, { claims: CALLERS.auditor });
    // Assess
    const [first, second] = s.store.ledger.get(s.d.subject) ?? [];
    expect(second?.seq).toBe(2);
    expect(second?.prevHash).toBe(first?.hash);
    expect((detail.json.history as Array<{ kind: string }>).map((e) => e.kind)).toEqual([
      'review.confirm',
      'review.revoke',
    ]);
  });

  it('tells the beneficiary the reason of a revocation in their own listing, and nothing of a confirmation', async () => {
    // Prepare
    const s = withDecision({ subject: OWN, recipients: [OWN] });
    await s.call('POST', `${s.base}/confirm`, {
      claims: CALLERS.reviewer,
      body: { reason: 'internal note' },
    });
    const confirmed = await s.call('GET', '/api/citizen/decisions', { claims: CALLERS.citizenOwn });
    // Act
    await s.call('POST', `${s.base}/revoke`, { claims: CALLERS.reviewer, body: { reason: 'Fraud found.' } });
    const revoked = await s.call('GET', '/api/citizen/decisions', { claims: CALLERS.citizenOwn });
    // Assess
    const item = (r: typeof revoked) =>
      (r.json.items as Array<Record<string, unknown>>).find((d) => d.ref === s.d.ref)!;
    expect(item(confirmed).revocation).toBeUndefined();
    expect(JSON.stringify(confirmed.json)).not.toContain('internal note');
    expect(item(revoked).revocation).toEqual({ at: expect.any(String), reason: 'Fraud found.' });
  });

  const refused: Array<[DecisionStatus, RegExp]> = [
    ['confirmed', /already confirmed/],
    ['revoked', /has been revoked/],
    ['eligibility-changed', /resolve it instead/],
  ];
  for (const [status, message] of refused) {
    it(`answers 409 for a decision that is ${status}, writing nothing`, async () => {
      // Prepare
      const s = withDecision({ status });
      // Act
      const r = await s.call('POST', `${s.base}/confirm`, { claims: CALLERS.reviewer, body: {} });
      // Assess
      expect(r.status).toBe(409);
      expect(r.json.error).toMatch(message);
      expect(s.store.ledger.size).toBe(0);
    });
  }

  it('acknowledges a decline: the status stays declined and it leaves the queue', async () => {
    // Prepare
    const s = withDecision({ status: 'declined', reviewReason: 'declined' });
    // Act
    const r = await s.call('POST', `${s.base}/confirm`, { claims: CALLERS.reviewer, body: {} });
    // Assess
    expect(r.status).toBe(200);
    const stored = await s.store.getDecision(s.d.subject, s.d.policy, s.d.period);
    expect(stored?.status).toBe('declined');
    expect(stored?.inReviewQueue).toBe(false);
  });

  it('acknowledges a decline once: a second confirm answers 409 and writes nothing', async () => {
    // Prepare
    const s = withDecision({ status: 'declined', reviewReason: 'declined' });
    await s.call('POST', `${s.base}/confirm`, { claims: CALLERS.reviewer, body: {} });
    // Act
    const again = await s.call('POST', `${s.base}/confirm`, { claims: CALLERS.reviewer, body: {} });
    // Assess
    expect(again.status).toBe(409);
    expect(again.json.error).toMatch(/already acknowledged/);
    expect(s.store.ledger.get(s.d.subject)).toHaveLength(1);
  });

  it('answers 409 when another reviewer changed the status between read and write', async () => {
    // Prepare: the decision is revoked by someone else just before the write.
    const s = withDecision();
    s.store.beforeWrite = () => {
      s.store.beforeWrite = undefined;
      const k = [...s.store.decisions.keys()][0]!;
      s.store.decisions.set(k, { ...s.store.decisions.get(k)!, status: 'revoked' });
    };
    // Act
    const r = await s.call('POST', `${s.base}/confirm`, { claims: CALLERS.reviewer, body: {} });
    // Assess
    expect(r.status).toBe(409);
    expect(s.store.ledger.size).toBe(0);
  });

  it('retries when the engine moved the profile (version) first, and chains after its entry', async () => {
    // Prepare: the engine bumps the profile version once, as an ingest would.
    const s = withDecision();
    s.store.beforeWrite = () => {
      s.store.beforeWrite = undefined;
      const p = s.store.heads.get(s.d.subject)!;
      s.store.heads.set(s.d.subject, { ...p, version: p.version + 1 });
    };
    // Act
    const r = await s.call('POST', `${s.base}/confirm`, { claims: CALLERS.reviewer, body: {} });
    // Assess
    expect(r.status).toBe(200);
    expect(s.store.ledger.get(s.d.subject)).toHaveLength(1);
    expect(s.store.heads.get(s.d.subject)?.version).toBe(3);
  });
});

describe('Route: POST …/revoke', () => {
  it('revokes, writes one revocation notice per recipient and relays them', async () => {
    // Prepare: a child's decision notifies both guardians.
    const s = withDecision({ recipients: [OWN, OTHER], policy: 'elderly-allowance' });
    // Act
    const r = await s.call('POST', `${s.base}/revoke`, {
      claims: CALLERS.reviewer,
      body: { reason: 'The household moved out of the municipality in 2024.' },
    });
    // Assess
    expect(r.status).toBe(200);
    expect(r.json.notifications).toEqual({ queued: 2, relayed: true });
    expect((await s.store.getDecision(s.d.subject, s.d.policy, s.d.period))?.status).toBe('revoked');
    expect(s.relayed.map((n) => n.deliveryId).sort()).toEqual(
      [`${s.d.ref}:${OWN}:revocation`, `${s.d.ref}:${OTHER}:revocation`].sort(),
    );
    expect(s.relayed.every((n) => n.kind === 'revocation' && n.recipientRole === 'guardian')).toBe(true);
    expect(s.relayed[0]?.reason).toBe('The household moved out of the municipality in 2024.');
    expect(s.store.ledger.get(s.d.subject)?.[0]).toMatchObject({
      kind: 'review.revoke',
      actor: 'reviewer-1',
      payload: { amount: s.d.amount, reason: 'The household moved out of the municipality in 2024.' },
    });
  });

  it('still records the revocation when the queue is down, and says the notice is pending', async () => {
    // Prepare
    const s = withDecision({}, { relayFails: true });
    // Act
    const r = await s.call('POST', `${s.base}/revoke`, {
      claims: CALLERS.reviewer,
      body: { reason: 'Wrong region.' },
    });
    // Assess
    expect(r.status).toBe(200);
    expect(r.json.notifications).toEqual({ queued: 1, relayed: false });
    expect(s.store.outbox).toHaveLength(1);
    expect(s.errors).toHaveLength(1);
  });

  for (const status of ['revoked', 'declined'] as const) {
    it(`answers 409 for a ${status} decision`, async () => {
      // Prepare
      const s = withDecision({ status });
      // Act
      const r = await s.call('POST', `${s.base}/revoke`, { claims: CALLERS.reviewer, body: { reason: 'x' } });
      // Assess
      expect(r.status).toBe(409);
      expect(s.relayed).toHaveLength(0);
    });
  }

  it('answers 404 for a decision that does not exist', async () => {
    // Prepare
    const s = withDecision();
    // Act
    const r = await s.call('POST', `/api/decisions/${OTHER}/elderly-allowance/2025-03/revoke`, {
      claims: CALLERS.reviewer,
      body: { reason: 'x' },
    });
    // Assess
    expect(r.status).toBe(404);
  });
});

describe('Route: POST …/resolve', () => {
  const flagged = (outcome: 'eligible' | 'not-eligible', amount: number | null) => ({
    status: 'eligibility-changed' as const,
    reviewReason: 'eligibility-changed',
    flag: {
      outcome,
      amount,
      reasons: outcome === 'eligible' ? [] : ['not-alive'],
      at: '2025-04-01T00:00:00Z',
      eventIds: ['e2'],
    },
  });

  it('keeps the grant: confirmed, same amount, out of the queue', async () => {
    // Prepare
    const s = withDecision(flagged('not-eligible', null));
    // Act
    const r = await s.call('POST', `${s.base}/resolve`, {
      claims: CALLERS.reviewer,
      body: { resolution: 'keep', reason: 'The death record was wrong.' },
    });
    // Assess
    expect(r.status).toBe(200);
    const stored = await s.store.getDecision(s.d.subject, s.d.policy, s.d.period);
    expect(stored).toMatchObject({ status: 'confirmed', amount: s.d.amount, inReviewQueue: false });
    // The flag is resolved: the decision no longer says what the new facts would give.
    expect(stored?.flag).toBeUndefined();
    expect(s.store.ledger.get(s.d.subject)?.[0]).toMatchObject({
      kind: 'review.resolve',
      payload: { resolution: 'keep' },
    });
    // They were told a review was under way: now they are told it ended and the grant stands.
    expect(s.relayed.map((n) => [n.kind, n.recipient, n.amount, n.previousAmount])).toEqual(
      s.d.recipients.map((r) => ['review-outcome', r, s.d.amount, undefined]),
    );
  });

  it('adjusts the amount to what the new facts give', async () => {
    // Prepare
    const s = withDecision({ amount: 10000, ...flagged('eligible', 50000) });
    // Act
    const r = await s.call('POST', `${s.base}/resolve`, {
      claims: CALLERS.reviewer,
      body: { resolution: 'adjust', reason: 'Turned 90.' },
    });
    // Assess
    expect(r.status).toBe(200);
    expect((await s.store.getDecision(s.d.subject, s.d.policy, s.d.period))?.amount).toBe(50000);
    expect(s.store.ledger.get(s.d.subject)?.[0]?.payload).toMatchObject({
      previousAmount: 10000,
      amount: 50000,
    });
    expect(s.relayed.map((n) => [n.kind, n.amount, n.previousAmount, n.reason])).toEqual(
      s.d.recipients.map(() => ['review-outcome', 50000, 10000, 'Turned 90.']),
    );
  });

  it('answers 409 to adjust when the new facts give no amount', async () => {
    // Prepare
    const s = withDecision(flagged('not-eligible', null));
    // Act
    const r = await s.call('POST', `${s.base}/resolve`, {
      claims: CALLERS.reviewer,
      body: { resolution: 'adjust', reason: 'x' },
    });
    // Assess
    expect(r.status).toBe(409);
    expect(r.json.error).toMatch(/keep or revoke/);
  });

  it('revokes and notifies', async () => {
    // Prepare
    const s = withDecision(flagged('not-eligible', null));
    // Act
    const r = await s.call('POST', `${s.base}/resolve`, {
      claims: CALLERS.reviewer,
      body: { resolution: 'revoke', reason: 'Deceased before the month began.' },
    });
    // Assess
    expect(r.status).toBe(200);
    expect((await s.store.getDecision(s.d.subject, s.d.policy, s.d.period))?.status).toBe('revoked');
    expect(s.relayed).toHaveLength(1);
    expect(s.relayed[0]?.kind).toBe('revocation');
  });

  it('stays to be resolved after the beneficiary objects: the objection is recorded, confirm answers 409', async () => {
    // Prepare
    const s = withDecision({
      subject: OWN,
      recipients: [OWN],
      amount: 360000,
      ...flagged('eligible', 30000),
    });
    // Act
    const objection = await s.call('POST', '/api/citizen/objections', {
      claims: CALLERS.citizenOwn,
      body: { ref: s.d.ref, reason: 'The amount is wrong.' },
    });
    const second = await s.call('POST', '/api/citizen/objections', {
      claims: CALLERS.citizenOwn,
      body: { ref: s.d.ref, reason: 'Still wrong.' },
    });
    const confirm = await s.call('POST', `${s.base}/confirm`, { claims: CALLERS.reviewer, body: {} });
    const resolve = await s.call('POST', `${s.base}/resolve`, {
      claims: CALLERS.reviewer,
      body: { resolution: 'adjust', reason: 'New facts.' },
    });
    // Assess
    expect(objection.status).toBe(200);
    expect(objection.json.decision).toMatchObject({ status: 'eligibility-changed' });
    expect(second.status).toBe(409);
    expect(confirm.status).toBe(409);
    expect(confirm.json.error).toMatch(/resolve it instead/);
    expect(resolve.status).toBe(200);
    expect(await s.store.getDecision(s.d.subject, s.d.policy, s.d.period)).toMatchObject({
      status: 'confirmed',
      amount: 30000,
    });
    expect(s.store.ledger.get(OWN)?.map((e) => e.kind)).toEqual(['citizen.objection', 'review.resolve']);
  });

  it("shows the flag with the events that changed the evaluation in the decision's detail", async () => {
    const s = withDecision(flagged('not-eligible', null));
    const r = await s.call('GET', s.base, { claims: CALLERS.reviewer });
    expect(r.json.flag).toMatchObject({
      eventIds: ['e2'],
      reasons: [{ code: 'not-alive', en: 'Deceased before the first day of the period' }],
    });
  });

  it('answers 409 for a decision that is not flagged', async () => {
    // Prepare
    const s = withDecision();
    // Act
    const r = await s.call('POST', `${s.base}/resolve`, {
      claims: CALLERS.reviewer,
      body: { resolution: 'keep', reason: 'x' },
    });
    // Assess
    expect(r.status).toBe(409);
    expect(r.json.error).toMatch(/only a decision flagged eligibility-changed/);
  });
});

describe('Route: POST /api/citizen/objections', () => {
  it('marks the decision objected, queues it for review and appends citizen.objection', async () => {
    // Prepare
    const s = withDecision({ subject: OWN, recipients: [OWN] });
    // Act
    const r = await s.call('POST', '/api/citizen/objections', {
      claims: CALLERS.citizenOwn,
      body: { ref: s.d.ref, reason: 'I already receive this from another district.' },
    });
    const queue = await s.call('GET', '/api/review-queue', { claims: CALLERS.reviewer });
    // Assess
    expect(r.status).toBe(200);
    expect(r.json.decision).toMatchObject({ status: 'objected', recipients: [] });
    expect(
      (queue.json.items as Array<{ ref: string; reviewReason: string }>).map((d) => [d.ref, d.reviewReason]),
    ).toEqual([[s.d.ref, 'objected']]);
    expect(s.store.ledger.get(OWN)?.[0]).toMatchObject({
      kind: 'citizen.objection',
      actor: 'citizen-own',
      payload: { role: 'subject' },
    });
  });

  it("records a guardian's objection as the guardian's, in the history and the ledger", async () => {
    // Prepare: a child's decision, notified to the caller as guardian.
    const s = withDecision({ subject: OTHER, recipients: [OWN] });
    // Act
    const r = await s.call('POST', '/api/citizen/objections', {
      claims: CALLERS.citizenOwn,
      body: { ref: s.d.ref, reason: 'The child moved to another district.' },
    });
    // Assess
    expect(r.status).toBe(200);
    const stored = await s.store.getDecision(OTHER, s.d.policy, s.d.period);
    expect(stored?.reviews?.[0]).toMatchObject({ action: 'objection', role: 'guardian', by: 'citizen-own' });
    expect(s.store.ledger.get(OTHER)?.[0]).toMatchObject({
      kind: 'citizen.objection',
      payload: { role: 'guardian' },
    });
    expect(r.json.decision).not.toHaveProperty('reviews');
  });

  it('answers 409 to a second objection', async () => {
    // Prepare
    const s = withDecision({ subject: OWN });
    await s.call('POST', '/api/citizen/objections', {
      claims: CALLERS.citizenOwn,
      body: { ref: s.d.ref, reason: 'a' },
    });
    // Act
    const r = await s.call('POST', '/api/citizen/objections', {
      claims: CALLERS.citizenOwn,
      body: { ref: s.d.ref, reason: 'b' },
    });
    // Assess
    expect(r.status).toBe(409);
  });
});

describe('Route: POST /api/citizen/declines', () => {
  it('marks the decision declined and queues it; a revoked one answers 409', async () => {
    // Prepare
    const s = withDecision({ subject: OWN });
    const revoked = decision({ subject: OWN, period: '2025-04', status: 'revoked' });
    s.store.put(revoked);
    // Act
    const ok = await s.call('POST', '/api/citizen/declines', {
      claims: CALLERS.citizenOwn,
      body: { ref: s.d.ref, reason: 'No need.' },
    });
    const late = await s.call('POST', '/api/citizen/declines', {
      claims: CALLERS.citizenOwn,
      body: { ref: revoked.ref, reason: 'No need.' },
    });
    // Assess
    expect(ok.status).toBe(200);
    expect(await s.store.getDecision(OWN, s.d.policy, s.d.period)).toMatchObject({
      status: 'declined',
      inReviewQueue: true,
    });
    expect(s.store.ledger.get(OWN)?.[0]?.kind).toBe('citizen.decline');
    expect(late.status).toBe(409);
  });
});

describe('Route: GET /api/decisions/{subject}/{policy}/{period}', () => {
  it('explains the decision in both languages with legal basis, provenance and rule version', async () => {
    // Prepare
    const s = withDecision();
    // Act
    const r = await s.call('GET', s.base, { claims: CALLERS.auditor });
    // Assess
    expect(r.status).toBe(200);
    expect(r.json.explanation).toEqual([
      {
        depth: 0,
        met: true,
        'zh-CN': '年龄（期初） ≥ 80：满足',
        en: 'Age on the first day of the period ≥ 80: met',
      },
    ]);
    expect(r.json.summary).toEqual({
      'zh-CN': '高龄津贴（2025年3月），金额人民币100.00元，当前状态：已享受。',
      en: 'Municipal allowance for the very old for March 2025, amount CNY 100.00, status: granted.',
    });
    expect(r.json.policy).toMatchObject({ legalReference: { document: '高龄津贴办法' } });
    expect(r.json.ruleVersion).toBe('1.0.0');
    expect(r.json.provenance).toEqual([
      expect.objectContaining({
        eventId: 'ps-2024-000107',
        source: 'public-security',
        label: { 'zh-CN': '出生日期', en: 'Date of birth' },
      }),
    ]);
  });
});

describe('Free-text reasons', () => {
  it.each([
    ['a valid number between spaces', '核查 110105199307210867 完毕'],
    ['next to letters', 'ID110105199307210867 checked'],
    ['a lower-case check character', '证号:11010519491231002x'],
    ['full-width digits', '１１０１０５１９９３０７２１０８６７'],
    ['an old 15-digit number', 'old number 110105491231002'],
    ['a number in groups of digits', '身份证 110105 1949 1231 002X 已核对'],
    ['a number in dashed groups, lower-case x', 'id 110105-19491231-002x'],
    ['a number in full-width groups', '１１０１０５　１９４９１２３１　００２Ｘ'],
    ['a credit code in groups', 'code 9111 0105 0004 9M30 2T'],
    ['a credit code in lower-case groups', 'code 9111 0105 0004 9m30 2t'],
    ['a number whose middle group is written as a date', '110105-1949-12-31-002X'],
  ])('refuses a reason holding an identity number (%s), writing nothing', async (_label, reason) => {
    // Prepare
    const s = withDecision();
    // Act
    const r = await s.call('POST', `${s.base}/revoke`, { claims: CALLERS.reviewer, body: { reason } });
    // Assess
    expect(r.status).toBe(400);
    expect(r.json.error).toMatch(/^body\.reason: must not contain an identity number/);
    expect(s.store.ledger.size).toBe(0);
  });

  it('takes a reason with ordinary numbers (amounts, phone numbers, dates)', async () => {
    const s = withDecision();
    const r = await s.call('POST', `${s.base}/revoke`, {
      claims: CALLERS.reviewer,
      body: {
        reason:
          'Paid 3,600.00 twice on 2025-03-01 and 2025-04-01 (months 2025-03 2025-04 2025-05 2025-06); call 138 0013 8000 or 010-65123456/13800138000; MARCH 5053 CHECK 9210; see PB-2025-7K3M-9QXD-2F8A.',
      },
    });
    expect(r.status).toBe(200);
  });
});

describe('Requests the API refuses with 400', () => {
  it.each(['%ZZ', '%E0%A4%A'])('a decision path with bad percent-encoding (%s)', async (bad) => {
    const s = withDecision();
    for (const [method, path] of [
      ['GET', `/api/decisions/${s.d.subject}/${s.d.policy}/${bad}`],
      ['POST', `/api/decisions/${s.d.subject}/${s.d.policy}/${bad}/confirm`],
    ] as const) {
      const r = await s.call(method, path, { claims: CALLERS.reviewer, body: {} });
      expect(r.status, `${method} ${path}`).toBe(400);
      expect(r.json.error).toMatch(/not valid percent-encoding/);
    }
  });

  it('a query parameter named __proto__, like any unknown name', async () => {
    const s = withDecision();
    const r = await s.call('GET', '/api/decisions', {
      claims: CALLERS.reviewer,
      query: JSON.parse('{"__proto__":"1"}'),
    });
    expect(r.status).toBe(400);
    expect(r.json.error).toMatch(/unknown parameter __proto__/);
  });

  it('an impossible date-time in from or to', async () => {
    const s = withDecision();
    const queries: Record<string, string>[] = [
      { from: '2025-02-30T00:00:00Z' },
      { to: '2025-04-31T08:00:00+08:00' },
    ];
    for (const query of queries) {
      const r = await s.call('GET', '/api/decisions', { claims: CALLERS.reviewer, query });
      expect(r.status, JSON.stringify(query)).toBe(400);
    }
  });
});
