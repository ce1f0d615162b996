import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  formatPeriod,
  formatYuan,
  LANGS,
  maskIdentityNumbers,
  type NotificationInput,
  type NotificationKind,
  parseReference,
  recipientsFor,
  referenceNumber,
  renderNotification,
} from '../../../src/domain/notifications/index.ts';

/** Anything that looks like a resident identity number: 17 digits and a digit or X. */
const IDENTITY_NUMBER = /\d{17}[\dXx]/;

const KINDS: NotificationKind[] = ['grant', 'eligibility-changed', 'revocation', 'review-outcome'];

const base: NotificationInput = {
  kind: 'grant',
  lang: 'zh-CN',
  policyTitle: { 'zh-CN': '育儿补贴', en: 'Childcare subsidy' },
  legalReference: {
    document: '育儿补贴制度实施方案',
    article: '第三条',
    link: 'https://www.gov.cn/zhengce/childcare',
  },
  period: '2025',
  amount: 360000,
  reference: referenceNumber({ subject: 'pn-1f2e3d', policy: 'childcare-subsidy', period: '2025' }),
  recipientRole: 'guardian',
  contact: '12345 政务服务便民热线',
  link: 'https://zwfw.example.gov.cn/objections',
  reason: '户籍信息更正',
};

describe('Function: formatYuan', () => {
  it.each([
    [0, '0.00'],
    [1, '0.01'],
    [10, '0.10'],
    [99, '0.99'],
    [100, '1.00'],
    [360000, '3,600.00'],
    [99999999, '999,999.99'],
    [100000000, '1,000,000.00'],
    [-150, '-1.50'],
    [-1, '-0.01'],
    [Number.MAX_SAFE_INTEGER, '90,071,992,547,409.91'],
  ])('formats %d fen as %s', (fen, text) => {
    expect(formatYuan(fen)).toBe(text);
  });

  it('refuses fractions of a fen and non-numbers', () => {
    expect(() => formatYuan(1.5)).toThrow(RangeError);
    expect(() => formatYuan(Number.NaN)).toThrow(RangeError);
    expect(() => formatYuan(2 ** 53)).toThrow(RangeError);
  });

  it('agrees with plain integer arithmetic for every safe integer', () => {
    fc.assert(
      fc.property(fc.maxSafeInteger(), (fen) => {
        const text = formatYuan(fen);
        expect(text).toMatch(/^-?\d{1,3}(,\d{3})*\.\d{2}$/);
        const digits = text.replace(/[,.]/g, '');
        expect(BigInt(digits)).toBe(BigInt(fen));
      }),
    );
  });
});

describe('Function: referenceNumber', () => {
  const key = { subject: 'pn-7c21', policy: 'elderly-allowance', period: '2025-03' };

  it('is deterministic and shaped PB-YYYY-XXXX-XXXX-XXXX in an unambiguous alphabet', () => {
    const ref = referenceNumber(key);
    expect(referenceNumber({ ...key })).toBe(ref);
    expect(ref).toMatch(/^PB-2025-[0-9A-HJKMNP-TV-Z]{4}-[0-9A-HJKMNP-TV-Z]{4}-[0-9A-HJKMNP-TV-Z]{4}$/);
  });

  it('differs when any part of the key differs', () => {
    const refs = new Set([
      referenceNumber(key),
      referenceNumber({ ...key, subject: 'pn-7c22' }),
      referenceNumber({ ...key, policy: 'disability-nursing-subsidy' }),
      referenceNumber({ ...key, period: '2025-04' }),
    ]);
    expect(refs.size).toBe(4);
  });

  it('has no collisions over many keys', () => {
    const refs = new Set<string>();
    for (let i = 0; i < 20000; i++) refs.add(referenceNumber({ ...key, subject: `pn-${i}` }));
    expect(refs.size).toBe(20000);
  });

  it('refuses a malformed period', () => {
    expect(() => referenceNumber({ ...key, period: '2025-13' })).toThrow(RangeError);
  });

  it('never contains the subject it is derived from', () => {
    fc.assert(
      fc.property(fc.string({ minLength: 4 }), (subject) => {
        const ref = referenceNumber({ ...key, subject });
        expect(ref).toMatch(/^PB-2025-[0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4}$/);
        expect(ref).not.toMatch(IDENTITY_NUMBER);
      }),
    );
  });
});

