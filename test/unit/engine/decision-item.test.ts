import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { brotliCompressSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import {
  DETAIL_ATTRIBUTE,
  isPackedDetail,
  packDetail,
  unpackDetail,
} from '../../../src/adapters/dynamodb/decision-detail.ts';
import {
  DETAIL_DICTIONARY_1,
  DETAIL_DICTIONARY_1_SHA256,
} from '../../../src/adapters/dynamodb/detail-dictionary.ts';
import { decisionItem, fromDecisionItem } from '../../../src/adapters/dynamodb/subject-store.ts';
import type { Decision } from '../../../src/domain/engine/model.ts';
import { makePersonId } from '../../../src/domain/identity.ts';
import { createReferenceEvaluator, loadPolicySet } from '../../../src/domain/rules/index.ts';
import { DECISION_SUMMARY } from '../../../src/resources.ts';
import { plainItemSize } from '../../../src/testing/cost-meter.ts';
import { IdentityScan, mask, rawIdentityNumbers } from '../../../src/testing/scan.ts';
import { decision } from '../api/memory-store.ts';

/** An explanation the size of a real one: conditions, parameters and their lines. */
function bulkyDecision(over: Partial<Decision> = {}): Decision {
  const conditions = Array.from({ length: 6 }, (_, i) => ({
    result: true,
    at: `$.conditions.all[${i}]`,
    fact: `fact${i}`,
    name: `fact${i}-not-positive`,
    threshold: { value: 0 },
    sensitivity: 'internal',
    shown: 16 + i,
    text: `fact${i} (${16 + i}) > 0: true`,
    operator: 'greaterThan',
  }));
  return decision({
    reasons: ['none'],
    explanation: {
      policy: 'elderly-allowance',
      period: '2025-03',
      outcome: 'eligible',
      ruleHash: 'b'.repeat(64),
      amount: { value: 10000, text: 'tier 1: 100 yuan a month, rounded half-up to a fen = 10000' },
      conditions,
      parameters: [
        { name: 'elderly.amount', value: { numerator: 55, denominator: 1000 }, from: '2022-01-01' },
      ],
      lines: conditions.map((c) => `  ${c.text}`),
      dependsOn: [],
      effective: { from: '2023', to: '2027', inside: true },
      ratio: 0.1,
      none: null,
    },
    notifyNote: 'no guardians on record',
    ...over,
  });
}

describe('Decision items: summary plain, detail packed', () => {
  it('reads back exactly the decision it stored', () => {
    // Prepare
    const d = bulkyDecision({ reviewReason: 'sampled', flag: undefined });
    // Act
    const item = decisionItem(d);
    const back = fromDecisionItem(item);
    // Assess
    expect(back).toEqual(d);
    expect(JSON.parse(JSON.stringify(back))).toEqual(JSON.parse(JSON.stringify(d)));
  });

  it('keeps every summary field and index key plain, and nothing else but the packed detail', () => {
    const d = bulkyDecision({ reviewReason: 'sampled' });
    const item = decisionItem(d);
    const summary = DECISION_SUMMARY.filter((f) => f in d);
    expect(Object.keys(item).sort()).toEqual(
      ['pk', 'sk', 'policyPeriod', 'reviewBucket', DETAIL_ATTRIBUTE, ...summary].sort(),
    );
    for (const f of summary) expect(item[f]).toEqual(d[f as keyof Decision]);
    expect(item.reviewBucket).toBe('review');
    expect(item.policyPeriod).toBe('elderly-allowance#2025-03');
    expect(isPackedDetail(item[DETAIL_ATTRIBUTE])).toBe(true);
    expect(unpackDetail(item[DETAIL_ATTRIBUTE] as Uint8Array)).toEqual({
      ruleSetHash: d.ruleSetHash,
      reasons: d.reasons,
      explanation: d.explanation,
      provenance: d.provenance,
      notifyNote: d.notifyNote,
    });
  });

  it('stores the detail in a fraction of its plain size', () => {
    const d = bulkyDecision();
    const plain = { pk: d.subject, ...d };
    expect(plainItemSize(decisionItem(d))).toBeLessThan(plainItemSize(plain) / 2);
  });

  it('reads an index projection (no detail) and an item stored with plain detail attributes', () => {
    const d = bulkyDecision();
    const { [DETAIL_ATTRIBUTE]: _packed, ...projection } = decisionItem(d);
    expect(fromDecisionItem(projection)).toEqual(
      Object.fromEntries(
        Object.entries(d).filter(([k]) => (DECISION_SUMMARY as readonly string[]).includes(k)),
      ),
    );
    const plainItem = { pk: d.subject, sk: 'elderly-allowance#2025-03', ...d, policyPeriod: 'x' };
    expect(fromDecisionItem(plainItem)).toEqual(d);
  });

  it('fits the item of a grant of every policy in 1 KB (one write unit)', async () => {
    // Prepare: the last eligible case of each policy's rule tests, explained by the evaluator.
    const set = loadPolicySet('rules');
    const evaluator = createReferenceEvaluator(set);
    const files = readdirSync('rules').filter((f) => f.endsWith('.test.json'));
    expect(files.length).toBeGreaterThan(5);
    for (const file of files) {
      const policy = file.replace('.test.json', '');
      const cases = JSON.parse(readFileSync(`rules/${file}`, 'utf8')) as Array<{
        kind: 'person' | 'enterprise';
        period: string;
        facts: Record<string, unknown>;
        expected: { outcome: string };
      }>;
      const c = cases.filter((x) => x.expected.outcome === 'eligible').at(-1)!;
      const [e] = await evaluator.evaluate(
        { subject: 'ps_0f3a9c2e7b1d4e6f8a0b2c4d6e8f0a1b', kind: c.kind, facts: c.facts as never },
        c.period,
        { policy },
      );
      const d = bulkyDecision({
        policy,
        period: c.period,
        kind: c.kind,
        amount: e!.amount!,
        reasons: e!.reasons,
        explanation: e!.explanation,
        provenance: e!.factsUsed.map((fact, i) => ({
          fact,
          eventId: `hrss-9f82f7-00000043${i}`,
          source: 'hrss',
          occurredAt: '2026-02-24T15:34:49+08:00',
        })),
        ruleSetHash: 'c'.repeat(64),
        reviewReason: 'amount-above-threshold',
      });
      // Act
      const item = decisionItem(d);
      // Assess
      expect(plainItemSize({ pk: d.subject, ...d }), policy).toBeGreaterThan(1024);
      expect(plainItemSize(item), policy).toBeLessThanOrEqual(1024);
      expect(fromDecisionItem(item)).toEqual(d);
    }
  });

  it('writes codec 2 (deflate with the pinned dictionary) and still reads codec 1 (Brotli)', () => {
    expect(createHash('sha256').update(DETAIL_DICTIONARY_1, 'utf8').digest('hex')).toBe(
      DETAIL_DICTIONARY_1_SHA256,
    );
    expect(DETAIL_DICTIONARY_1_SHA256).toBe(
      '8131c81f8fd726a887a26639c8bbfd51c8173c4b27494dc3d49ba9c83af99699',
    );
    const d = bulkyDecision();
    const item = decisionItem(d);
    expect((item[DETAIL_ATTRIBUTE] as Uint8Array)[0]).toBe(2);
    const { subject: _s, kind: _k, policy: _p, period: _pe, status: _st, ...rest } = d;
    const detail = Object.fromEntries(Object.entries(rest).filter(([k]) => !(k in item)));
    const brotli = Buffer.from(brotliCompressSync(JSON.stringify(detail)));
    const codec1 = new Uint8Array([1, ...brotli]);
    expect(isPackedDetail(codec1)).toBe(true);
    expect(fromDecisionItem({ ...item, [DETAIL_ATTRIBUTE]: codec1 })).toEqual(d);
  });

  it('refuses an unknown codec and damaged bytes instead of reading an empty detail', () => {
    const packed = packDetail({ explanation: { a: 1 } });
    const unknown = Uint8Array.from(packed);
    unknown[0] = 9;
    expect(() => unpackDetail(unknown)).toThrow(/unknown codec 9/);
    expect(() => unpackDetail(packed.subarray(0, packed.length - 3))).toThrow();
    expect(() => fromDecisionItem({ pk: 'p', sk: 's', [DETAIL_ATTRIBUTE]: unknown })).toThrow(/codec/);
  });
});

describe('Identity scan of packed attributes', () => {
  it('finds a raw identity number planted inside a compressed explanation', () => {
    // Prepare: the number hides from a scan of the stored bytes.
    const raw = makePersonId('110105', '1949-12-31', 2);
    const item = decisionItem(bulkyDecision({ explanation: { lines: [`holder ${raw} is eligible`] } }));
    expect(rawIdentityNumbers(JSON.stringify(item))).toEqual([]);
    expect(rawIdentityNumbers(Buffer.from(item[DETAIL_ATTRIBUTE] as Uint8Array).toString('latin1'))).toEqual(
      [],
    );
    // Act
    const scan = new IdentityScan();
    scan.item('decisions', item);
    // Assess
    expect(scan.leaks).toEqual([
      { where: `table decisions, attribute ${DETAIL_ATTRIBUTE}`, kind: 'person', masked: mask(raw) },
    ]);
    expect(scan.scanned['packed attributes']).toBe(1);
  });

  it('reads other binary values as text, and finds nothing in a clean packed decision', () => {
    const raw = makePersonId('110108', '1961-03-04', 15);
    const scan = new IdentityScan();
    scan.item('decisions', decisionItem(bulkyDecision()));
    expect(scan.leaks).toEqual([]);
    scan.item('meta', { pk: 'x', blob: new Uint8Array(Buffer.from(`id ${raw}`)) });
    expect(scan.leaks.map((l) => l.where)).toEqual(['table meta, attribute blob']);
  });
});
