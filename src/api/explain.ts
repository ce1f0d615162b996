/**
 * A decision's explanation in plain words, in zh-CN and en, for a reviewer who has never read a
 * rule file: "年龄（期初）≥ 80：满足 / Age on the first day of the period ≥ 80: met".
 *
 * The rules engine records, per condition, the fact, operator, threshold, result and (for public
 * and internal facts only) the value it compared. This module reads that record tolerantly (a
 * list, or a tree of `all`/`any`/`not` groups) and, whatever the record holds, never shows the
 * value of a restricted or secret fact (usable but not visible: 可用不可见).
 */
import { factDefinition } from '../domain/facts/catalogue.ts';
import { derivedFact, ELIGIBLE_FOR_PREFIX } from '../domain/facts/derived.ts';
import { formatYuan } from '../domain/notifications/index.ts';

/** One line of an explanation. */
export interface ExplanationLine {
  /** Nesting depth: 0 for top-level conditions, 1 inside an "any of" group, … */
  depth: number;
  /** True met, false not met, null not evaluated (or unknown). */
  met: boolean | null;
  'zh-CN': string;
  en: string;
}

/** Plain-language names of the facts rules may read. */
export const FACT_LABELS: Record<string, { 'zh-CN': string; en: string }> = {
  birthDate: { 'zh-CN': '出生日期', en: 'Date of birth' },
  deathDate: { 'zh-CN': '死亡日期', en: 'Date of death' },
  hukouRegion: { 'zh-CN': '户籍地区划代码', en: 'Household-registration region code' },
  guardians: { 'zh-CN': '监护人', en: 'Guardians' },
  disabilityLevel: { 'zh-CN': '残疾等级', en: 'Disability level' },
  disabilityCertValidUntil: { 'zh-CN': '残疾证有效期至', en: 'Disability certificate valid until' },
  dibaoEnrolled: { 'zh-CN': '享受最低生活保障', en: 'Receives the minimum living allowance (dibao)' },
  enterpriseType: { 'zh-CN': '市场主体类型', en: 'Type of business' },
  vatTaxpayerType: { 'zh-CN': '增值税纳税人类型', en: 'VAT taxpayer status' },
  industryRestricted: { 'zh-CN': '从事限制或禁止行业', en: 'In a restricted or prohibited industry' },
  taxableIncome: { 'zh-CN': '年度应纳税所得额', en: 'Annual taxable income' },
  employeesAvg: { 'zh-CN': '全年平均从业人数', en: 'Average number of employees' },
  totalAssetsAvg: { 'zh-CN': '全年平均资产总额', en: 'Average total assets' },
  localTaxesDue: { 'zh-CN': '六税两费应纳税额', en: 'Six local taxes and two fees due' },
  enterpriseSize: { 'zh-CN': '企业规模', en: 'Enterprise size' },
  uiPremiumsPaid: { 'zh-CN': '实际缴纳失业保险费', en: 'Unemployment-insurance premiums paid' },
  uiInsuredHeadcount: { 'zh-CN': '年初参保职工人数', en: 'Insured employees at the start of the year' },
  uiLayoffs: { 'zh-CN': '年度裁员人数', en: 'Insured employees laid off in the year' },
  uiArrears: { 'zh-CN': '年末欠缴失业保险费', en: 'Premiums in arrears at the end of the year' },
  ageOnPeriodStart: { 'zh-CN': '年龄（期初）', en: 'Age on the first day of the period' },
  aliveOnPeriodStart: { 'zh-CN': '期初在世', en: 'Alive on the first day of the period' },
  countedMonths: { 'zh-CN': '本期可计月数', en: 'Months counted in the period' },
  certValidOnPeriodStart: {
    'zh-CN': '残疾证期初有效',
    en: 'Disability certificate valid on the first day of the period',
  },
  layoffRateWithinLimit: { 'zh-CN': '裁员率在限额内', en: 'Layoff rate within the limit' },
};

const VALUE_LABELS: Record<string, { 'zh-CN': string; en: string }> = {
  company: { 'zh-CN': '企业', en: 'company' },
  'individual-business': { 'zh-CN': '个体工商户', en: 'individual business' },
  'small-scale': { 'zh-CN': '小规模纳税人', en: 'small-scale taxpayer' },
  general: { 'zh-CN': '一般纳税人', en: 'general taxpayer' },
  large: { 'zh-CN': '大型', en: 'large' },
  medium: { 'zh-CN': '中型', en: 'medium' },
  small: { 'zh-CN': '小型', en: 'small' },
  micro: { 'zh-CN': '微型', en: 'micro' },
};

