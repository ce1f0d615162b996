import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { runtimeConfig } from '../../src/runtime/engine.ts';
import { cleanClients } from '../../src/testing/harness.ts';
import { installInjector, sweep, type SweepMode } from '../../src/testing/sweep.ts';
import { useTestEngine } from './helpers.ts';

const demo = readFileSync('events/samples/demo.jsonl', 'utf8')
  .split('\n')
  .filter((l) => l.trim());
const modes = (process.env.MODES ?? 'before').split(',') as SweepMode[];

describe('trial', () => {
  it('sweep', async () => {
    const engine = await useTestEngine('trial', '2026-03-15T10:00:00+08:00');
    const injector = installInjector();
    const ctx = { slice: engine, clients: cleanClients(), cfg: runtimeConfig(), injector, bodies: demo };
    const t0 = Date.now();
    const { baseline, outcomes } = await sweep(ctx, {
      modes,
      ks: (n) =>
        Array.from({ length: n }, (_, i) => i + 1).filter(
          (k) => !process.env.KS || process.env.KS.split(',').includes(String(k)),
        ),
      onResult: (o) => {
        if (o.differences.length || !o.exact) console.log(JSON.stringify(o));
      },
    });
    console.log(JSON.stringify(baseline.state).slice(0, 1500));
    console.log(
      'baseline calls',
      baseline.stats.calls,
      'total ms',
      Date.now() - t0,
      'runs',
      outcomes.length,
      'avg run ms',
      outcomes.reduce((a, o) => a + o.ms, 0) / outcomes.length,
    );
    console.log(
      baseline.trace
        .map((c) => `${c.n}:${c.operation}:${c.targets.join(',').replaceAll(engine.prefix + '-', '')}`)
        .join(' '),
    );
    expect(outcomes.filter((o) => o.differences.length)).toEqual([]);
  }, 1_800_000);
});
