import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Context } from 'aws-lambda';
import { describe, expect, it } from 'vitest';
import { docClient, sqsClient } from '../../src/adapters/aws.ts';
import { scanAll } from '../../src/adapters/dynamodb/scan.ts';
import { verify } from '../../src/cli/commands/audit.ts';
import { publish } from '../../src/cli/commands/publish.ts';
import { tick } from '../../src/cli/commands/tick.ts';
import type { Io } from '../../src/cli/io.ts';
import { drainQueues, queueDepth } from '../../src/local/pipeline.ts';
import { runtimeConfig } from '../../src/runtime/engine.ts';
import { decideDemo, useTestEngine } from './helpers.ts';

function io() {
  const out: string[] = [];
  const value: Io = { out: (l) => out.push(l), err: (l) => out.push(`ERR ${l}`), progress: () => undefined };
  return { out, io: value };
}

async function decisions() {
  const out: Record<string, unknown>[] = [];
  for await (const d of scanAll(docClient(), runtimeConfig().table('decisions'))) out.push(d);
  return out;
}

describe('Policy finds people: period opening and publication', () => {
  it('opens a new month for every stored subject, exactly once however often it ticks', async () => {
    // Prepare: the demo population, decided in March.
    const engine = await useTestEngine('tick', '2026-03-15T10:00:00+08:00');
    await decideDemo(engine);
    const march = await decisions();
    const marchMonthly = march.filter((d) => d.period === '2026-03');
    expect(marchMonthly.length).toBeGreaterThan(1);
    // Act: April opens, twice.
    const first = io();
    expect(await tick(['--now', '2026-04-01T00:00:00+08:00'], first.io)).toBe(0);
    const second = io();
    expect(await tick(['--now', '2026-04-01T00:00:00+08:00'], second.io)).toBe(0);
    // Assess: every March monthly grant has its April twin (the demo's facts do not change), once.
    const april = (await decisions()).filter((d) => d.period === '2026-04');
    expect(april.map((d) => `${d.subject}|${d.policy}`).sort()).toEqual(
      marchMonthly.map((d) => `${d.subject}|${d.policy}`).sort(),
    );
    expect(first.out.at(-1)).toMatch(new RegExp(`grants: ${april.length}, flagged eligibility-changed: 0$`));
    expect(second.out.at(-1)).toMatch(/grants: 0, flagged eligibility-changed: 0$/);
    // A tick for an earlier or a later date than the wall clock dates its digest by the wall clock:
    // the digests stay one chain in time and the ledger still verifies.
    expect(await tick(['--now', '2030-01-01T00:00:00+08:00'], io().io)).toBe(0);
    expect(await tick(['--now', '2026-05-01T00:00:00+08:00'], io().io)).toBe(0);
    // So does the scheduled function, invoked late for an earlier month (a retry or a manual run).
    const { handler } = await import('../../functions/tick.ts');
    const context = { getRemainingTimeInMillis: () => 60_000 } as Context;
    const opened = (await handler({ time: '2026-04-30T16:00:00Z' }, context)) as { segments: number };
    expect(opened.segments).toBeGreaterThan(0);
    expect(await queueDepth(sqsClient(), engine.queues.backfill.url)).toBe(opened.segments);
    await drainQueues(engine.queues, engine.consumers);
    // Lambda's retry of the same scheduled time (its digest failed, say) finds the opening done.
    expect(await handler({ time: '2026-04-30T16:00:00Z' }, context)).toEqual(opened);
    expect(await queueDepth(sqsClient(), engine.queues.backfill.url)).toBe(0);
    const audit = io();
    expect(await verify([], audit.io), audit.out.join('\n')).toBe(0);
  });

  it('backfills a newly published policy version over the stored profiles', async () => {
    const engine = await useTestEngine('publish', '2026-04-15T10:00:00+08:00');
    await decideDemo(engine);
    const before = await decisions();
    // Nothing is published yet, but the stack granted under rules/: a changed rule under the
    // version those decisions record is refused as well.
    const reworded = mkdtempSync(join(tmpdir(), 'pb-rules-'));
    cpSync('rules', reworded, { recursive: true });
    const elderly = join(reworded, 'elderly-allowance.json');
    const elderlyRule = JSON.parse(readFileSync(elderly, 'utf8')) as { version: string };
    writeFileSync(elderly, JSON.stringify({ ...elderlyRule, description: 'Reworded.' }, null, 2));
    await expect(publish(['--dir', reworded], io().io)).rejects.toThrow(
      new RegExp(
        `elderly-allowance: the rule changed since version ${elderlyRule.version} was used for decisions on this stack: raise its version`,
      ),
    );
    writeFileSync(elderly, JSON.stringify({ ...elderlyRule, version: '0.0.1' }, null, 2));
    await expect(publish(['--dir', reworded], io().io)).rejects.toThrow(
      /elderly-allowance: version 0\.0\.1 is lower than that of the stack's newest decision, /,
    );
    const baseline = io();
    expect(await publish(['--now', '2026-04-15T10:00:00+08:00'], baseline.io)).toBe(0);
    expect((await decisions()).length).toBe(before.length);
    // A new dated value lowers the allowance's age from May: logic untouched, a new parameter value.
    const dir = mkdtempSync(join(tmpdir(), 'pb-rules-'));
    cpSync('rules', dir, { recursive: true });
    const file = join(dir, 'params', 'elderly-allowance.json');
    const params = JSON.parse(readFileSync(file, 'utf8')) as {
      parameters: Array<{ name: string; values: unknown[] }>;
    };
    const minAge = params.parameters.find((p) => p.name === 'elderly.min-age')!;
    minAge.values = [
      { from: '2024-01-01', to: '2026-04-30', value: 80 },
      { from: '2026-05-01', value: 30 },
    ];
    writeFileSync(file, JSON.stringify(params, null, 2));
    const published = io();
    expect(await publish(['--dir', dir, '--now', '2026-05-02T09:00:00+08:00'], published.io)).toBe(0);
    const after = await decisions();
    const may = after.filter((d) => d.policy === 'elderly-allowance' && d.period === '2026-05');
    // The two guardians (in their thirties, hukou 110105) now qualify, with the 85-year-old.
    expect(may.length).toBeGreaterThanOrEqual(3);
    // Only the policy that reads the changed parameter is published again, and the output says why.
    expect(published.out.filter((l) => l.startsWith('published '))).toEqual([
      expect.stringMatching(
        /^published elderly-allowance version \S+ \(parameters changed: elderly\.min-age\)$/,
      ),
    ]);
    expect(published.out.at(-1)).toMatch(
      /^backfill: 1 policy over \d+ subjects, grants: \d+, flagged eligibility-changed: 0$/,
    );
    const again = io();
    expect(await publish(['--dir', dir, '--now', '2026-05-02T09:00:00+08:00'], again.io)).toBe(0);
    expect(again.out).toContain(
      'nothing changed since the publication of 2026-05-02T09:00:00+08:00: no backfill',
    );
    expect((await decisions()).length).toBe(after.length);
    // Taking the change back flags the May grants it made for a reviewer, and says how many.
    minAge.values = [{ from: '2024-01-01', value: 80 }];
    writeFileSync(file, JSON.stringify(params, null, 2));
    const stricter = io();
    expect(await publish(['--dir', dir, '--now', '2026-05-03T09:00:00+08:00'], stricter.io)).toBe(0);
    const flagged = (await decisions()).filter(
      (d) => d.policy === 'elderly-allowance' && d.period === '2026-05' && d.status === 'eligibility-changed',
    );
    expect(flagged.length).toBeGreaterThanOrEqual(2);
    expect(stricter.out.at(-1)).toMatch(
      new RegExp(
        `^backfill: 1 policy over \\d+ subjects, grants: 0, flagged eligibility-changed: ${flagged.length}$`,
      ),
    );
    // A policy taken out of the rules is announced as withdrawn; an empty directory is refused.
    const withdrawn = mkdtempSync(join(tmpdir(), 'pb-rules-'));
    cpSync(dir, withdrawn, { recursive: true });
    rmSync(join(withdrawn, 'job-stabilization-refund.json'));
    rmSync(join(withdrawn, 'job-stabilization-refund.test.json'), { force: true });
    await expect(
      publish(['--dir', withdrawn, '--now', '2026-05-02T09:00:00+08:00'], io().io),
    ).rejects.toThrow(
      /1 published policy has no rule file in .* \(job-stabilization-refund\): .*pass --withdraw; nothing published$/,
    );
    const out = io();
    expect(
      await publish(['--dir', withdrawn, '--now', '2026-05-02T09:00:00+08:00', '--withdraw'], out.io),
    ).toBe(0);
    // A policy published without test cases beside it is named, as pb rules test names it.
    rmSync(join(withdrawn, 'childcare-subsidy.test.json'));
    const untested = io();
    expect(await publish(['--dir', withdrawn, '--now', '2026-05-02T09:00:00+08:00'], untested.io)).toBe(0);
    expect(untested.out).toContain(
      `ERR pb rules publish: warning: ${withdrawn}/childcare-subsidy.json: $: no test cases: add childcare-subsidy.test.json beside it`,
    );
    expect(out.out).toContain(
      'withdrawn job-stabilization-refund: no new decisions; the decisions made stay',
    );
    // (dated before the publication of 2026-05-03, which it follows: said, not refused)
    expect(out.out).toContain(
      'ERR pb rules publish: warning: this publication (2026-05-02T09:00:00+08:00) is dated before the last one (2026-05-03T09:00:00+08:00): the backfill decides the periods of 2026-05-02T09:00:00+08:00',
    );
    // One version is one rule text: a changed rule under the published version, a lower version and
    // failing test cases are refused, and nothing is recorded (the next run still sees the change).
    const rule = join(withdrawn, 'six-taxes-two-fees.json');
    const original = readFileSync(rule, 'utf8');
    const policy = JSON.parse(original) as { version: string | number; description?: string };
    writeFileSync(rule, JSON.stringify({ ...policy, description: 'Reworded.' }, null, 2));
    await expect(publish(['--dir', withdrawn], io().io)).rejects.toThrow(
      new RegExp(
        `six-taxes-two-fees: the rule changed since version ${policy.version} was published: raise its version`,
      ),
    );
    writeFileSync(rule, JSON.stringify({ ...policy, version: '0.0.1' }, null, 2));
    await expect(publish(['--dir', withdrawn], io().io)).rejects.toThrow(
      /six-taxes-two-fees: version 0\.0\.1 is lower than the published/,
    );
    writeFileSync(rule, original);
    const tests = join(withdrawn, 'six-taxes-two-fees.test.json');
    const cases = JSON.parse(readFileSync(tests, 'utf8')) as Array<{ expected: { amount: number } }>;
    cases[0]!.expected.amount += 1;
    writeFileSync(tests, JSON.stringify(cases, null, 2));
    const failing = io();
    await expect(publish(['--dir', withdrawn], failing.io)).rejects.toThrow(
      /1 of \d+ test cases beside the rules fail: nothing published/,
    );
    expect(failing.out.join('\n')).toMatch(/^ERR FAIL .*six-taxes-two-fees\.test\.json \[0\]/m);
    const empty = mkdtempSync(join(tmpdir(), 'pb-rules-'));
    await expect(publish(['--dir', empty], io().io)).rejects.toThrow(
      /no rule file in .*would withdraw every policy/,
    );
  });
});