type Lang = 'zh-CN' | 'en';

const OPERATORS: Record<string, { 'zh-CN': string; en: string }> = {
  equal: { 'zh-CN': '=', en: '=' },
  notEqual: { 'zh-CN': '≠', en: '≠' },
  lessThan: { 'zh-CN': '<', en: '<' },
  lessThanInclusive: { 'zh-CN': '≤', en: '≤' },
  greaterThan: { 'zh-CN': '>', en: '>' },
  greaterThanInclusive: { 'zh-CN': '≥', en: '≥' },
  in: { 'zh-CN': '属于', en: 'is one of' },
  notIn: { 'zh-CN': '不属于', en: 'is not one of' },
  contains: { 'zh-CN': '包含', en: 'contains' },
  doesNotContain: { 'zh-CN': '不包含', en: 'does not contain' },
  startsWith: { 'zh-CN': '开头为', en: 'starts with' },
};

const SYMBOL_NAMES: Record<string, string> = {
  '==': 'equal',
  '=': 'equal',
  '!=': 'notEqual',
  '<': 'lessThan',
  '<=': 'lessThanInclusive',
  '>': 'greaterThan',
  '>=': 'greaterThanInclusive',
  'not in': 'notIn',
  'does not contain': 'doesNotContain',
  'starts with': 'startsWith',
};

/** The sensitivity of a fact (base or derived); unknown names count as restricted. */
function sensitivityOf(fact: string): string {
  const base = fact.split('.')[0]!;
  if (base.startsWith(ELIGIBLE_FOR_PREFIX)) return 'internal';
  return factDefinition(base)?.sensitivity ?? derivedFact(base)?.sensitivity ?? 'restricted';
}

function isFen(fact: string): boolean {
  return factDefinition(fact.split('.')[0]!)?.type.kind === 'fen';
}

/** Looks up another policy's title (for "eligible for … in the period"). */
export type PolicyTitles = (id: string) => { 'zh-CN': string; en: string } | undefined;

/** A fact's plain-language name. */
export function factLabel(fact: string, lang: Lang, titles?: PolicyTitles): string {
  if (fact.startsWith(ELIGIBLE_FOR_PREFIX)) {
    const id = fact.slice(ELIGIBLE_FOR_PREFIX.length);
    const title = titles?.(id)?.[lang] ?? id;
    return lang === 'zh-CN' ? `本期符合“${title}”条件` : `Eligible for ${title} in the period`;
  }
  return FACT_LABELS[fact]?.[lang] ?? fact;
}

/** A value as a reader writes it. */
function showValue(v: unknown, fact: string, lang: Lang): string {
  if (v && typeof v === 'object' && !Array.isArray(v)) {
    const o = v as Record<string, unknown>;
    if ('value' in o) return showValue(o.value, fact, lang);
    if (typeof o.numerator === 'number' && typeof o.denominator === 'number') {
      return `${o.numerator}/${o.denominator}`;
    }
    if (typeof o.param === 'string') return lang === 'zh-CN' ? `参数 ${o.param}` : `parameter ${o.param}`;
    return JSON.stringify(v);
  }
  if (Array.isArray(v)) return v.map((x) => showValue(x, fact, lang)).join(lang === 'zh-CN' ? '、' : ', ');
  if (typeof v === 'boolean') return lang === 'zh-CN' ? (v ? '是' : '否') : v ? 'yes' : 'no';
  if (typeof v === 'number' && isFen(fact) && Number.isSafeInteger(v)) {
    return lang === 'zh-CN' ? `${formatYuan(v)}元` : `CNY ${formatYuan(v)}`;
  }
  if (typeof v === 'string') return VALUE_LABELS[v]?.[lang] ?? v;
  if (v === null) return lang === 'zh-CN' ? '无' : 'none';
  return String(v);
}

const OUTCOME_WORDS = {
  'zh-CN': { met: '满足', notMet: '不满足', unknown: '信息缺失，无法判断' },
  en: { met: 'met', notMet: 'not met', unknown: 'unknown (information missing)' },
} as const;

const outcome = (met: boolean | null, lang: Lang): string =>
  met === null ? OUTCOME_WORDS[lang].unknown : met ? OUTCOME_WORDS[lang].met : OUTCOME_WORDS[lang].notMet;

