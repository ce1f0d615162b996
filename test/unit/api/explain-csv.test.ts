import { describe, expect, it } from 'vitest';
import { csvCell, decisionsCsv } from '../../../src/api/csv.ts';
import { amountWorking, explainDecision, reasonText, workingInWords } from '../../../src/api/explain.ts';
import { formatYuan } from '../../../src/domain/notifications/index.ts';
import { createReferenceEvaluator, loadPolicySet, readRulesDir } from '../../../src/domain/rules/index.ts';
import { maskIdentities } from '../../../src/api/http.ts';
import { decisionDetail, parameterText } from '../../../src/api/view.ts';
import { nextEntry } from '../../../src/domain/ledger/index.ts';
import { CALLERS, testApi } from './fixtures.ts';
import { decision } from './memory-store.ts';

const cond = (over: Record<string, unknown>) => ({
  result: true,
  at: '$.conditions.all[0]',
  sensitivity: 'internal',
  ...over,
});

describe('Function: explainDecision', () => {
  it('says each condition in plain zh-CN and en, with the value only for public and internal facts', () => {
    // Act
    const lines = explainDecision({
      conditions: [
        cond({ fact: 'hukouRegion', operator: 'startsWith', threshold: { value: '11' }, shown: '110108' }),
        cond({
          fact: 'ageOnPeriodStart',
          operator: 'greaterThanInclusive',
          threshold: { value: 80 },
          sensitivity: 'restricted',
        }),
        cond({
          fact: 'aliveOnPeriodStart',
          operator: 'equal',
          threshold: { value: true },
          sensitivity: 'restricted',
        }),
        cond({ fact: 'uiArrears', operator: 'equal', threshold: { value: false }, shown: false }),
      ],
    });
    // Assess
    expect(lines.map((l) => l['zh-CN'])).toEqual([
      '户籍地区划代码 开头为 11（实际：110108）：满足',
      '年龄（期初） ≥ 80：满足',
      '期初在世：满足',
      '年末欠缴失业保险费：否：满足',
    ]);
    expect(lines.map((l) => l.en)).toEqual([
      'Household-registration region code starts with 11 (actual: 110108): met',
      'Age on the first day of the period ≥ 80: met',
      'Alive on the first day of the period: met',
      'Premiums in arrears at the end of the year: no: met',
    ]);
  });

  it('never shows a restricted or secret value, even when the record carries one', () => {
    // Act
    const lines = explainDecision({
      conditions: [
        cond({
          fact: 'taxableIncome',
          operator: 'lessThanInclusive',
          threshold: { value: 300000000 },
          shown: 123456789,
          sensitivity: 'internal',
        }),
        cond({
          fact: 'disabilityLevel',
          operator: 'in',
          threshold: { value: [1, 2] },
          actual: 1,
          sensitivity: 'secret',
        }),
      ],
    });
    // Assess
    const text = JSON.stringify(lines);
    expect(text).not.toContain('123456789');
    expect(text).not.toContain('1,234,567.89');
    expect(lines[0]?.['zh-CN']).toBe('年度应纳税所得额 ≤ 3,000,000.00元：满足');
    expect(lines[1]?.en).toBe('Disability level is one of 1, 2: met');
  });

  it('nests an "any of" group under a heading with its own outcome, and says unknown plainly', () => {
    // Act
    const lines = explainDecision({
      conditions: [
        cond({
          fact: 'localTaxesDue',
          operator: 'greaterThan',
          threshold: { value: 0 },
          sensitivity: 'restricted',
        }),
        cond({
          at: '$.conditions.all[1].any[0]',
          fact: 'vatTaxpayerType',
          operator: 'equal',
          threshold: { value: 'small-scale' },
          result: 'unknown',
        }),
        cond({
          at: '$.conditions.all[1].any[1]',
          fact: 'enterpriseType',
          operator: 'equal',
          threshold: { value: 'individual-business' },
          shown: 'individual-business',
        }),
      ],
    });
    // Assess
    expect(lines.map((l) => [l.depth, l.met, l.en])).toEqual([
      [0, true, 'Six local taxes and two fees due > CNY 0.00: met'],
      [0, true, 'At least one of the following: met'],
      [1, null, 'VAT taxpayer status = small-scale taxpayer: unknown (information missing)'],
      [1, true, 'Type of business = individual business (actual: individual business): met'],
    ]);
  });

  it('names reason codes in words, falling back to the code', () => {
    expect(reasonText('missing-fact:hukouRegion')).toEqual({
      'zh-CN': '缺少信息：户籍地区划代码',
      en: 'Information missing: Household-registration region code',
    });
    expect(reasonText('not-alive').en).toBe('Deceased before the first day of the period');
    expect(reasonText('some-new-code')).toEqual({ 'zh-CN': 'some-new-code', en: 'some-new-code' });
  });
});

