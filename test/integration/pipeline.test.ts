import { readFileSync } from 'node:fs';
import { sqsClient, docClient } from '../../src/adapters/aws.ts';
import { scanAll } from '../../src/adapters/dynamodb/scan.ts';
import { drainQueues, sendLines } from '../../src/local/pipeline.ts';
import type { SqsHandler } from '../../src/local/poller.ts';
import { runtimeConfig } from '../../src/runtime/engine.ts';
import { describe, expect, it } from 'vitest';
import { useTestEngine } from './helpers.ts';
import { currentValue, expectedOutcomes } from './expected.ts';
import { prng } from '../../src/testing/prng.ts';

const demo = readFileSync('events/samples/demo.jsonl', 'utf8')
  .split('\n')
  .filter((l) => l.trim());
const birth = readFileSync('events/samples/civil.birth-registered.jsonl', 'utf8')
  .split('\n')
  .filter((l) => l.trim());

async function table(id: Parameters<ReturnType<typeof runtimeConfig>['table']>[0]) {
  const out: Record<string, unknown>[] = [];
  for await (const item of scanAll(docClient(), runtimeConfig().table(id))) out.push(item);
  return out;
}

const lines = (bodies: string[]) => bodies.map((body, i) => ({ line: i + 1, body }));

describe('Pipeline: agency event to grant to notification', () => {
  it('grants the childcare subsidy for a birth, once, and notifies every guardian', async () => {
    // Prepare
    const engine = await useTestEngine('slice', '2026-03-15T10:00:00+08:00');
    // Act
    await sendLines(sqsClient(), engine.queues.agencyEvents.url, lines(birth));
    await drainQueues(engine.queues, engine.consumers);
    // Assess
    const decisions = await table('decisions');
    expect(decisions).toHaveLength(1);
    const d = decisions[0]!;
    expect(d.policy).toBe('childcare-subsidy');
    expect(d.period).toBe('2026');
    expect(d.status).toBe('granted');
    expect(Number.isInteger(d.amount)).toBe(true);
    expect(String(d.subject)).toMatch(/^ps_[0-9a-f]{32}$/);
    expect((d.eventIds as string[]).length).toBeGreaterThan(0);
    const guardians = (JSON.parse(birth[0]!) as { data: { guardians: string[] } }).data.guardians;
    const notes = readFileSync(engine.notifyFile, 'utf8')
      .split('\n')
      .filter((l) => l.trim());
    expect(notes).toHaveLength(guardians.length);
    expect((await table('deliveries')).length).toBe(guardians.length);
    expect((await table('ledger')).length).toBe(1);
    expect(await table('outbox')).toHaveLength(0);
  });

  it('converges on the same grants whatever the duplicates, order and per-item failures', async () => {
    const now = '2026-03-15T10:00:00+08:00';
    const expected = await expectedOutcomes(demo, now, '7'.repeat(64));
    const eligible = [...expected].filter(([, v]) => v !== null).map(([k]) => k);
    expect(eligible.length).toBeGreaterThan(3);
    for (const seed of [1, 2, 3]) {
      const engine = await useTestEngine(`conv${seed}`, now);
      const rnd = prng(seed);
      const deliveries: string[] = [];
      for (const body of demo) {
        const copies = 1 + Math.floor(rnd() * 3);
        for (let c = 0; c < copies; c++) deliveries.push(body);
      }
      for (let i = deliveries.length - 1; i > 0; i--) {
        const j = Math.floor(rnd() * (i + 1));
        [deliveries[i], deliveries[j]] = [deliveries[j]!, deliveries[i]!];
      }
      // Random per-item failures, some before and some after the real handler ran.
      const real = engine.consumers.agencyEvents!;
      const flaky: SqsHandler = async (event, context) => {
        const before = event.Records.filter(() => rnd() < 0.2).map((r) => r.messageId);
        const kept = { ...event, Records: event.Records.filter((r) => !before.includes(r.messageId)) };
        const res = kept.Records.length > 0 ? await real(kept, context) : { batchItemFailures: [] };
        const after = kept.Records.filter(() => rnd() < 0.2).map((r) => r.messageId);
        const failed = new Set([
          ...before,
          ...after,
          ...((res ?? { batchItemFailures: [] }).batchItemFailures ?? []).map((f) => f.itemIdentifier),
        ]);
        return { batchItemFailures: [...failed].map((itemIdentifier) => ({ itemIdentifier })) };
      };
      await sendLines(sqsClient(), engine.queues.agencyEvents.url, lines(deliveries));
      await drainQueues(engine.queues, { ...engine.consumers, agencyEvents: flaky }, { concurrency: 3 });
      const decisions = await table('decisions');
      // Evaluations run after the events delivered with them, so grants follow the final facts:
      // exactly the eligible (subject, policy, period) of the independent computation, no flags.
      const granted = new Map(
        decisions.map((d) => [`${d.subject}|${d.policy}|${d.period}`, currentValue(d)]),
      );
      expect(granted.size).toBe(decisions.length);
      expect(granted).toEqual(new Map(eligible.map((k) => [k, expected.get(k)])));
      expect(decisions.every((d) => d.status === 'granted')).toBe(true);
      const flags = decisions.filter((d) => d.flag).length;
      expect((await table('ledger')).length).toBe(decisions.length + flags);
      const recipients = decisions.reduce((n, d) => n + (d.recipients as string[]).length, 0);
      const notes = readFileSync(engine.notifyFile, 'utf8')
        .split('\n')
        .filter((l) => l.trim());
      expect(notes).toHaveLength(recipients);
      expect((await table('deliveries')).length).toBe(recipients);
    }
  });

  it('grants once when handlers race on one subject', async () => {
    const engine = await useTestEngine('race', '2026-03-15T10:00:00+08:00');
    const ev = JSON.parse(birth[0]!) as Record<string, unknown>;
    // Two different events about the same child, processed at the same moment by two pollers.
    const second = { ...ev, id: `${ev.id as string}-b`, occurredAt: '2025-03-19T10:30:00+08:00' };
    const bodies = Array.from({ length: 6 }, (_, i) => JSON.stringify(i % 2 ? second : ev));
    await sendLines(sqsClient(), engine.queues.agencyEvents.url, lines(bodies));
    await drainQueues(engine.queues, engine.consumers, { concurrency: 4 });
    const decisions = await table('decisions');
    expect(decisions).toHaveLength(1);
    expect((await table('ledger')).length).toBe(1);
    expect(await table('events')).toHaveLength(2);
  });

  it('flags a granted period whose facts change later, never granting twice nor undoing silently', async () => {
    // Prepare: an 85-year-old gets the March allowance.
    const engine = await useTestEngine('flag', '2026-03-15T10:00:00+08:00');
    const person = demo.find((l) => l.includes('"110101194005180350"') && l.includes('person.registered'))!;
    await sendLines(sqsClient(), engine.queues.agencyEvents.url, lines([person]));
    await drainQueues(engine.queues, engine.consumers);
    const [granted] = await table('decisions');
    expect(granted).toMatchObject({
      policy: 'elderly-allowance',
      period: '2026-03',
      status: 'granted',
      amount: 10000,
    });
    // Act: a death registered afterwards, dated before the month began.
    const death = JSON.stringify({
      id: 'ca-2026-flag-1',
      type: 'civil.death-registered',
      schemaVersion: 1,
      source: 'civil-affairs',
      occurredAt: '2026-03-10T09:00:00+08:00',
      subject: { kind: 'person', id: '110101194005180350' },
      data: { deathDate: '2026-02-20' },
    });
    await sendLines(sqsClient(), engine.queues.agencyEvents.url, lines([death, death]));
    await drainQueues(engine.queues, engine.consumers);
    // Assess
    const decisions = await table('decisions');
    expect(decisions).toHaveLength(1);
    expect(decisions[0]).toMatchObject({
      status: 'eligibility-changed',
      amount: 10000,
      flag: { outcome: 'not-eligible', amount: null, reasons: ['not-alive'] },
      reviewBucket: 'review',
    });
    const ledger = (await table('ledger')).sort((a, b) => (a.seq as number) - (b.seq as number));
    expect(ledger.map((e) => e.kind)).toEqual(['grant', 'eligibility-changed']);
    expect(
      readFileSync(engine.notifyFile, 'utf8')
        .split('\n')
        .filter((l) => l.trim()),
    ).toHaveLength(1);
  });
});