type Node = Record<string, unknown>;

const asNode = (x: unknown): Node | undefined =>
  x && typeof x === 'object' && !Array.isArray(x) ? (x as Node) : undefined;

function metOf(n: Node): boolean | null {
  for (const k of ['result', 'met', 'passed', 'holds']) if (typeof n[k] === 'boolean') return n[k] as boolean;
  return null;
}

/** The compared value: the engine records `threshold: {value, param?}`; older shapes a bare value. */
function thresholdOf(n: Node): unknown {
  const t = 'threshold' in n ? n.threshold : n.value;
  const o = asNode(t);
  return o && 'value' in o ? o.value : t;
}

function leafLine(n: Node, depth: number, titles?: PolicyTitles): ExplanationLine {
  const fact = String(n.fact);
  const path = typeof n.path === 'string' && n.path !== '' ? n.path.replace(/^\$\./, '') : undefined;
  const factName = path ? `${fact}.${path}` : fact;
  const opRaw = typeof n.operator === 'string' ? n.operator : '';
  const opName = OPERATORS[opRaw] ? opRaw : (SYMBOL_NAMES[opRaw] ?? opRaw);
  const op = OPERATORS[opName];
  const rhs = thresholdOf(n);
  // Only public and internal values are ever shown: the stricter of the record's own label and
  // the catalogue decides, so a mislabelled record cannot leak a restricted value.
  const recorded = typeof n.sensitivity === 'string' ? n.sensitivity : 'public';
  const visible =
    ['public', 'internal'].includes(sensitivityOf(fact)) && ['public', 'internal'].includes(recorded);
  const actualRaw = ['shown', 'shownValue', 'actual', 'factValue', 'factResult']
    .map((k) => n[k])
    .find((v) => v !== undefined);
  const actual = visible ? actualRaw : undefined;
  const met = metOf(n);
  const line = (lang: Lang): string => {
    const label =
      factLabel(fact, lang, titles) + (path ? (lang === 'zh-CN' ? `（${path}）` : ` (${path})`) : '');
    let text: string;
    if (opName === 'equal' && rhs === true) text = label;
    else if (opName === 'equal' && rhs === false) text = lang === 'zh-CN' ? `${label}：否` : `${label}: no`;
    else if (opName === 'notEqual' && rhs === null)
      text = lang === 'zh-CN' ? `${label}已登记` : `${label} on record`;
    else text = `${label} ${op?.[lang] ?? opRaw} ${showValue(rhs, factName, lang)}`;
    if (actual !== undefined && typeof actual !== 'boolean') {
      text +=
        lang === 'zh-CN'
          ? `（实际：${showValue(actual, factName, lang)}）`
          : ` (actual: ${showValue(actual, factName, lang)})`;
    }
    return `${text}${lang === 'zh-CN' ? '：' : ': '}${outcome(met, lang)}`;
  };
  return { depth, met, 'zh-CN': line('zh-CN'), en: line('en') };
}

const GROUP_TEXT = {
  all: { 'zh-CN': '同时满足以下全部条件', en: 'All of the following' },
  any: { 'zh-CN': '满足以下任一条件', en: 'At least one of the following' },
  not: { 'zh-CN': '以下条件不成立', en: 'The following must not hold' },
} as const;

type GroupKind = keyof typeof GROUP_TEXT;

function groupLine(kind: GroupKind, depth: number, met: boolean | null): ExplanationLine {
  return {
    depth,
    met,
    'zh-CN': `${GROUP_TEXT[kind]['zh-CN']}：${outcome(met, 'zh-CN')}`,
    en: `${GROUP_TEXT[kind].en}: ${outcome(met, 'en')}`,
  };
}

/**
 * The groups a condition sits in, from its JSON path: `$.conditions.all[1].any[0]` sits in the
 * rule's `all` (key `.all`) and in the `any` that is its second member (key `.all[1].any`).
 */
function groupsOf(at: string): Array<{ kind: GroupKind; key: string }> {
  const out: Array<{ kind: GroupKind; key: string }> = [];
  const re = /\.(all|any|not)(?:\[(\d+)\])?/g;
  let prefix = '';
  for (const m of at.replace(/^\$\.conditions/, '').matchAll(re)) {
    out.push({ kind: m[1] as GroupKind, key: `${prefix}.${m[1]}` });
    prefix += m[0];
  }
  return out;
}

