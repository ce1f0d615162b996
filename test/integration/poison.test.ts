import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { list, redrive } from '../../src/cli/commands/quarantine.ts';
import type { Io } from '../../src/cli/io.ts';
import { fixedClock } from '../../src/clock.ts';
import { findIdentityNumbers } from '../../src/domain/identity.ts';
import { pseudonymise } from '../../src/domain/pseudonym.ts';
import { QUEUES } from '../../src/resources.ts';
import { runtimeConfig, setClock } from '../../src/runtime/engine.ts';
import { poisoned } from '../../src/testing/consumers.ts';
import { cleanClients, compareStates, type EngineState, outcomeList } from '../../src/testing/harness.ts';
import {
  batchEnvironments,
  drainWithFaults,
  installInjector,
  QUICK_TIMING,
  runWithFaults,
  type SweepContext,
  wrapConsumer,
} from '../../src/testing/sweep.ts';
import { expectedOutcomes } from './expected.ts';
import { useTestEngine } from './helpers.ts';

const demo = readFileSync('events/samples/demo.jsonl', 'utf8')
  .split('\n')
  .filter((l) => l.trim());
const NOW = '2026-03-15T10:00:00+08:00';
const KEY_HEX = '7'.repeat(64);

function captureIo() {
  const out: string[] = [];
  const io: Io = { out: (l) => out.push(l), err: (l) => out.push(l), progress: () => undefined };
  return { io, out };
}

describe('Poison messages: a message that always fails', () => {
  let ctx: SweepContext;
  let baseline: EngineState;

  beforeAll(async () => {
    const engine = await useTestEngine('poison', NOW);
    ctx = {
      slice: engine,
      clients: cleanClients(),
      cfg: runtimeConfig(),
      injector: installInjector(),
      bodies: demo,
    };
    baseline = (await runWithFaults(ctx, [], { consumers: await batchEnvironments(2), concurrency: 2 }))
      .state;
    expect(baseline.outcomes).toEqual(outcomeList(await expectedOutcomes(demo, NOW, KEY_HEX)));
  });
  afterAll(() => ctx?.clients.destroy());

  it('reaches the DLQ after maxReceiveCount, is listed without raw identity numbers, and is processed after redrive', async () => {
    // Prepare: the birth registration (child and both guardians named by raw identity number)
    // trips a handler fault on every delivery.
    const body = demo.find((b) => b.includes('"ca-2025-000311"'))!;
    const raw = findIdentityNumbers(body).map((f) => f.value);
    expect(raw.length).toBeGreaterThanOrEqual(3);
    const seen = new Map<string, number>();
    const consumers = wrapConsumer(await batchEnvironments(2), 'agencyEvents', (h) =>
      poisoned(h, (b) => b === body, seen),
    );

    // Act
    const run = await runWithFaults(ctx, [], { consumers, concurrency: 2, timing: QUICK_TIMING });

    // Assess: delivered exactly maxReceiveCount times, then dead-lettered; the rest went through.
    expect([...seen.values()]).toEqual([QUEUES.agencyEvents.maxReceiveCount]);
    expect(run.state.queues['agencyEvents-dlq']).toBe(1);
    expect(run.state.receipts).toEqual(baseline.receipts.filter((r) => r !== 'ca-2025-000311'));
    const child = pseudonymise(Buffer.from(KEY_HEX, 'hex'), raw[0]!);
    expect(run.state.outcomes.filter((o) => o.startsWith(child))).toEqual([]);
    expect(baseline.outcomes.some((o) => o.startsWith(child))).toBe(true);

    // Act: the operator lists what is stuck.
    const shown = captureIo();
    expect(await list(['--json'], shown.io)).toBe(0);
    const text = captureIo();
    expect(await list([], text.io)).toBe(0);

    // Assess: the dead-lettered event is listed by id, with a preview naming pseudonyms only.
    const dead = shown.out
      .slice(0, -1)
      .map((l) => JSON.parse(l) as { key: string; id: string; preview: string; queue: string })
      .filter((d) => d.key.startsWith('dlq:'));
    expect(dead).toHaveLength(1);
    expect(dead[0]).toMatchObject({ queue: 'agency-events', id: 'ca-2025-000311' });
    expect(dead[0]!.preview).toContain(child);
    expect(shown.out.at(-1)).toBe('0 rejected events open, 1 dead-lettered message (pb quarantine redrive)');
    expect(text.out.some((l) => l.startsWith(`dlq:agency-events:`) && l.includes('ca-2025-000311'))).toBe(
      true,
    );
    expect(findIdentityNumbers([...shown.out, ...text.out].join('\n'))).toEqual([]);
    // Listing does not consume it.
    expect(run.state.queues['agencyEvents-dlq']).toBe(1);

    // Act: the bug is fixed (the handler fault removed); the operator redrives.
    const moved = captureIo();
    expect(await redrive([], moved.io)).toBe(0);
    expect(moved.out).toEqual(['1 dead-lettered message moved back to agency-events']);
    // The commands re-read the environment: set the engine's clock and clients up again.
    setClock(fixedClock(NOW));
    installInjector(ctx.injector);
    const after = await drainWithFaults(ctx, [], { consumers: await batchEnvironments(2), concurrency: 2 });

    // Assess: processed, and the state is the one the stream gives without the fault.
    expect(compareStates(baseline, after.state)).toEqual([]);
    const again = captureIo();
    await list([], again.io);
    expect(again.out.at(-1)).toBe('0 rejected events open');
  });

  it('refuses to redrive a queue the engine does not have, naming the ones it has', async () => {
    await expect(redrive(['--queue', 'agency-event'], captureIo().io)).rejects.toThrow(
      /--queue 'agency-event' is not a queue of the engine: use one of agency-events, /,
    );
  });
});