describe('Function: parseReference', () => {
  const ref = referenceNumber({ subject: 'pn-1', policy: 'childcare-subsidy', period: '2025' });

  it('reads a reference typed loosely: lower case, spaces, look-alike letters', () => {
    const typed = ref.toLowerCase().replace(/-/g, ' ').replace(/0/g, 'o').replace(/1/g, 'l');
    expect(parseReference(typed)).toBe(ref);
  });

  it('rejects a reference with any one character changed', () => {
    const alphabet = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';
    const code = ref.slice(8);
    for (let i = 0; i < code.length; i++) {
      if (code[i] === '-') continue;
      for (const c of alphabet) {
        if (c === code[i]) continue;
        const wrong = ref.slice(0, 8) + code.slice(0, i) + c + code.slice(i + 1);
        expect(parseReference(wrong), wrong).toBeUndefined();
      }
    }
  });

  it('rejects what is not a reference at all', () => {
    expect(parseReference('')).toBeUndefined();
    expect(parseReference('PB-2025-ABCD')).toBeUndefined();
    expect(parseReference(`${ref}0`)).toBeUndefined();
  });
});

describe('Function: formatPeriod', () => {
  it.each([
    ['2025', 'zh-CN', '2025年'],
    ['2025-03', 'zh-CN', '2025年3月'],
    ['2025-12', 'zh-CN', '2025年12月'],
    ['2025', 'en', '2025'],
    ['2025-03', 'en', 'March 2025'],
    ['2024-01', 'en', 'January 2024'],
  ] as const)('writes %s in %s as %s', (period, lang, text) => {
    expect(formatPeriod(period, lang)).toBe(text);
  });

  it('refuses anything else', () => {
    expect(() => formatPeriod('2025-3', 'en')).toThrow(RangeError);
    expect(() => formatPeriod('2025-00', 'zh-CN')).toThrow(RangeError);
  });
});