/** Combines children's results the way the group does (unknown stays unknown unless decided). */
function combine(kind: GroupKind, results: Array<boolean | null>): boolean | null {
  if (kind === 'any') return results.includes(true) ? true : results.includes(null) ? null : false;
  if (kind === 'all') return results.includes(false) ? false : results.includes(null) ? null : true;
  const r = results[0];
  return r === null || r === undefined ? null : !r;
}

/** Flat list of conditions with JSON paths (the engine's record): nest them under their groups. */
function flatWithPaths(list: Node[], out: ExplanationLine[], titles?: PolicyTitles): void {
  const opened = new Set<string>();
  for (const n of list) {
    const groups = groupsOf(String(n.at));
    // The outermost `all` is the rule itself; only inner groups get a heading line.
    const inner = groups.slice(1);
    inner.forEach((g, i) => {
      if (opened.has(g.key)) return;
      opened.add(g.key);
      const members = list.filter((m) =>
        String(m.at)
          .replace(/^\$\.conditions/, '')
          .startsWith(g.key),
      );
      const ownResult = combine(
        g.kind,
        members.map((m) => metOf(m)),
      );
      out.push(groupLine(g.kind, i, ownResult));
    });
    out.push(leafLine(n, inner.length, titles));
  }
}

function walk(x: unknown, depth: number, out: ExplanationLine[], titles?: PolicyTitles): void {
  if (Array.isArray(x)) {
    const nodes = x.map(asNode);
    if (nodes.length > 0 && nodes.every((n) => n && typeof n.fact === 'string' && typeof n.at === 'string')) {
      flatWithPaths(nodes as Node[], out, titles);
      return;
    }
    for (const c of x) walk(c, depth, out, titles);
    return;
  }
  const n = asNode(x);
  if (!n) return;
  if (typeof n.fact === 'string') {
    out.push(leafLine(n, depth, titles));
    return;
  }
  for (const kind of ['all', 'any', 'not'] as const) {
    const children = n[kind];
    if (children === undefined) continue;
    if (kind === 'all' && depth === 0 && typeof n.name !== 'string') walk(children, depth, out, titles);
    else {
      out.push(groupLine(kind, depth, metOf(n)));
      walk(children, depth + 1, out, titles);
    }
    return;
  }
  for (const k of ['conditions', 'checks', 'items']) {
    if (Array.isArray(n[k]) || asNode(n[k])) {
      walk(n[k], depth, out, titles);
      return;
    }
  }
}

/**
 * The explanation of a decision as plain-language lines. `titles` names other policies (for
 * "eligible for … in the period").
 */
export function explainDecision(explanation: unknown, titles?: PolicyTitles): ExplanationLine[] {
  const out: ExplanationLine[] = [];
  walk(explanation, 0, out, titles);
  return out;
}

/** How the amount was worked out and the dated parameters it used, as the engine recorded them. */
export function amountWorking(explanation: unknown): {
  text?: string;
  parameters: Array<{ name: string; value: unknown; from: string }>;
} {
  const n = asNode(explanation);
  const amount = asNode(n?.amount);
  const parameters = Array.isArray(n?.parameters)
    ? (n.parameters as unknown[])
        .map(asNode)
        .filter((p): p is Node => !!p && typeof p.name === 'string')
        .map((p) => ({ name: String(p.name), value: p.value, from: String(p.from ?? '') }))
    : [];
  return { ...(typeof amount?.text === 'string' ? { text: amount.text } : {}), parameters };
}

/** A value of the amount's working: a number, or a parameter's `value [name from date]`. */
const WORKING_VALUE = String.raw`(-?\d+(?:\/\d+)?)(?: \[([a-z0-9.-]+) from (\d{4}-\d{2}-\d{2})\])?`;
const FIXED = new RegExp(`^fixed ${WORKING_VALUE}$`);
const PER_MONTH = new RegExp(`^countedMonths × ${WORKING_VALUE}$`);
const PERCENT = new RegExp(`^([A-Za-z]+) × ${WORKING_VALUE} / ${WORKING_VALUE}, rounded half-up to a fen$`);
const TIER = /^([A-Za-z]+) in tier (\d+) \((.*?)\): (.*)$/;
const BOUND = new RegExp(`^(min|max) ${WORKING_VALUE}$`);

