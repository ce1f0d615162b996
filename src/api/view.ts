/**
 * How decisions look in API responses: the stored record plus what a reader needs to act on it
 * (amount in yuan, status in words, the explanation in plain language, the policy's legal basis).
 */
import type { DecisionStatus } from '../domain/engine/model.ts';
import type { LedgerEntry } from '../domain/ledger/index.ts';
import { formatAmount, formatPeriod, formatYuan } from '../domain/notifications/index.ts';
import {
  amountWorking,
  workingInWords,
  type ExplanationLine,
  explainDecision,
  factLabel,
  type PolicyTitles,
  reasonText,
} from './explain.ts';
import type { StoredDecision } from './ports.ts';

/** What the API knows of a policy, from the published rule files. */
export interface PolicyInfo {
  id: string;
  version: string;
  title: { 'zh-CN': string; en: string };
  legalReference: { document: string; article: string; link: string };
  reviewSampleRate: number;
  /** The unit of each dated parameter of the rule set (`fen`, `percent`, `ratio`, …), to show values in words. */
  parameterUnits?: Readonly<Record<string, string>>;
}

/** A dated parameter's value in words, by its unit: fen as yuan, a percentage with %, a ratio n/d. */
export function parameterText(
  value: unknown,
  unit: string | undefined,
): { 'zh-CN': string; en: string } | undefined {
  if (unit === 'fen' && typeof value === 'number' && Number.isSafeInteger(value)) {
    return { 'zh-CN': `${formatYuan(value)} 元`, en: `CNY ${formatYuan(value)}` };
  }
  if (unit === 'percent' && typeof value === 'number') return { 'zh-CN': `${value}%`, en: `${value}%` };
  if (value !== null && typeof value === 'object') {
    const r = value as { numerator?: unknown; denominator?: unknown };
    if (typeof r.numerator === 'number' && typeof r.denominator === 'number' && r.denominator > 0) {
      const pct = `${Number(((r.numerator / r.denominator) * 100).toPrecision(6))}%`;
      const text = `${r.numerator}/${r.denominator} (${pct})`;
      return { 'zh-CN': text, en: text };
    }
    return undefined;
  }
  if (unit === 'years' && typeof value === 'number')
    return { 'zh-CN': `${value} 周岁`, en: `${value} years` };
  if (typeof value === 'number' || typeof value === 'string')
    return { 'zh-CN': String(value), en: String(value) };
  return undefined;
}

/** Statuses in words. */
export const STATUS_LABELS: Record<DecisionStatus, { 'zh-CN': string; en: string }> = {
  granted: { 'zh-CN': '已享受', en: 'granted' },
  'eligibility-changed': { 'zh-CN': '资格变化待复核', en: 'eligibility changed' },
  confirmed: { 'zh-CN': '已确认', en: 'confirmed' },
  revoked: { 'zh-CN': '已撤销', en: 'revoked' },
  declined: { 'zh-CN': '本人已放弃', en: 'declined' },
  objected: { 'zh-CN': '本人有异议', en: 'objected' },
};

/** Why a decision is in the review queue, in words. */
export const REVIEW_REASON_LABELS: Record<string, { 'zh-CN': string; en: string }> = {
  sampled: { 'zh-CN': '随机抽查', en: 'random sample' },
  'amount-above-threshold': { 'zh-CN': '金额超过复核阈值', en: 'amount above the review threshold' },
  'eligibility-changed': { 'zh-CN': '享受条件发生变化', en: 'eligibility changed' },
  // The beneficiary or a guardian (the decision's history says which).
  objected: { 'zh-CN': '受益人或其监护人提出异议', en: 'an objection (beneficiary or guardian)' },
  declined: { 'zh-CN': '受益人或其监护人放弃享受', en: 'declined (by the beneficiary or a guardian)' },
};

/** A decision in a listing: the record plus amount in yuan, policy title and status in words. */
export function decisionView(d: StoredDecision, policy?: PolicyInfo): Record<string, unknown> {
  return {
    ...d,
    ...(policy ? { policyTitle: policy.title } : {}),
    amountYuan: formatYuan(d.amount),
    statusLabel: STATUS_LABELS[d.status] ?? { 'zh-CN': d.status, en: d.status },
    ...(d.reviewReason
      ? {
          reviewReasonLabel: REVIEW_REASON_LABELS[d.reviewReason] ?? {
            'zh-CN': d.reviewReason,
            en: d.reviewReason,
          },
        }
      : {}),
  };
}

/** A stored fact key (`localTaxesDue#2025`) in words: `六税两费应纳税额（2025年）`. */
function provenanceLabel(key: string): { 'zh-CN': string; en: string } {
  const [fact, year] = key.split('#');
  const zh = factLabel(fact!, 'zh-CN');
  const en = factLabel(fact!, 'en');
  return year ? { 'zh-CN': `${zh}（${year}年）`, en: `${en} (${year})` } : { 'zh-CN': zh, en };
}

