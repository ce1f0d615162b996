/**
 * The compiled evaluator skips its own-property check of a subject's facts only when no fact name
 * can be inherited: the facts inherit from `Object.prototype` (or nothing) and `Object.prototype`
 * is locked (non-extensible) without any fact name. Locking is process-wide and permanent, so the
 * locked cases run in child processes.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { FACTS } from '../../../src/domain/facts/catalogue.ts';
import { FactTable } from '../../../src/domain/rules/compiled/facts.ts';

const ROOT = resolve(import.meta.dirname, '../../..');
const work = mkdtempSync(join(tmpdir(), 'pb-proto-lock-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

const table = (): FactTable => {
  const t = new FactTable();
  for (const d of FACTS) t.add(d.name, d);
  return t;
};

describe('FactTable.ownSafe (Object.prototype not locked)', () => {
  it('is false for ordinary objects while Object.prototype can still gain properties', () => {
    expect(Object.isExtensible(Object.prototype)).toBe(true);
    expect(table().ownSafe({ taxableIncome: { '2025': 1 } })).toBe(false);
  });

  it('is true for facts without a prototype and false for any other prototype or a non-object', () => {
    const t = table();
    expect(t.ownSafe(Object.create(null))).toBe(true);
    expect(t.ownSafe(Object.create({ taxableIncome: { '2025': 1 } }))).toBe(false);
    expect(t.ownSafe(new (class Facts {})())).toBe(false);
    expect(t.ownSafe(null)).toBe(false);
    expect(t.ownSafe('facts')).toBe(false);
  });
});

/** Runs a module in a fresh node (with the TypeScript loader); returns its JSON output. */
function child(source: string): Record<string, unknown> {
  const file = join(work, `case-${Math.random().toString(36).slice(2)}.mts`);
  writeFileSync(file, source);
  const r = spawnSync(process.execPath, ['--import', 'tsx', file], { cwd: ROOT, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`child failed (${r.status}): ${r.stderr}`);
  return JSON.parse(r.stdout) as Record<string, unknown>;
}

const prelude = `
import { join } from 'node:path';
import { createCompiledEvaluator } from ${JSON.stringify(join(ROOT, 'src/domain/rules/compiled/index.ts'))};
import { FactTable, lockObjectPrototype } from ${JSON.stringify(join(ROOT, 'src/domain/rules/compiled/facts.ts'))};
import { FACTS } from ${JSON.stringify(join(ROOT, 'src/domain/facts/catalogue.ts'))};
import { createReferenceEvaluator, loadPolicySet } from ${JSON.stringify(join(ROOT, 'src/domain/rules/index.ts'))};
const set = loadPolicySet(${JSON.stringify(join(ROOT, 'rules'))});
const compiled = createCompiledEvaluator(set);
const reference = createReferenceEvaluator(set);
const lean = (e) => ({ subject: e.subject, policy: e.policy, period: e.period, outcome: e.outcome, amount: e.amount, reasons: e.reasons });
const small = { enterpriseType: 'company', vatTaxpayerType: 'small-scale', industryRestricted: { '2025': false },
  taxableIncome: { '2025': 1_000_000_00 }, employeesAvg: { '2025': 20 }, totalAssetsAvg: { '2025': 3_000_000_00 },
  localTaxesDue: { '2025': 10_000_00 }, enterpriseSize: { '2025': 'small' }, uiPremiumsPaid: { '2025': 100_000_00 },
  uiInsuredHeadcount: { '2025': 20 }, uiLayoffs: { '2025': 0 }, uiArrears: { '2025': false } };
const { taxableIncome: _t, ...noIncome } = small;
async function compare(facts) {
  const input = { subject: 'e-1', kind: 'enterprise', facts };
  const c = compiled.evaluateSync(input, '2025');
  const r = (await reference.evaluate(input, '2025')).map(lean);
  return { same: JSON.stringify(c) === JSON.stringify(r), outcomes: c.map((x) => x.outcome + ':' + x.amount) };
}
const table = new FactTable();
for (const d of FACTS) table.add(d.name, d);
`;

describe('lockObjectPrototype', () => {
  it('stops pollution and lets the compiled evaluator skip the check, with results identical to the reference', () => {
    const out = child(`${prelude}
lockObjectPrototype();
let threw = false;
try { Object.prototype.taxableIncome = { '2025': 1 }; } catch { threw = true; }
const inherited = Object.create({ taxableIncome: { '2025': 5_000_000_00 } });
Object.assign(inherited, noIncome);
console.log(JSON.stringify({
  threw,
  polluted: Object.hasOwn(Object.prototype, 'taxableIncome'),
  ownSafe: table.ownSafe(small),
  ownSafeCustomProto: table.ownSafe(inherited),
  full: await compare(small),
  missing: await compare(noIncome),
  inherited: await compare(inherited),
}));
`);
    expect(out.threw).toBe(true);
    expect(out.polluted).toBe(false);
    expect(out.ownSafe).toBe(true);
    expect(out.ownSafeCustomProto).toBe(false);
    for (const k of ['full', 'missing', 'inherited']) expect((out[k] as { same: boolean }).same).toBe(true);
    // The inherited income is not read: the subject is as unknown as without it.
    expect((out.inherited as { outcomes: string[] }).outcomes).toEqual(
      (out.missing as { outcomes: string[] }).outcomes,
    );
    expect((out.full as { outcomes: string[] }).outcomes).not.toEqual(
      (out.missing as { outcomes: string[] }).outcomes,
    );
  });

  it('keeps checking when Object.prototype already held a fact name before it was locked', () => {
    const out = child(`${prelude}
Object.defineProperty(Object.prototype, 'taxableIncome', { value: { '2025': 5_000_000_00 }, enumerable: false, writable: true, configurable: true });
lockObjectPrototype();
console.log(JSON.stringify({ ownSafe: table.ownSafe(noIncome), missing: await compare(noIncome), full: await compare(small) }));
`);
    expect(out.ownSafe).toBe(false);
    expect((out.missing as { same: boolean }).same).toBe(true);
    expect((out.full as { same: boolean }).same).toBe(true);
    // The inherited income is not read: the outcome differs from the subject that has it.
    expect((out.missing as { outcomes: string[] }).outcomes).not.toEqual(
      (out.full as { outcomes: string[] }).outcomes,
    );
  });
});