type Words = { 'zh-CN': string; en: string };

/** A value of the working in words: fen as yuan where it is money, with the parameter it came from. */
function workingValue(m: RegExpExecArray, at: number, money: boolean): Words | undefined {
  const raw = m[at]!;
  const param = m[at + 1];
  const from = m[at + 2];
  let shown = raw;
  if (money) {
    if (!/^-?\d+$/.test(raw) || !Number.isSafeInteger(Number(raw))) return undefined;
    shown = formatYuan(Number(raw));
  }
  const zh = money ? `${shown} 元` : shown;
  const en = money ? `CNY ${shown}` : shown;
  return param
    ? { 'zh-CN': `${zh}（参数 ${param}，${from} 起）`, en: `${en} (parameter ${param}, from ${from})` }
    : { 'zh-CN': zh, en };
}

/** The formula part of an amount's working (before `= value`) in words, or undefined. */
function workingFormula(text: string): Words | undefined {
  let m = FIXED.exec(text);
  if (m) {
    const v = workingValue(m, 1, true);
    return v && { 'zh-CN': `固定金额 ${v['zh-CN']}`, en: `a fixed ${v.en}` };
  }
  m = PER_MONTH.exec(text);
  if (m) {
    const v = workingValue(m, 1, true);
    return v && { 'zh-CN': `可计发月数 × 每月 ${v['zh-CN']}`, en: `counted months × ${v.en} a month` };
  }
  m = PERCENT.exec(text);
  if (m) {
    const fact = m[1]!;
    const n = workingValue(m, 2, false);
    const d = workingValue(m, 5, false);
    if (!n || !d) return undefined;
    return {
      'zh-CN': `${factLabel(fact, 'zh-CN')} × ${n['zh-CN']} ÷ ${d['zh-CN']}（四舍五入到分）`,
      en: `${factLabel(fact, 'en')} × ${n.en} ÷ ${d.en}, rounded half-up to a fen`,
    };
  }
  m = TIER.exec(text);
  if (m) {
    const fact = m[1]!;
    const bounds: Words[] = [];
    for (const part of m[3]!.split(', ')) {
      const b = BOUND.exec(part);
      if (b) {
        const v = workingValue(b, 2, false);
        if (!v) return undefined;
        bounds.push(
          b[1] === 'min'
            ? { 'zh-CN': `不低于 ${v['zh-CN']}`, en: `at least ${v.en}` }
            : { 'zh-CN': `不高于 ${v['zh-CN']}`, en: `at most ${v.en}` },
        );
      } else if (part.startsWith('in ')) {
        let list: unknown;
        try {
          list = JSON.parse(part.slice(3));
        } catch {
          return undefined;
        }
        if (!Array.isArray(list)) return undefined;
        bounds.push({
          'zh-CN': `属于 ${showValue(list, fact, 'zh-CN')}`,
          en: `one of ${showValue(list, fact, 'en')}`,
        });
      } else return undefined;
    }
    const inner = workingFormula(m[4]!);
    if (!inner) return undefined;
    return {
      'zh-CN': `${factLabel(fact, 'zh-CN')}第 ${m[2]} 档（${bounds.map((b) => b['zh-CN']).join('，')}）：${inner['zh-CN']}`,
      en: `${factLabel(fact, 'en')} in tier ${m[2]} (${bounds.map((b) => b.en).join(', ')}): ${inner.en}`,
    };
  }
  return undefined;
}

/**
 * An amount's working as the engine recorded it (`countedMonths × 20000 [childcare.amount-per-month
 * from 2025-01-01] = 240000`) in words, fen as yuan and facts by their labels; undefined for a text
 * of another shape (the recorded text is then shown as it is). A value the reviewer may not see is
 * not in the recorded text, so not in the words either.
 */
export function workingInWords(text: string): Words | undefined {
  const m = /^(.*) = (-?\d+)(?: \(([A-Za-z]+) = (-?\d+)\))?$/.exec(text);
  if (!m || !Number.isSafeInteger(Number(m[2]))) return undefined;
  const formula = workingFormula(m[1]!);
  if (!formula) return undefined;
  const total = formatYuan(Number(m[2]));
  let zh = `${formula['zh-CN']} = ${total} 元`;
  let en = `${formula.en} = CNY ${total}`;
  const [fact, raw] = [m[3], m[4]];
  if (fact !== undefined && raw !== undefined && Number.isSafeInteger(Number(raw))) {
    const fen = factDefinition(fact)?.type.kind === 'fen';
    zh += `；其中${factLabel(fact, 'zh-CN')} = ${fen ? `${formatYuan(Number(raw))} 元` : raw}`;
    en += `, where ${factLabel(fact, 'en')} = ${fen ? `CNY ${formatYuan(Number(raw))}` : raw}`;
  }
  return { 'zh-CN': zh, en };
}