describe('Function: renderNotification', () => {
  it('writes a grant in Chinese with title, period, amount, legal basis, reference and how to object', () => {
    const { subject, body } = renderNotification({ ...base, kind: 'grant', lang: 'zh-CN' });
    expect(subject).toBe('【免申即享】育儿补贴（2025年）已为您监护的儿童办理');
    for (const text of [
      '政策名称：育儿补贴',
      '所属期间：2025年',
      '金额：人民币3,600.00元',
      '政策依据：育儿补贴制度实施方案第三条（全文：https://www.gov.cn/zhengce/childcare）',
      `业务编号：${base.reference}`,
      '请联系12345 政务服务便民热线',
      'https://zwfw.example.gov.cn/objections',
      '无需申请',
    ]) {
      expect(body).toContain(text);
    }
  });

  it('writes a grant in English with the same facts', () => {
    const { subject, body } = renderNotification({
      ...base,
      lang: 'en',
      period: '2025-03',
      recipientRole: 'subject',
      amount: 10000,
    });
    expect(subject).toBe('Childcare subsidy (March 2025) granted — no application needed');
    for (const text of [
      'you qualify for the Childcare subsidy',
      'Period: March 2025',
      'Amount: CNY 100.00',
      'Legal basis: 育儿补贴制度实施方案, 第三条 (full text: https://www.gov.cn/zhengce/childcare)',
      `Reference number: ${base.reference}`,
      'contact 12345 政务服务便民热线',
      'visit https://zwfw.example.gov.cn/objections',
    ]) {
      expect(body).toContain(text);
    }
  });

  it.each(KINDS.flatMap((kind) => LANGS.map((lang) => ({ kind, lang }))))(
    'states every required fact in a $kind notice in $lang',
    ({ kind, lang }) => {
      const { subject, body } = renderNotification({ ...base, kind, lang, amount: 123456 });
      const all = `${subject}\n${body}`;
      expect(all).toContain(base.policyTitle[lang]);
      expect(all).toContain(formatPeriod(base.period, lang));
      expect(all).toContain('1,234.56');
      expect(all).toContain(base.legalReference.document);
      expect(all).toContain(base.legalReference.article!);
      expect(all).toContain(base.reference);
      expect(all).toContain(base.contact);
      expect(all).toContain(base.link);
    },
  );

  it('addresses the guardian about the child, and the subject directly', () => {
    expect(renderNotification({ ...base, recipientRole: 'guardian' }).body).toContain('您监护的儿童符合');
    expect(renderNotification({ ...base, recipientRole: 'subject' }).body).toContain('您符合');
    expect(renderNotification({ ...base, lang: 'en', recipientRole: 'guardian' }).body).toContain(
      'the child in your care qualifies',
    );
  });

  it('gives the reason for a revocation in both languages', () => {
    const zh = renderNotification({ ...base, kind: 'revocation', reason: '经核实，儿童户籍不在本市' });
    const en = renderNotification({
      ...base,
      kind: 'revocation',
      lang: 'en',
      reason: 'the household registration is outside the city',
    });
    expect(zh.subject).toBe('【撤销通知】育儿补贴（2025年）');
    expect(zh.body).toContain('撤销原因：经核实，儿童户籍不在本市。');
    expect(en.subject).toBe('Childcare subsidy (2025) revoked');
    expect(en.body).toContain('Reason: the household registration is outside the city.');
  });

  it('tells the outcome of a review: the decision stands, or its amount changed from what to what', () => {
    const kept = renderNotification({ ...base, kind: 'review-outcome', reason: '死亡登记有误' });
    const keptEn = renderNotification({ ...base, kind: 'review-outcome', lang: 'en', reason: undefined });
    const adjusted = renderNotification({
      ...base,
      kind: 'review-outcome',
      amount: 500000,
      previousAmount: 360000,
    });
    const adjustedEn = renderNotification({
      ...base,
      kind: 'review-outcome',
      lang: 'en',
      amount: 500000,
      previousAmount: 360000,
      reason: 'turned 90',
    });
    expect(kept.subject).toBe('【复核结果】育儿补贴（2025年）');
    expect(kept.body).toContain('维持原决定');
    expect(kept.body).toContain('金额：人民币3,600.00元');
    expect(kept.body).toContain('复核说明：死亡登记有误。');
    expect(kept.body).not.toContain('原金额');
    expect(keptEn.subject).toBe('Childcare subsidy (2025): review outcome');
    expect(keptEn.body).toContain('stands');
    expect(keptEn.body).not.toContain('Review note');
    expect(adjusted.body).toContain('金额已按最新信息调整');
    expect(adjusted.body).toContain('原金额：人民币3,600.00元');
    expect(adjusted.body).toContain('调整后金额：人民币5,000.00元');
    expect(adjustedEn.body).toContain('Previous amount: CNY 3,600.00');
    expect(adjustedEn.body).toContain('New amount: CNY 5,000.00');
    expect(adjustedEn.body).toContain('Review note: turned 90.');
    expect(() =>
      renderNotification({ ...base, kind: 'review-outcome', amount: 1, previousAmount: 0.5 }),
    ).toThrow(/whole number of fen/);
  });

  it('refuses a revocation without a reason', () => {
    expect(() => renderNotification({ ...base, kind: 'revocation', reason: undefined })).toThrow(/reason/);
    expect(() => renderNotification({ ...base, kind: 'revocation', reason: '  ' })).toThrow(/reason/);
  });

  it('says plainly when the new facts no longer give any amount', () => {
    const zh = renderNotification({ ...base, kind: 'eligibility-changed', amount: null });
    const en = renderNotification({ ...base, kind: 'eligibility-changed', amount: null, lang: 'en' });
    expect(zh.body).toContain('不再符合享受条件');
    expect(zh.body).toContain('复核完成前，已作出的决定保持不变');
    expect(en.body).toContain('no longer eligible');
  });

  it('refuses a notice that could not be acted on', () => {
    expect(() => renderNotification({ ...base, contact: '' })).toThrow(/contact/);
    expect(() => renderNotification({ ...base, link: ' ' })).toThrow(/link/);
    expect(() => renderNotification({ ...base, policyTitle: { 'zh-CN': '', en: 'x' } })).toThrow(/title/);
    expect(() => renderNotification({ ...base, amount: 0.5 })).toThrow(RangeError);
    expect(() => renderNotification({ ...base, period: '25' })).toThrow(RangeError);
  });

  it('masks an identity number that slips into free text', () => {
    const id = '11010519491231002X';
    const { body } = renderNotification({ ...base, kind: 'revocation', reason: `核实身份证${id}户籍有误` });
    expect(body).not.toContain(id);
    expect(body).not.toMatch(IDENTITY_NUMBER);
    expect(body).toContain('核实身份证******************户籍有误');
  });

  it('never lets an identity-number-like string through, whatever the inputs', () => {
    const text = fc.oneof(
      fc.string({ minLength: 1 }),
      fc.stringMatching(/^[^\s]{0,4}\d{17}[\dX][^\s]{0,4}$/),
      fc.stringMatching(/^\d{15,25}$/),
    );
    fc.assert(
      fc.property(
        fc.record({
          kind: fc.constantFrom(...KINDS),
          lang: fc.constantFrom(...LANGS),
          subject: text,
          title: text,
          document: text,
          article: fc.option(text, { nil: undefined }),
          reason: text,
          contact: text,
          link: text,
          amount: fc.option(fc.maxSafeInteger(), { nil: null }),
          year: fc.integer({ min: 2000, max: 2099 }),
          month: fc.option(fc.integer({ min: 1, max: 12 }), { nil: undefined }),
          role: fc.constantFrom('subject', 'guardian' as const),
        }),
        (r) => {
          fc.pre([r.title, r.document, r.contact, r.link, r.reason].every((t) => t.trim() !== ''));
          const period =
            r.month === undefined ? String(r.year) : `${r.year}-${String(r.month).padStart(2, '0')}`;
          const { subject, body } = renderNotification({
            kind: r.kind,
            lang: r.lang,
            policyTitle: { 'zh-CN': r.title, en: r.title },
            legalReference: { document: r.document, ...(r.article ? { article: r.article } : {}) },
            period,
            amount: r.amount,
            reference: referenceNumber({ subject: r.subject, policy: 'p', period }),
            recipientRole: r.role,
            contact: r.contact,
            link: r.link,
            reason: r.reason,
          });
          expect(subject).not.toMatch(IDENTITY_NUMBER);
          expect(body).not.toMatch(IDENTITY_NUMBER);
        },
      ),
      { numRuns: 500 },
    );
  });
});

