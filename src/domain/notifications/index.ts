/**
 * What the beneficiary is told: the notice for a grant, a change of eligibility under review, or a
 * revocation, in Simplified Chinese (the default) or English, and who receives it.
 *
 * Every notice carries the benefit's title, period, amount in yuan with two decimals, legal basis, a
 * reference number, and how to object. It never carries an identity number: recipients are
 * addressed by pseudonym through the channel adapters, the reference number is a hash, and any run
 * of digits long enough to be an identity number is masked before a notice leaves this module.
 */
import { createHash } from 'node:crypto';
import canonicalize from 'canonicalize';
import type { Fen, Period } from '../types.ts';
import { IDENTITY_LIKE } from '../identity.ts';

/** Languages a notice can be written in. */
export type Lang = 'zh-CN' | 'en';

/** Every supported language, default first. */
export const LANGS: readonly Lang[] = ['zh-CN', 'en'];

/** The language used when a recipient has no known preference. */
export const DEFAULT_LANG: Lang = 'zh-CN';

/** What a notice is about. */
export type NotificationKind = 'grant' | 'eligibility-changed' | 'revocation' | 'review-outcome';

/** Who a notice is addressed to: the subject, or a guardian of a child subject. */
export type RecipientRole = 'subject' | 'guardian';

/** The legal basis a rule file cites. */
export interface LegalReference {
  document: string;
  article?: string;
  link?: string;
}

/** Everything a notice says; the caller looks it up from the decision, the rule and the config. */
export interface NotificationInput {
  kind: NotificationKind;
  lang: Lang;
  policyTitle: Record<Lang, string>;
  legalReference: LegalReference;
  period: Period;
  /**
   * Fen. For a grant, the amount granted; for `eligibility-changed`, what the new facts give
   * (null: not eligible under them); for a revocation, the amount revoked (null: not stated).
   */
  amount: Fen | null;
  /**
   * For a review outcome that changed the amount, the amount before (`amount` is the new one);
   * absent when the decision stands as it was.
   */
  previousAmount?: Fen | null;
  /** From {@link referenceNumber}. */
  reference: string;
  recipientRole: RecipientRole;
  /** How to object: `Config.notifyContact`. */
  contact: string;
  /** Where to object: `Config.notifyLink`. */
  link: string;
  /** Why: required for a revocation, optional for a change of eligibility. */
  reason?: string;
}

/** A rendered notice. */
export interface RenderedNotification {
  subject: string;
  body: string;
}

/**
 * Formats fen as yuan with two decimals and comma thousands separators: `360000` → `3,600.00`,
 * `1` → `0.01`, `-150` → `-1.50`. Integer arithmetic only (via BigInt), so no value is ever off by a
 * fen. Throws on anything that is not a safe integer.
 */
export function formatYuan(fen: Fen): string {
  if (!Number.isSafeInteger(fen)) throw new RangeError(`amount must be a whole number of fen, got ${fen}`);
  const negative = fen < 0;
  const abs = BigInt(Math.abs(fen));
  const yuan = (abs / 100n).toString().replace(/\B(?=(\d{3})+$)/g, ',');
  const cents = (abs % 100n).toString().padStart(2, '0');
  return `${negative ? '-' : ''}${yuan}.${cents}`;
}

/**
 * Crockford's base-32 alphabet: no I, L, O or U, so a reference read out on the phone or copied by
 * hand cannot be mistaken for another.
 */
const ALPHABET = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';

/** Luhn mod 32 check character: catches any single wrong character and most swaps of neighbours. */
function checkCharacter(data: string): string {
  let sum = 0;
  let factor = 2;
  for (let i = data.length - 1; i >= 0; i--) {
    const product = factor * ALPHABET.indexOf(data[i]!);
    sum += Math.floor(product / 32) + (product % 32);
    factor = factor === 2 ? 1 : 2;
  }
  return ALPHABET[(32 - (sum % 32)) % 32]!;
}

/** The key a decision is unique on, from which its reference number is derived. */
export interface DecisionKey {
  /** The subject's pseudonym. */
  subject: string;
  policy: string;
  period: Period;
}

/**
 * The decision's reference number, e.g. `PB-2025-7K3M-9QXD-2F8A`: the period's year, then eleven
 * characters of SHA-256 of the decision key (55 bits, so collisions stay unlikely across tens of
 * millions of decisions a year) and one check character, in an alphabet without look-alikes.
 * The same key always gives the same reference, so a redelivered grant is told the same number.
 */