/** Reason codes of the shipped rule files (the `name` of each condition), in plain words. */
const REASON_TEXT: Record<string, { 'zh-CN': string; en: string }> = {
  'outside-effective-period': { 'zh-CN': '不在政策有效期内', en: 'Outside the period the policy applies to' },
  'hukouRegion-unknown': { 'zh-CN': '户籍信息未登记', en: 'No household registration on record' },
  'hukouRegion-not-eligible-region': {
    'zh-CN': '户籍不在本市',
    en: 'Household registration outside the municipality',
  },
  'not-alive': { 'zh-CN': '期初已身故', en: 'Deceased before the first day of the period' },
  'age-below-80': { 'zh-CN': '期初年龄未满80周岁', en: 'Under 80 on the first day of the period' },
  'no-counted-month': { 'zh-CN': '本年度没有可计发的月份', en: 'No month of the year counts' },
  'disabilityLevel-not-1-or-2': { 'zh-CN': '残疾等级不是一级或二级', en: 'Disability level is not 1 or 2' },
  'disabilityLevel-not-1-to-4': {
    'zh-CN': '未持有一至四级残疾证',
    en: 'No disability certificate of level 1 to 4',
  },
  'disability-certificate-expired': { 'zh-CN': '残疾证期初已过期', en: 'Disability certificate expired' },
  'not-dibao-enrolled': { 'zh-CN': '未享受最低生活保障', en: 'Not enrolled in the minimum living allowance' },
  'uiPremiumsPaid-not-positive': {
    'zh-CN': '本年度未缴纳失业保险费',
    en: 'No unemployment-insurance premiums paid',
  },
  'ui-arrears': { 'zh-CN': '年末欠缴失业保险费', en: 'Premiums in arrears at the end of the year' },
  'uiInsuredHeadcount-not-positive': {
    'zh-CN': '年初无参保职工',
    en: 'No insured employees at the start of the year',
  },
  'layoff-rate-above-limit': { 'zh-CN': '裁员率超过限额', en: 'Layoff rate above the limit' },
  'localTaxesDue-not-positive': { 'zh-CN': '无应缴六税两费', en: 'None of the six taxes and two fees due' },
  'vatTaxpayerType-not-small-scale': {
    'zh-CN': '不是增值税小规模纳税人',
    en: 'Not a small-scale VAT taxpayer',
  },
  'enterpriseType-not-individual-business': { 'zh-CN': '不是个体工商户', en: 'Not an individual business' },
  'not-eligible-small-low-profit-cit': {
    'zh-CN': '不符合小型微利企业条件',
    en: 'Not a small low-profit enterprise',
  },
  'enterpriseType-not-company': { 'zh-CN': '不是企业（公司）', en: 'Not a company' },
  'industry-restricted': { 'zh-CN': '从事限制或禁止行业', en: 'In a restricted or prohibited industry' },
  'taxableIncome-not-positive': { 'zh-CN': '应纳税所得额不大于零', en: 'Taxable income not above zero' },
  'taxableIncome-above-3m': { 'zh-CN': '应纳税所得额超过300万元', en: 'Taxable income above CNY 3 million' },
  'employeesAvg-above-300': { 'zh-CN': '从业人数超过300人', en: 'More than 300 employees' },
  'totalAssetsAvg-above-50m': { 'zh-CN': '资产总额超过5000万元', en: 'Total assets above CNY 50 million' },
};

/** A reason code (`missing-fact:hukouRegion`, `age-below-80`) in plain words where we know them. */
export function reasonText(code: string): { 'zh-CN': string; en: string } {
  if (code.startsWith('missing-fact:')) {
    const fact = code.slice('missing-fact:'.length);
    return {
      'zh-CN': `缺少信息：${factLabel(fact, 'zh-CN')}`,
      en: `Information missing: ${factLabel(fact, 'en')}`,
    };
  }
  return REASON_TEXT[code] ?? { 'zh-CN': code, en: code };
}