describe('Function: workingInWords', () => {
  it("puts the working of every shipped policy's eligible test cases in words, with the amount in yuan", async () => {
    // Prepare: the engine's own working texts, from the reference evaluator on the rule test cases.
    const set = loadPolicySet('rules');
    const evaluator = createReferenceEvaluator(set);
    const kinds = new Set<string>();
    let worded = 0;
    for (const [policy, { cases }] of readRulesDir('rules').tests) {
      for (const c of cases.filter((x) => x.expected.outcome === 'eligible')) {
        const [e] = await evaluator.evaluate({ subject: 's', kind: c.kind, facts: c.facts }, c.period, {
          policy,
        });
        const text = amountWorking(e!.explanation).text!;
        // Act
        const words = workingInWords(text);
        // Assess
        expect(words, text).toBeDefined();
        const total = formatYuan(e!.amount!);
        expect(words!['zh-CN']).toContain(`= ${total} 元`);
        expect(words!.en).toContain(`= CNY ${total}`);
        expect(`${words!['zh-CN']} ${words!.en}`).not.toMatch(/countedMonths|[a-z]+[A-Z][a-z]+ [×i]/);
        kinds.add(set.policies.find((p) => p.id === policy)!.amount.kind);
        worded += 1;
      }
    }
    expect([...kinds].sort()).toEqual(['fixed', 'perCountedMonth', 'percentOf', 'tiered']);
    expect(worded).toBeGreaterThan(20);
  });

  it('says a per-month working in both languages, with the parameter it used', () => {
    expect(
      workingInWords('countedMonths × 20000 [childcare.amount-per-month from 2025-01-01] = 240000'),
    ).toEqual({
      'zh-CN': '可计发月数 × 每月 200.00 元（参数 childcare.amount-per-month，2025-01-01 起） = 2,400.00 元',
      en: 'counted months × CNY 200.00 (parameter childcare.amount-per-month, from 2025-01-01) a month = CNY 2,400.00',
    });
  });

  it('names the values of a tier list in words, not as JSON', () => {
    const words = workingInWords(
      'enterpriseSize in tier 1 (in ["medium","small","micro"]): uiPremiumsPaid × 60 [job-stabilization.refund-percent.sme from 2022-01-01] / 100, rounded half-up to a fen = 600000',
    );
    expect(words?.['zh-CN']).toContain('（属于 中型、小型、微型）');
    expect(words?.en).toContain('(one of medium, small, micro)');
    expect(JSON.stringify(words)).not.toContain('[\\"');
  });

  it('leaves a text of another shape alone', () => {
    expect(workingInWords('tier by ageOnPeriodStart: unknown')).toBeUndefined();
    expect(workingInWords('something = 12')).toBeUndefined();
  });
});

describe('Function: decisionsCsv', () => {
  it('writes a BOM, a bilingual header, CRLF rows, yuan with two decimals and RFC 4180 quoting', () => {
    // Prepare
    const d = { ...decision({ amount: 1234505, reviewReason: 'x, "quoted"' }), inReviewQueue: true };
    // Act
    const text = decisionsCsv([d], () => '高龄津贴');
    // Assess
    expect(text.startsWith('\uFEFF业务编号 Reference,')).toBe(true);
    const rows = text.slice(1).split('\r\n');
    expect(rows).toHaveLength(3);
    expect(rows[2]).toBe('');
    expect(rows[1]).toContain(',"12,345.05",');
    expect(rows[1]).toContain(',"x, ""quoted""",');
    expect(rows[1]).toContain(',高龄津贴,');
    expect(text).not.toMatch(/[^\r]\n/);
  });

  it('keeps Excel from running a cell as a formula', () => {
    expect(csvCell('=HYPERLINK("http://x")')).toBe(`"'=HYPERLINK(""http://x"")"`);
    expect(csvCell('@SUM(A1)')).toBe("'@SUM(A1)");
    expect(csvCell('-12.50')).toBe('-12.50');
  });
});

