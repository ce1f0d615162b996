import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decodeCursor, encodeCursor, readPage } from '../../../src/api/paging.ts';
import { plan } from '../../../src/api/router.ts';
import { STATUSES } from '../../../src/api/schemas.ts';
import type { DecisionStatus } from '../../../src/domain/engine/model.ts';
import { CALLERS, testApi } from './fixtures.ts';
import { decision, MemoryReviewStore } from './memory-store.ts';

describe('Function: plan', () => {
  it('picks the index that answers each filter, never a scan', () => {
    expect(plan({ policy: 'p', period: '2025' }).partitions).toEqual([
      { index: 'byPolicyPeriod', value: 'p#2025' },
    ]);
    expect(plan({ policy: 'p', status: 'revoked' })).toEqual({
      partitions: [{ index: 'byPolicy', value: 'p' }],
      filter: { status: 'revoked' },
    });
    expect(plan({ status: 'granted', period: '2025-03' })).toEqual({
      partitions: [{ index: 'byStatus', value: 'granted' }],
      filter: { period: '2025-03' },
    });
    expect(plan({}).partitions).toEqual(STATUSES.map((s) => ({ index: 'byStatus', value: s })));
  });
});

describe('Function: readPage', () => {
  it('returns every decision exactly once, newest first, across merged status partitions', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(
          fc.record({
            status: fc.constantFrom(...STATUSES),
            // Few distinct times, so ties across and within partitions are common.
            minute: fc.integer({ min: 0, max: 4 }),
            period: fc.constantFrom('2025-03', '2025-04'),
          }),
          { maxLength: 40 },
        ),
        fc.integer({ min: 1, max: 7 }),
        fc.option(fc.constantFrom('2025-03', '2025-04'), { nil: undefined }),
        async (rows, limit, period) => {
          // Prepare
          const store = new MemoryReviewStore();
          const all = rows.map((r) =>
            decision({
              status: r.status as DecisionStatus,
              period: r.period,
              createdAt: `2025-03-20T04:0${r.minute}:00.000Z`,
            }),
          );
          for (const d of all) store.put(d);
          const { partitions, filter } = plan(period ? { period } : {});
          // Act: page through to the end, through the opaque cursor each time.
          const seen: typeof all = [];
          let cursor: string | undefined;
          for (let pages = 0; pages < 100; pages++) {
            const positions = cursor ? decodeCursor(cursor, 'fp') : undefined;
            const page = await readPage(store, partitions, filter, limit, positions);
            expect(page.items.length).toBeLessThanOrEqual(limit);
            seen.push(...page.items);
            if (!page.positions) break;
            cursor = encodeCursor('fp', page.positions);
          }
          // Assess
          const want = all.filter((d) => !period || d.period === period);
          expect(seen.map((d) => d.ref).sort()).toEqual(want.map((d) => d.ref).sort());
          for (let i = 1; i < seen.length; i++)
            expect(seen[i - 1]!.createdAt >= seen[i]!.createdAt).toBe(true);
        },
      ),
      { numRuns: 150 },
    );
  });
});

describe('Route: GET /api/decisions', () => {
  it('reads byPolicyPeriod for policy+period and filters the creation time', async () => {
    // Prepare
    const s = testApi();
    s.store.put(decision({ createdAt: '2025-03-01T00:00:00.000Z' }));
    const late = decision({ createdAt: '2025-03-31T20:00:00.000Z' });
    s.store.put(late);
    s.store.put(decision({ policy: 'childcare-subsidy', period: '2025' }));
    // Act: 2025-04-01 in China starts at 2025-03-31T16:00Z.
    const r = await s.call('GET', '/api/decisions', {
      claims: CALLERS.auditor,
      query: { policy: 'elderly-allowance', period: '2025-03', from: '2025-04-01' },
    });
    // Assess
    expect(s.store.reads).toEqual([{ index: 'byPolicyPeriod', value: 'elderly-allowance#2025-03' }]);
    expect((r.json.items as Array<{ ref: string }>).map((d) => d.ref)).toEqual([late.ref]);
    expect(r.json.cursor).toBeNull();
  });

  it('lists decisions with amount in yuan, status and policy title in words', async () => {
    // Prepare
    const s = testApi();
    s.store.put(decision({ amount: 123456 }));
    // Act
    const r = await s.call('GET', '/api/decisions', { claims: CALLERS.reviewer });
    // Assess
    expect(r.json.items).toEqual([
      expect.objectContaining({
        amount: 123456,
        amountYuan: '1,234.56',
        statusLabel: { 'zh-CN': '已享受', en: 'granted' },
        policyTitle: { 'zh-CN': '高龄津贴', en: 'Municipal allowance for the very old' },
      }),
    ]);
  });
});

describe('Route: GET /api/review-queue', () => {
  it('lists only queued decisions, newest first, page by page', async () => {
    // Prepare
    const s = testApi();
    const old = decision({ reviewReason: 'sampled', createdAt: '2025-03-01T00:00:00.000Z' });
    const recent = decision({
      reviewReason: 'amount-above-threshold',
      createdAt: '2025-03-02T00:00:00.000Z',
    });
    s.store.put(old);
    s.store.put(recent);
    s.store.put(decision());
    // Act
    const first = await s.call('GET', '/api/review-queue', {
      claims: CALLERS.reviewer,
      query: { limit: '1' },
    });
    const second = await s.call('GET', '/api/review-queue', {
      claims: CALLERS.reviewer,
      query: { limit: '1', cursor: String(first.json.cursor) },
    });
    // Assess
    expect((first.json.items as Array<{ ref: string }>)[0]?.ref).toBe(recent.ref);
    expect((second.json.items as Array<{ ref: string }>)[0]?.ref).toBe(old.ref);
    expect(second.json.cursor).toBeNull();
    expect(s.store.reads.every((p) => p.index === 'reviewQueue')).toBe(true);
  });
});
