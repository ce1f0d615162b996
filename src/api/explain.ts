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

/** A fact's plain-language name. */
export function factLabel(
  fact: string,
  lang: Lang,
  policyTitle?: (id: string) => string | undefined,
): string {
  if (fact.startsWith(ELIGIBLE_FOR_PREFIX)) {
    const id = fact.slice(ELIGIBLE_FOR_PREFIX.length);
    const title = policyTitle?.(id) ?? id;
    return lang === 'zh-CN' ? `本期符合“${title}”` : `Eligible for ${title} in the period`;
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

const outcome = (met: boolean | null, lang: Lang): string =>
  met === null
    ? lang === 'zh-CN'
      ? '未评估'
      : 'not evaluated'
    : met
      ? lang === 'zh-CN'
        ? '满足'
        : 'met'
      : lang === 'zh-CN'
        ? '不满足'
        : 'not met';

type Node = Record<string, unknown>;

const asNode = (x: unknown): Node | undefined =>
  x && typeof x === 'object' && !Array.isArray(x) ? (x as Node) : undefined;

function metOf(n: Node): boolean | null {
  for (const k of ['result', 'met', 'passed', 'holds']) if (typeof n[k] === 'boolean') return n[k] as boolean;
  return null;
}

function leafLine(n: Node, depth: number, title?: (id: string) => string | undefined): ExplanationLine {
  const fact = String(n.fact);
  const path = typeof n.path === 'string' && n.path !== '' ? n.path.replace(/^\$\./, '') : undefined;
  const factName = path ? `${fact}.${path}` : fact;
  const opRaw = typeof n.operator === 'string' ? n.operator : '';
  const op = OPERATORS[opRaw] ?? OPERATORS[SYMBOL_NAMES[opRaw] ?? ''];
  const hasThreshold = 'threshold' in n;
  const rhs = hasThreshold ? n.threshold : n.value;
  // Only public and internal values are ever shown, whatever the record carries.
  const visible = ['public', 'internal'].includes(sensitivityOf(fact));
  const actualRaw = ['shown', 'shownValue', 'actual', 'factValue', 'factResult']
    .map((k) => n[k])
    .find((v) => v !== undefined);
  const actual = visible ? (actualRaw ?? (hasThreshold ? n.value : undefined)) : undefined;
  const met = metOf(n);
  const line = (lang: Lang): string => {
    const label =
      factLabel(fact, lang, title) + (path ? (lang === 'zh-CN' ? `（${path}）` : ` (${path})`) : '');
    const opText = op?.[lang] ?? opRaw;
    let text: string;
    if (rhs === true && (opRaw === 'equal' || opRaw === '==')) text = label;
    else if (rhs === false && (opRaw === 'equal' || opRaw === '=='))
      text = lang === 'zh-CN' ? `非${label}` : `Not: ${label}`;
    else text = `${label} ${opText} ${showValue(rhs, factName, lang)}`;
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

function walk(
  x: unknown,
  depth: number,
  out: ExplanationLine[],
  title?: (id: string) => string | undefined,
): void {
  if (Array.isArray(x)) {
    for (const c of x) walk(c, depth, out, title);
    return;
  }
  const n = asNode(x);
  if (!n) return;
  if (typeof n.fact === 'string') {
    out.push(leafLine(n, depth, title));
    return;
  }
  if (Array.isArray(n.all)) {
    if (depth > 0 || typeof n.name === 'string') {
      const met = metOf(n);
      out.push({
        depth,
        met,
        'zh-CN': `同时满足以下全部条件：${outcome(met, 'zh-CN')}`,
        en: `All of the following: ${outcome(met, 'en')}`,
      });
      walk(n.all, depth + 1, out, title);
    } else walk(n.all, depth, out, title);
    return;
  }
  if (Array.isArray(n.any)) {
    const met = metOf(n);
    out.push({
      depth,
      met,
      'zh-CN': `满足以下任一条件：${outcome(met, 'zh-CN')}`,
      en: `At least one of the following: ${outcome(met, 'en')}`,
    });
    walk(n.any, depth + 1, out, title);
    return;
  }
  if (n.not !== undefined) {
    const met = metOf(n);
    out.push({
      depth,
      met,
      'zh-CN': `以下条件不成立：${outcome(met, 'zh-CN')}`,
      en: `The following does not hold: ${outcome(met, 'en')}`,
    });
    walk(n.not, depth + 1, out, title);
    return;
  }
  for (const k of ['conditions', 'checks', 'items']) {
    if (Array.isArray(n[k]) || asNode(n[k])) {
      walk(n[k], depth, out, title);
      return;
    }
  }
}

/**
 * The explanation of a decision as plain-language lines. `policyTitle` names other policies
 * (for "eligible for … in the period").
 */
export function explainDecision(
  explanation: unknown,
  policyTitle?: (id: string) => string | undefined,
): ExplanationLine[] {
  const out: ExplanationLine[] = [];
  walk(explanation, 0, out, policyTitle);
  return out;
}

const REASON_TEXT: Record<string, { 'zh-CN': string; en: string }> = {
  'outside-effective-period': { 'zh-CN': '不在政策有效期内', en: 'outside the period the policy applies to' },
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