describe('Function: maskIdentityNumbers', () => {
  it('masks 15- and 18-character numbers and leaves phone numbers and amounts alone', () => {
    expect(maskIdentityNumbers('a 110105194912310021 b')).toBe('a ****************** b');
    expect(maskIdentityNumbers('110105491231002')).toBe('***************');
    expect(maskIdentityNumbers('１１０１０５１９４９１２３１００２Ｘ')).toBe('******************');
    expect(maskIdentityNumbers('call 12345 or 13800138000, 3,600.00')).toBe(
      'call 12345 or 13800138000, 3,600.00',
    );
  });
});

describe('Function: recipientsFor', () => {
  it('notifies the subject itself when the policy says so', () => {
    expect(recipientsFor('subject', 'pn-a', ['pn-g1'])).toEqual({ recipients: ['pn-a'] });
  });

  it('notifies every guardian of a child, each once', () => {
    expect(recipientsFor('guardians', 'pn-child', ['pn-g1', 'pn-g2', 'pn-g1'])).toEqual({
      recipients: ['pn-g1', 'pn-g2'],
    });
  });

  it('notifies nobody and says so when no guardian is on record', () => {
    const none = { recipients: [], note: 'no-guardians-on-record' };
    expect(recipientsFor('guardians', 'pn-child', undefined)).toEqual(none);
    expect(recipientsFor('guardians', 'pn-child', [])).toEqual(none);
    expect(recipientsFor('guardians', 'pn-child', [''])).toEqual(none);
  });
});