export function referenceNumber(key: DecisionKey): string {
  const year = /^(\d{4})(-(0[1-9]|1[0-2]))?$/.exec(key.period)?.[1];
  if (!year) throw new RangeError(`period must be YYYY or YYYY-MM, got ${key.period}`);
  // Domain-separated, so the reference is never equal to a hash computed elsewhere from the same key.
  const canonical = canonicalize({ policy: key.policy, period: key.period, subject: key.subject })!;
  const digest = createHash('sha256').update(`pb-reference\n${canonical}`, 'utf8').digest();
  let bits = 0n;
  for (const byte of digest.subarray(0, 7)) bits = (bits << 8n) | BigInt(byte);
  bits >>= 1n; // 56 bits read, 55 used.
  let data = '';
  for (let i = 0; i < 11; i++) {
    data = ALPHABET[Number(bits & 31n)]! + data;
    bits >>= 5n;
  }
  const code = data + checkCharacter(data);
  return `PB-${year}-${code.slice(0, 4)}-${code.slice(4, 8)}-${code.slice(8)}`;
}

/**
 * Reads a reference number as a person may type it (any case, spaces or dashes anywhere, O for 0,
 * I or L for 1) and returns its canonical form, or undefined when it is not one (including a wrong
 * check character).
 */
export function parseReference(text: string): string | undefined {
  const compact = text.toUpperCase().replace(/[\s-]/g, '').replace(/O/g, '0').replace(/[IL]/g, '1');
  const m = /^PB(\d{4})([0-9A-Z]{12})$/.exec(compact);
  if (!m) return undefined;
  const code = m[2]!;
  if ([...code].some((c) => !ALPHABET.includes(c))) return undefined;
  if (checkCharacter(code.slice(0, 11)) !== code[11]) return undefined;
  return `PB-${m[1]}-${code.slice(0, 4)}-${code.slice(4, 8)}-${code.slice(8)}`;
}

const MONTHS_EN = [
  'January',
  'February',
  'March',
  'April',
  'May',
  'June',
  'July',
  'August',
  'September',
  'October',
  'November',
  'December',
];

/** A period as a reader says it: `2025年` / `2025年3月`, `2025` / `March 2025`. */
export function formatPeriod(period: Period, lang: Lang): string {
  const m = /^(\d{4})(?:-(0[1-9]|1[0-2]))?$/.exec(period);
  if (!m) throw new RangeError(`period must be YYYY or YYYY-MM, got ${period}`);
  const [, year, month] = m;
  if (lang === 'zh-CN') return month ? `${year}年${Number(month)}月` : `${year}年`;
  return month ? `${MONTHS_EN[Number(month) - 1]} ${year}` : year!;
}

/** An amount as a notice states it. */
export function formatAmount(fen: Fen, lang: Lang): string {
  return lang === 'zh-CN' ? `人民币${formatYuan(fen)}元` : `CNY ${formatYuan(fen)}`;
}

/**
 * Masks every identity-number-like run of digits in a text (`IDENTITY_LIKE`): notices never need
 * one, so any such run is masked rather than trusted to be something else — free text from
 * reviewers or rule files included.
 */
export function maskIdentityNumbers(text: string): string {
  // Masked whole: even a region prefix or the last digits narrow down who someone is.
  return text.replace(IDENTITY_LIKE, (run) => '*'.repeat(run.length));
}

function legalBasis(ref: LegalReference, lang: Lang): string {
  if (lang === 'zh-CN') {
    const text = `${ref.document}${ref.article ?? ''}`;
    return ref.link ? `${text}（全文：${ref.link}）` : text;
  }
  const text = ref.article ? `${ref.document}, ${ref.article}` : ref.document;
  return ref.link ? `${text} (full text: ${ref.link})` : text;
}

/** A sentence ending, without doubling a full stop the writer already put there. */
const endSentence = (text: string, lang: Lang): string => {
  const trimmed = text.trim();
  if (lang === 'zh-CN') return /[。！？.!?]$/.test(trimmed) ? trimmed : `${trimmed}。`;
  return /[.!?。]$/.test(trimmed) ? trimmed : `${trimmed}.`;
};

