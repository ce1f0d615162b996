/**
 * The compiled evaluator's replacements for slower shared helpers must agree with them exactly:
 * calendar dates, base-fact reading (known / absent / malformed), half-up percentages, and the
 * chunked line reader against `readline`.
 */
import { createReadStream, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { FACTS, isCalendarDate, readFact } from '../../../src/domain/facts/catalogue.ts';
import { percentHalfUp } from '../../../src/domain/facts/derived.ts';
import {
  compileBaseReader,
  fastIsCalendarDate,
  INVALID,
  UNKNOWN,
} from '../../../src/domain/rules/compiled/facts.ts';
import { percentHalfUpFast } from '../../../src/domain/rules/compiled/money.ts';
import { fastProfileParser, forEachLine, LineWriter } from '../../../src/domain/rules/compiled/stream.ts';
import { evaluationLine, parseProfileLine } from '../../../src/cli/commands/evaluate.ts';
import { createCompiledEvaluator } from '../../../src/domain/rules/compiled/index.ts';
import { createReferenceEvaluator, loadPolicySet } from '../../../src/domain/rules/index.ts';
import { enterpriseCase, personCase, yearPeriod } from './arbitraries.ts';

const work = mkdtempSync(join(tmpdir(), 'pb-compiled-parts-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

/** Date-like texts: real dates, impossible days, years 0000..0099, wrong separators and digits. */
const dateLike = fc.oneof(
  fc
    .tuple(
      fc.integer({ min: 0, max: 9999 }),
      fc.integer({ min: 0, max: 13 }),
      fc.integer({ min: 0, max: 32 }),
    )
    .map(
      ([y, m, d]) =>
        `${String(y).padStart(4, '0')}-${String(m).padStart(2, '0')}-${String(d).padStart(2, '0')}`,
    ),
  fc.constantFrom(
    '2024-02-29',
    '2023-02-29',
    '1900-02-29',
    '2000-02-29',
    '0099-01-01',
    '0100-01-01',
    '２０２４-01-01',
  ),
  fc.string({ maxLength: 12 }),
  fc.constantFrom(20240101, null, undefined, true, ['2024-01-01']),
);

describe('Function: fastIsCalendarDate', () => {
  it('agrees with isCalendarDate, years 0000..0099 included', () => {
    fc.assert(
      fc.property(dateLike, (s) => {
        expect(fastIsCalendarDate(s)).toBe(isCalendarDate(s));
      }),
      { numRuns: 20_000 },
    );
    expect(fastIsCalendarDate('2024-02-29')).toBe(true);
    expect(fastIsCalendarDate('2023-02-29')).toBe(false);
    expect(fastIsCalendarDate('0050-03-01')).toBe(true);
    expect(isCalendarDate('0050-03-01')).toBe(true);
    expect(isCalendarDate('0000-02-29')).toBe(true);
    expect(isCalendarDate('0100-02-29')).toBe(false);
  });
});

describe('Function: compileBaseReader', () => {
  const values = fc.oneof(
    dateLike,
    fc.integer({ min: -5, max: 400 }),
    fc.constantFrom(
      1.5,
      Number.MAX_SAFE_INTEGER + 2,
      'company',
      'micro',
      'small-scale',
      '110105',
      true,
      false,
    ),
    fc.constantFrom(['g-1'], [], [''], {}, null),
  );
  const factValue = fc.oneof(
    values,
    fc.dictionary(fc.constantFrom('2024', '2025', 'x'), values),
    fc.constant(undefined),
  );

  it('reads every catalogue fact exactly as readFact: value, absent (UNKNOWN) or malformed (INVALID)', () => {
    const readers = new Map(FACTS.map((d) => [d.name, compileBaseReader(d)]));
    fc.assert(
      fc.property(fc.constantFrom(...FACTS.map((d) => d.name)), factValue, (name, v) => {
        const facts: Record<string, unknown> = v === undefined ? {} : { [name]: v };
        const want = readFact(facts, name, 2025);
        const got = readers.get(name)!(facts, 2025);
        if (want.known) expect(got).toBe(want.value);
        else expect(got).toBe(want.invalid ? INVALID : UNKNOWN);
      }),
      { numRuns: 20_000 },
    );
  });

  it('does not read inherited properties', () => {
    const reader = compileBaseReader(FACTS.find((d) => d.name === 'taxableIncome'));
    const facts = Object.create({ taxableIncome: { '2025': 5 } }) as Record<string, unknown>;
    expect(reader(facts, 2025)).toBe(UNKNOWN);
    const byYear = Object.create({ '2025': 5 }) as Record<string, unknown>;
    expect(reader({ taxableIncome: byYear }, 2025)).toBe(UNKNOWN);
  });

  it('reads a per-year value as readFact whatever the prototype of the per-year object', () => {
    const reader = compileBaseReader(FACTS.find((d) => d.name === 'taxableIncome'));
    const same = (facts: Record<string, unknown>): void => {
      const want = readFact(facts, 'taxableIncome', 2025);
      expect(reader(facts, 2025)).toBe(want.known ? want.value : want.invalid ? INVALID : UNKNOWN);
    };
    // No prototype: the value found is its own.
    const bare = Object.create(null) as Record<string, unknown>;
    bare['2025'] = 7;
    same({ taxableIncome: bare });
    expect(reader({ taxableIncome: bare }, 2025)).toBe(7);
    // A prototype of its own with the year, shadowed or not.
    const proto = { '2025': 5 };
    const shadowed = Object.create(proto) as Record<string, unknown>;
    shadowed['2025'] = 9;
    same({ taxableIncome: shadowed });
    expect(reader({ taxableIncome: shadowed }, 2025)).toBe(9);
    // Object.prototype itself holding the year: inherited, so unknown; an own value still counts.
    const op = Object.prototype as Record<string, unknown>;
    op['2025'] = 11;
    try {
      same({ taxableIncome: {} });
      expect(reader({ taxableIncome: {} }, 2025)).toBe(UNKNOWN);
      same({ taxableIncome: { '2025': 3 } });
      expect(reader({ taxableIncome: { '2025': 3 } }, 2025)).toBe(3);
    } finally {
      delete op['2025'];
    }
    expect(reader({ taxableIncome: {} }, 2025)).toBe(UNKNOWN);
  });
});

describe('Function: percentHalfUpFast', () => {
  it('agrees with the BigInt percentHalfUp, half fen and negatives included', () => {
    const big = fc.oneof(
      fc.integer({ min: -1_000, max: 1_000 }),
      fc.integer(),
      fc.maxSafeInteger(),
      fc.constantFrom(Number.MAX_SAFE_INTEGER, -Number.MAX_SAFE_INTEGER, 2 ** 52, 3, 5, 15, 25),
    );
    fc.assert(
      fc.property(big, fc.integer({ min: -200, max: 200 }), fc.integer({ min: 1, max: 1_000 }), (a, n, d) => {
        let want: number | string;
        try {
          want = percentHalfUp(a, n, d);
        } catch (e) {
          want = (e as Error).message;
        }
        let got: number | string;
        try {
          got = percentHalfUpFast(a, n, d);
        } catch (e) {
          got = (e as Error).message;
        }
        expect(got).toBe(want);
      }),
      { numRuns: 50_000 },
    );
    expect(percentHalfUpFast(3, 50, 100)).toBe(2);
    expect(percentHalfUpFast(-3, 50, 100)).toBe(-1);
    expect(percentHalfUpFast(1_234_567, 20, 100)).toBe(246_913);
  });
});

describe('Function: forEachLine', () => {
  async function readlineLines(file: string): Promise<string[]> {
    const out: string[] = [];
    const rl = createInterface({
      input: createReadStream(file, 'utf8'),
      crlfDelay: Number.POSITIVE_INFINITY,
    });
    for await (const l of rl) out.push(l);
    return out;
  }

  it('splits lines exactly as readline, across chunk boundaries and with \\r\\n, \\r and no final line end', async () => {
    const piece = fc.oneof(
      fc.string({ maxLength: 40 }),
      fc.constantFrom('\n', '\r\n', '\r', '\n\n', '\r\r\n', '中文', '{"a":1}'),
    );
    await fc.assert(
      fc.asyncProperty(
        fc.array(piece, { maxLength: 60 }),
        fc.integer({ min: 0, max: 3 }),
        async (parts, pad) => {
          // Padding pushes the text across the 1 MiB chunk size now and then.
          const text = 'x'.repeat(pad === 3 ? (1 << 20) - 3 : 0) + parts.join('');
          const file = join(work, 'lines.txt');
          writeFileSync(file, text);
          const got: Array<[string, number]> = [];
          const n = await forEachLine(file, (l, i) => got.push([l, i]));
          const want = await readlineLines(file);
          expect(got.map(([l]) => l)).toEqual(want);
          expect(got.map(([, i]) => i)).toEqual(want.map((_, i) => i + 1));
          expect(n).toBe(want.length);
        },
      ),
      { numRuns: 300 },
    );
  });
});

describe('Class: LineWriter', () => {
  it('writes lines joined by \\n in large chunks, and the rest on flush', () => {
    const writes: string[] = [];
    const w = new LineWriter((t) => writes.push(t));
    const line = 'y'.repeat(1000);
    for (let i = 0; i < 1500; i++) w.push(line);
    expect(writes.length).toBe(1);
    w.flush();
    w.flush();
    expect(writes.length).toBe(2);
    expect(writes.join('\n').split('\n')).toHaveLength(1500);
  });
});

describe('Function: fastProfileParser', () => {
  const fast = fastProfileParser(parseProfileLine);
  /** Input lines: valid profiles, profiles with bad facts, and lines that are not profiles at all. */
  const lineArb = fc.oneof(
    fc
      .tuple(
        fc.constantFrom('person', 'enterprise', 'robot', 1),
        fc.oneof(personCase(yearPeriod), enterpriseCase(yearPeriod)),
      )
      .map(([kind, c]) => JSON.stringify({ subject: 's-1', kind, facts: c.facts })),
    fc
      .record({ subject: fc.constantFrom('', 's', 7), kind: fc.constant('person'), facts: fc.constant({}) })
      .map((o) => JSON.stringify(o)),
    fc.constantFrom(
      '{"subject":"s","kind":"person","facts":{},"extra":1}',
      '{"subject":"s","kind":"person","facts":[]}',
      '{"subject":"s","kind":"person","facts":{"taxableIncome":{"25":1}}}',
      '{"subject":"s","kind":"enterprise","facts":{"taxableIncome":{"2025":null,"2024":"x"}}}',
      '{"subject":"s","kind":"person","facts":{"__proto__":{"birthDate":"1945-01-01"}}}',
      '{"__proto__":{},"subject":"s","kind":"person","facts":{}}',
      '[1,2]',
      'null',
      '{"subject":"s",',
      '\ufeff{"subject":"s","kind":"person","facts":{}}',
    ),
    fc.string({ maxLength: 30 }),
  );

  it('gives exactly what parseProfileLine gives, errors included', () => {
    fc.assert(
      fc.property(lineArb, (text) => {
        expect(fast(text)).toStrictEqual(parseProfileLine(text));
      }),
      { numRuns: 20_000 },
    );
  });
});

describe('Function: evaluateSync (output lines)', () => {
  it('results stringify to the pb evaluate line: keys in the order cli.md fixes', async () => {
    const set = loadPolicySet('rules');
    const compiled = createCompiledEvaluator(set);
    const reference = createReferenceEvaluator(set);
    const input = {
      subject: 'p-1',
      kind: 'person' as const,
      facts: { birthDate: '1945-03-01', hukouRegion: '110105' },
    };
    const want = (await reference.evaluate(input, '2025-03')).map((e) => evaluationLine(e));
    expect(compiled.evaluateSync(input, '2025-03').map((r) => JSON.stringify(r))).toEqual(want);
    expect(want).toHaveLength(3);
  });
});
