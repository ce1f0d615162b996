import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runtimeConfig } from '../../src/runtime/engine.ts';
import { cleanClients, outcomeList } from '../../src/testing/harness.ts';
import {
  describeCall,
  installInjector,
  representativeSteps,
  runWithFaults,
  SWEEP_MODES,
  type SweepContext,
  sweep,
} from '../../src/testing/sweep.ts';
import { expectedOutcomes } from './expected.ts';
import { useTestEngine } from './helpers.ts';

const demo = readFileSync('events/samples/demo.jsonl', 'utf8')
  .split('\n')
  .filter((l) => l.trim());
const NOW = '2026-03-15T10:00:00+08:00';

describe('Fault injection: the k-th call of ingest → grant → notify fails', () => {
  let ctx: SweepContext;

  beforeAll(async () => {
    const engine = await useTestEngine('fault', NOW);
    ctx = {
      slice: engine,
      clients: cleanClients(),
      cfg: runtimeConfig(),
      injector: installInjector(),
      bodies: demo,
    };
  });
  afterAll(() => ctx?.clients.destroy());

  it('numbers the same calls in every fault-free run, and that run keeps every promise', async () => {
    // Act
    const first = await runWithFaults(ctx, []);
    const second = await runWithFaults(ctx, []);
    // Assess: the numbering is repeatable, so "call k" names one call.
    const names = (r: typeof first) => r.trace.map((c) => describeCall(c, ctx.cfg.prefix));
    expect(names(second)).toEqual(names(first));
    expect(first.state.problems).toEqual([]);
    expect(first.state.outcomes).toEqual(outcomeList(await expectedOutcomes(demo, NOW, '7'.repeat(64))));
    expect(first.state.receipts).toHaveLength(demo.length);
    expect(first.state.outcomes.length).toBeGreaterThan(3);
    expect(first.state.notifications.length).toBeGreaterThan(3);
    // Every write of the path is in the trace, so the sweep reaches each of them.
    const ops = new Set(first.trace.map((c) => c.operation));
    for (const op of [
      'BatchGetItem',
      'TransactWriteItems',
      'SendMessageBatch',
      'BatchWriteItem',
      'PutItem',
      'UpdateItem',
    ])
      expect(ops, op).toContain(op);
  });

  it('converges on the fault-free state after a fault before or after each kind of call, SDK-retried or crashed', async () => {
    // Act: the first and last call of each kind, in every mode (the proof runs every k).
    const { baseline, outcomes } = await sweep(ctx, {
      ks: (trace) => representativeSteps(trace, ctx.cfg.prefix),
    });
    // Assess
    const kinds = new Set(baseline.trace.map((c) => describeCall(c, ctx.cfg.prefix)));
    expect(new Set(outcomes.map((o) => o.target))).toEqual(kinds);
    expect(outcomes.length).toBe(
      representativeSteps(baseline.trace, ctx.cfg.prefix).length * SWEEP_MODES.length,
    );
    for (const o of outcomes) {
      expect(o.fired, `${o.mode} k=${o.k} (${o.target}) did not fire`).toBe(1);
      expect(o.differences, `${o.mode} k=${o.k} (${o.target})`).toEqual([]);
      expect(o.deadLettered, `${o.mode} k=${o.k}`).toBe(0);
    }
    // The faults the engine saw were redelivered. A transaction whose answer was lost is sent again
    // by the SDK with the same idempotency token and succeeds: no redelivery needed. A failed read
    // of a whole batch is absorbed: its records read one by one (a crash still fails the invocation).
    const absorbed = (x: (typeof outcomes)[number]) =>
      x.target.includes('BatchGetItem') && x.mode !== 'crash';
    for (const o of outcomes.filter((x) => x.mode !== 'after-retried' && !absorbed(x)))
      expect(o.redelivered, `${o.mode} k=${o.k}`).toBeGreaterThan(0);
    for (const o of outcomes.filter(absorbed))
      expect(o.redelivered, `${o.mode} k=${o.k} (${o.target})`).toBe(0);
    for (const o of outcomes.filter(
      (x) => x.mode === 'after-retried' && x.target.includes('TransactWriteItems'),
    ))
      expect(o.redelivered, `after-retried k=${o.k} (${o.target})`).toBe(0);
  });
});