function renderZh(i: NotificationInput): RenderedNotification {
  const title = i.policyTitle['zh-CN'];
  const period = formatPeriod(i.period, 'zh-CN');
  const who = i.recipientRole === 'guardian' ? '您监护的儿童' : '您';
  const lines: string[] = ['您好！', ''];
  let subject: string;
  const facts: string[] = [`政策名称：${title}`, `所属期间：${period}`];

  switch (i.kind) {
    case 'grant':
      subject = `【免申即享】${title}（${period}）已为${who}办理`;
      lines.push(
        `根据有关部门共享的信息，${who}符合${title}的享受条件。本项政策无需申请，已自动为${who}办理。`,
      );
      facts.push(`金额：${i.amount === null ? '以实际办理结果为准' : formatAmount(i.amount, 'zh-CN')}`);
      break;
    case 'eligibility-changed':
      subject = `【复核通知】${title}（${period}）`;
      lines.push(
        `根据有关部门最新共享的信息，${who}已享受的${title}（${period}）所依据的情况发生了变化。` +
          '工作人员将进行复核，复核结果将另行通知；复核完成前，已作出的决定保持不变。',
      );
      facts.push(
        i.amount === null
          ? '按最新信息初步测算：不再符合享受条件'
          : `按最新信息初步测算的金额：${formatAmount(i.amount, 'zh-CN')}`,
      );
      if (i.reason) facts.push(`变化情况：${endSentence(i.reason, 'zh-CN')}`);
      break;
    case 'revocation':
      subject = `【撤销通知】${title}（${period}）`;
      lines.push(`经复核，${who}的${title}（${period}）已予撤销。`);
      if (i.amount !== null) facts.push(`撤销金额：${formatAmount(i.amount, 'zh-CN')}`);
      facts.push(`撤销原因：${endSentence(i.reason!, 'zh-CN')}`);
      break;
    case 'review-outcome':
      subject = `【复核结果】${title}（${period}）`;
      if (i.previousAmount !== undefined) {
        lines.push(`经复核，${who}的${title}（${period}）金额已按最新信息调整。`);
        if (i.previousAmount !== null) facts.push(`原金额：${formatAmount(i.previousAmount, 'zh-CN')}`);
        facts.push(
          `调整后金额：${i.amount === null ? '以实际办理结果为准' : formatAmount(i.amount, 'zh-CN')}`,
        );
      } else {
        lines.push(`经复核，${who}的${title}（${period}）维持原决定。`);
        if (i.amount !== null) facts.push(`金额：${formatAmount(i.amount, 'zh-CN')}`);
      }
      if (i.reason) facts.push(`复核说明：${endSentence(i.reason, 'zh-CN')}`);
      break;
  }
  lines.push(
    '',
    ...facts,
    `政策依据：${legalBasis(i.legalReference, 'zh-CN')}`,
    `业务编号：${i.reference}`,
    '',
    i.kind === 'grant'
      ? `如对本决定有异议，或不愿享受本项政策，请联系${i.contact}，或访问 ${i.link} ，并提供上述业务编号。`
      : `如对本决定有异议，请联系${i.contact}，或访问 ${i.link} ，并提供上述业务编号。`,
    '',
    '本通知由系统自动发送，请勿直接回复。为保护您的个人信息，本通知不包含身份证号码。',
  );
  return { subject, body: lines.join('\n') };
}