describe('Route: GET /api/export.csv', () => {
  it('downloads the filtered decisions as a UTF-8 CSV attachment', async () => {
    // Prepare
    const s = testApi();
    const kept = decision({ status: 'revoked' });
    s.store.put(kept);
    s.store.put(decision());
    // Act
    const r = await s.call('GET', '/api/export.csv', {
      claims: CALLERS.auditor,
      query: { status: 'revoked' },
    });
    // Assess
    expect(r.status).toBe(200);
    expect(r.headers['content-type']).toBe('text/csv; charset=utf-8');
    expect(r.headers['content-disposition']).toBe('attachment; filename="decisions-all-revoked.csv"');
    const rows = r.text.split('\r\n').filter(Boolean);
    expect(rows).toHaveLength(2);
    expect(rows[1]).toContain(kept.ref);
  });
});

describe('Function: maskIdentities', () => {
  it('masks valid identity numbers but leaves hashes and pseudonyms alone', () => {
    const hash = 'ab12345678901234567890cd'.padEnd(64, '0');
    expect(maskIdentities('id 110105199307210867 here')).toBe(`id ${'*'.repeat(18)} here`);
    expect(maskIdentities(`ps_${'1'.repeat(32)} ${hash}`)).toBe(`ps_${'1'.repeat(32)} ${hash}`);
  });
});

describe('Function: parameterText', () => {
  it('says a parameter value by its unit: yuan, percent, ratio, years; nothing for an unknown shape', () => {
    expect(parameterText(5000000000, 'fen')).toEqual({
      'zh-CN': '50,000,000.00 元',
      en: 'CNY 50,000,000.00',
    });
    expect(parameterText(60, 'percent')).toEqual({ 'zh-CN': '60%', en: '60%' });
    expect(parameterText({ numerator: 55, denominator: 1000 }, 'ratio')).toEqual({
      'zh-CN': '55/1000 (5.5%)',
      en: '55/1000 (5.5%)',
    });
    expect(parameterText(80, 'years')).toEqual({ 'zh-CN': '80 周岁', en: '80 years' });
    expect(parameterText('11', 'region-prefix')).toEqual({ 'zh-CN': '11', en: '11' });
    expect(parameterText({ other: 1 }, undefined)).toBeUndefined();
  });
});

describe('Function: decisionDetail (history)', () => {
  it('keeps saying in words why a period was flagged after the flag is resolved', () => {
    // Prepare: a grant of 100 yuan flagged "not alive", then resolved by a reviewer (no flag left).
    const d = { ...decision({ amount: 10000, status: 'revoked' }), inReviewQueue: false };
    const flagged = nextEntry(undefined, {
      chain: d.subject,
      kind: 'eligibility-changed',
      actor: 'engine',
      at: '2025-04-01T00:00:00.000Z',
      payload: {
        decision: 'k',
        outcome: 'not-eligible',
        amount: null,
        reasons: ['not-alive'],
        eventIds: ['e2'],
        grantedAmount: 10000,
      },
    });
    const resolved = nextEntry(flagged, {
      chain: d.subject,
      kind: 'review.resolve',
      actor: 'reviewer-1',
      at: '2025-04-02T00:00:00.000Z',
      payload: { decision: 'k', resolution: 'revoke', reason: 'Death registered.' },
    });
    // Act
    const detail = decisionDetail(d, undefined, [flagged, resolved], () => undefined);
    // Assess
    expect(detail.flag).toBeNull();
    expect(detail.history.map((e) => e.flag?.en ?? null)).toEqual([
      'Under the information of 2025-04-01 the beneficiary no longer qualifies.',
      null,
    ]);
    expect(detail.history[0]!.flag!.reasons).toEqual([{ code: 'not-alive', ...reasonText('not-alive') }]);
    expect(detail.history[0]!.flag!.eventIds).toEqual(['e2']);
  });
});
