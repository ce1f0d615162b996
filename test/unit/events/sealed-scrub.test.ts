import { describe, expect, it } from 'vitest';
import { findIdentityNumbers, makePersonId } from '../../../src/domain/identity.ts';
import { scrubIdentifiers } from '../../../src/domain/sealed.ts';

const key = Buffer.alloc(32, 9);

describe('Function: scrubIdentifiers', () => {
  it('replaces valid identity numbers by pseudonyms and masks full-width, lower-case and invalid ones', () => {
    // Prepare
    const valid = makePersonId('110101', '1990-01-01', 123);
    const fullWidth = valid.replace(/[0-9]/g, (d) => String.fromCharCode(0xff10 + Number(d)));
    const lower = makePersonId('110101', '1985-05-05', 7).replace(/X$/, 'x');
    const wrongCheck = `${valid.slice(0, 17)}${valid.endsWith('1') ? '2' : '1'}`;
    const text = `a ${valid} b ${fullWidth} c ${lower} d ${wrongCheck} e`;
    // Act
    const out = scrubIdentifiers(text, key);
    // Assess
    expect(out).toMatch(/^a ps_[0-9a-f]{32} b ps_[0-9a-f]{32} c /);
    expect(out).not.toContain(valid.slice(0, 15));
    expect(out).not.toContain(wrongCheck);
    expect(findIdentityNumbers(out.normalize('NFKC').toUpperCase())).toEqual([]);
    expect(out.endsWith(' e')).toBe(true);
  });
});