function renderEn(i: NotificationInput): RenderedNotification {
  const title = i.policyTitle.en;
  const period = formatPeriod(i.period, 'en');
  const guardian = i.recipientRole === 'guardian';
  const lines: string[] = ['Dear recipient,', ''];
  let subject: string;
  const facts: string[] = [`Benefit: ${title}`, `Period: ${period}`];

  switch (i.kind) {
    case 'grant':
      subject = `${title} (${period}) granted — no application needed`;
      lines.push(
        guardian
          ? `Information shared between government agencies shows that the child in your care qualifies for the ${title}. ` +
              'There is nothing to apply for: it has been granted automatically.'
          : `Information shared between government agencies shows that you qualify for the ${title}. ` +
              'There is nothing to apply for: it has been granted to you automatically.',
      );
      facts.push(
        `Amount: ${i.amount === null ? 'as set out in the decision' : formatAmount(i.amount, 'en')}`,
      );
      break;
    case 'eligibility-changed':
      subject = `${title} (${period}): under review`;
      lines.push(
        `New information shared between government agencies affects ${guardian ? "the child's" : 'your'} ` +
          `${title} for ${period}. An officer will review it and write to you with the outcome; ` +
          'until then, the decision already made stands.',
      );
      facts.push(
        i.amount === null
          ? 'Provisional result under the new information: no longer eligible'
          : `Provisional amount under the new information: ${formatAmount(i.amount, 'en')}`,
      );
      if (i.reason) facts.push(`What changed: ${endSentence(i.reason, 'en')}`);
      break;
    case 'revocation':
      subject = `${title} (${period}) revoked`;
      lines.push(
        `After review, ${guardian ? "the child's" : 'your'} ${title} for ${period} has been revoked.`,
      );
      if (i.amount !== null) facts.push(`Amount revoked: ${formatAmount(i.amount, 'en')}`);
      facts.push(`Reason: ${endSentence(i.reason!, 'en')}`);
      break;
    case 'review-outcome': {
      subject = `${title} (${period}): review outcome`;
      const whose = guardian ? "the child's" : 'your';
      if (i.previousAmount !== undefined) {
        lines.push(
          `After review, the amount of ${whose} ${title} for ${period} has been changed to match the new information.`,
        );
        if (i.previousAmount !== null) facts.push(`Previous amount: ${formatAmount(i.previousAmount, 'en')}`);
        facts.push(
          `New amount: ${i.amount === null ? 'as set out in the decision' : formatAmount(i.amount, 'en')}`,
        );
      } else {
        lines.push(`After review, the decision on ${whose} ${title} for ${period} stands.`);
        if (i.amount !== null) facts.push(`Amount: ${formatAmount(i.amount, 'en')}`);
      }
      if (i.reason) facts.push(`Review note: ${endSentence(i.reason, 'en')}`);
      break;
    }
  }
  lines.push(
    '',
    ...facts,
    `Legal basis: ${legalBasis(i.legalReference, 'en')}`,
    `Reference number: ${i.reference}`,
    '',
    i.kind === 'grant'
      ? `If you disagree with this decision, or do not wish to receive this benefit, contact ${i.contact} ` +
          `or visit ${i.link}, quoting the reference number above.`
      : `If you disagree with this decision, contact ${i.contact} or visit ${i.link}, ` +
          'quoting the reference number above.',
    '',
    'This notice was sent automatically; please do not reply to it. ' +
      'To protect your personal information, it contains no identity card number.',
  );
  return { subject, body: lines.join('\n') };
}

/**
 * Writes the notice for one recipient. Throws when something the notice must state is missing
 * (a revocation without a reason, an empty title, contact or link, a malformed period or amount):
 * better no notice than a notice that cannot be acted on.
 */
export function renderNotification(input: NotificationInput): RenderedNotification {
  const title = input.policyTitle[input.lang];
  if (!title?.trim()) throw new Error(`policy title in ${input.lang} is missing`);
  if (!input.legalReference?.document?.trim()) throw new Error('legal basis is missing');
  if (!input.reference.trim()) throw new Error('reference number is missing');
  if (!input.contact.trim() || !input.link.trim())
    throw new Error('contact and link for objections are required');
  if (input.kind === 'revocation' && !input.reason?.trim())
    throw new Error('a revocation notice needs its reason');
  if (input.amount !== null) formatYuan(input.amount); // validates before any text is built
  if (input.previousAmount !== undefined && input.previousAmount !== null) formatYuan(input.previousAmount);
  const rendered = input.lang === 'zh-CN' ? renderZh(input) : renderEn(input);
  return { subject: maskIdentityNumbers(rendered.subject), body: maskIdentityNumbers(rendered.body) };
}

/** Who receives a policy's notices, and why nobody does when that happens. */
export interface Recipients {
  /** Pseudonyms, each once, in the order given. */
  recipients: string[];
  /** Set when there is nobody to tell, e.g. `no-guardians-on-record`; recorded with the decision. */
  note?: string;
}

/**
 * The recipients of a decision's notices: the subject itself, or every guardian of a child subject
 * (`guardians` as pseudonyms, from the child's `guardians` fact). A child without guardians on
 * record is granted all the same, but nobody is notified and the note says so.
 */
export function recipientsFor(
  policyNotify: 'subject' | 'guardians',
  subject: string,
  guardians: readonly string[] | undefined,
): Recipients {
  if (policyNotify === 'subject') return { recipients: [subject] };
  const unique = [...new Set((guardians ?? []).filter((g) => typeof g === 'string' && g.trim() !== ''))];
  return unique.length > 0 ? { recipients: unique } : { recipients: [], note: 'no-guardians-on-record' };
}