/** A decision in full: plain-language explanation, summary, legal basis, provenance and history. */
export interface DecisionDetail {
  decision: Record<string, unknown>;
  policy: PolicyInfo | null;
  summary: { 'zh-CN': string; en: string };
  explanation: ExplanationLine[];
  reasons: Array<{ code: string; 'zh-CN': string; en: string }>;
  /** How the amount was worked out (the engine's own words) and the dated parameters used. */
  amount: {
    fen: number;
    yuan: string;
    working?: string;
    /** `working` in words (both languages), when its shape is known. */
    workingText?: { 'zh-CN': string; en: string };
    parameters: Array<{ name: string; value: unknown; from: string; text?: { 'zh-CN': string; en: string } }>;
  };
  /** What a later evaluation said, when the decision is flagged eligibility-changed. */
  flag: {
    'zh-CN': string;
    en: string;
    reasons: Array<{ code: string; 'zh-CN': string; en: string }>;
    /** The events whose facts changed the evaluation. */
    eventIds: string[];
  } | null;
  /** The events the decision rests on, each with the fact it gave in words. */
  provenance: Array<StoredDecision['provenance'][number] & { label: { 'zh-CN': string; en: string } }>;
  ruleVersion: string;
  ruleSetHash: string;
  /** The decision's ledger entries; a flag's entry with the flag in words. */
  history: Array<LedgerEntry & { flag?: NonNullable<DecisionDetail['flag']> }>;
}

/** Builds the detail view of a decision. */
export function decisionDetail(
  d: StoredDecision,
  policy: PolicyInfo | undefined,
  history: LedgerEntry[],
  titles: PolicyTitles,
): DecisionDetail {
  const working = amountWorking(d.explanation);
  const zhTitle = policy?.title['zh-CN'] ?? d.policy;
  const enTitle = policy?.title.en ?? d.policy;
  const status = STATUS_LABELS[d.status] ?? { 'zh-CN': d.status, en: d.status };
  return {
    decision: decisionView(d, policy),
    policy: policy ?? null,
    summary: {
      'zh-CN':
        `${zhTitle}（${formatPeriod(d.period, 'zh-CN')}），金额${formatAmount(d.amount, 'zh-CN')}，` +
        `当前状态：${status['zh-CN']}。`,
      en:
        `${enTitle} for ${formatPeriod(d.period, 'en')}, amount ${formatAmount(d.amount, 'en')}, ` +
        `status: ${status.en}.`,
    },
    explanation: explainDecision(d.explanation, titles),
    reasons: d.reasons.map((code) => ({ code, ...reasonText(code) })),
    amount: {
      fen: d.amount,
      yuan: formatYuan(d.amount),
      ...(working.text ? { working: working.text } : {}),
      ...(working.text && workingInWords(working.text) ? { workingText: workingInWords(working.text)! } : {}),
      parameters: working.parameters.map((p) => {
        const text = parameterText(p.value, policy?.parameterUnits?.[p.name]);
        return text ? { ...p, text } : p;
      }),
    },
    flag: d.flag ? flagView(d.flag, d.amount) : null,
    provenance: d.provenance.map((p) => ({ ...p, label: provenanceLabel(p.fact) })),
    ruleVersion: d.ruleVersion,
    ruleSetHash: d.ruleSetHash,
    // A flag's entry keeps saying why, in words, after a reviewer has resolved the flag.
    history: history.map((e) => {
      const p = e.payload as Partial<{
        outcome: string;
        amount: number | null;
        reasons: string[];
        eventIds: string[];
        grantedAmount: number;
      }>;
      return e.kind === 'eligibility-changed' && Array.isArray(p.reasons)
        ? {
            ...e,
            flag: flagView(
              {
                outcome: p.outcome ?? 'not-eligible',
                amount: typeof p.amount === 'number' ? p.amount : null,
                reasons: p.reasons,
                at: e.at,
                eventIds: p.eventIds ?? [],
              },
              typeof p.grantedAmount === 'number' ? p.grantedAmount : d.amount,
            ),
          }
        : e;
    }),
  };
}

/** What a later evaluation said of a granted period, in words: the amount it gives now, or that the subject no longer qualifies, and why. */
function flagView(
  flag: { outcome: string; amount: number | null; reasons: string[]; at: string; eventIds?: string[] },
  granted: number,
): NonNullable<DecisionDetail['flag']> {
  const day = flag.at.slice(0, 10);
  const changed = flag.outcome === 'eligible' && flag.amount !== null;
  return {
    'zh-CN': changed
      ? `按${day}的最新信息，金额应为${formatAmount(flag.amount!, 'zh-CN')}（原为${formatAmount(granted, 'zh-CN')}）。`
      : `按${day}的最新信息，已不再符合享受条件。`,
    en: changed
      ? `Under the information of ${day} the amount would be ${formatAmount(flag.amount!, 'en')} (granted: ${formatAmount(granted, 'en')}).`
      : `Under the information of ${day} the beneficiary no longer qualifies.`,
    reasons: flag.reasons.map((code) => ({ code, ...reasonText(code) })),
    eventIds: [...(flag.eventIds ?? [])],
  };
}
