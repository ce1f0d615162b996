import { describe, expect, it } from 'vitest';
import { verify } from '../../src/cli/commands/audit.ts';
import { replay } from '../../src/cli/commands/replay.ts';
import { tick } from '../../src/cli/commands/tick.ts';
import type { Io } from '../../src/cli/io.ts';
import { openLocalEngine, stackVariables } from '../../src/local/session.ts';
import { useTestEngine } from './helpers.ts';

describe('Function: openLocalEngine (which stack a command works on)', () => {
  it('finds the queues of the stack PB_PREFIX names by their names, and starts nothing', async () => {
    // Prepare: a provisioned stack, named by its endpoints and prefix only (no queue URLs).
    const engine = await useTestEngine('session');
    for (const k of Object.keys(process.env)) {
      if (k.startsWith('PB_QUEUE_URL_') || k.startsWith('PB_DLQ_URL_')) delete process.env[k];
    }
    // Act
    const found = await openLocalEngine();
    // Assess
    expect(found.started).toBe(false);
    expect(found.queues.agencyEvents.url).toBe(engine.queues.agencyEvents.url);
    expect(found.queues.notifications.dlqUrl).toBe(engine.queues.notifications.dlqUrl);
    // Found by name: a deployed stage's functions consume its queues, not this process.
    expect(found.local).toBe(false);
    await found.stop();
    const quiet: Io = { out: () => undefined, err: () => undefined, progress: () => undefined };
    await expect(tick(['--now', '2026-04-01T00:00:00+08:00'], quiet)).rejects.toThrow(
      /^pb tick opens periods on the local stack; for the deployed stage it-session-\S+ invoke its tick function: aws lambda invoke --function-name it-session-\S+-tick /,
    );
    await expect(
      replay(['--events', 'events/samples/demo.jsonl', '--now', '2026-04-01T00:00:00+08:00'], quiet),
    ).rejects.toThrow(/^pb replay runs the functions in this process, so it works on a local stack/);
  });

  it('plays the functions itself on a local stack whose every queue URL the environment gives', async () => {
    const engine = await useTestEngine('session-local');
    const found = await openLocalEngine();
    expect(found).toMatchObject({ started: false, local: true });
    expect(found.queues.backfill.url).toBe(engine.queues.backfill.url);
    await found.stop();
  });

  it('fails, naming the missing queue, when the named stack does not exist: no local stack instead', async () => {
    // Prepare
    await useTestEngine('session-missing');
    for (const k of Object.keys(process.env)) {
      if (k.startsWith('PB_QUEUE_URL_') || k.startsWith('PB_DLQ_URL_')) delete process.env[k];
    }
    process.env.PB_PREFIX = 'pb-nowhere';
    // Act + Assess
    await expect(openLocalEngine()).rejects.toThrow(
      /^the environment names a stack \(AWS_ENDPOINT_URL_DYNAMODB, AWS_ENDPOINT_URL_SQS, PB_PREFIX\) but its queue pb-nowhere-agency-events cannot be found/,
    );
  });

  it('audits no local ledger when the environment names a stack without saying where its ledger is', async () => {
    await useTestEngine('session-audit');
    for (const k of Object.keys(process.env)) {
      if (k.startsWith('AWS_ENDPOINT_URL') || k.startsWith('PB_QUEUE_URL_') || k.startsWith('PB_DLQ_URL_'))
        delete process.env[k];
    }
    process.env.PB_PREFIX = 'pb-dev';
    const quiet: Io = { out: () => undefined, err: () => undefined, progress: () => undefined };
    await expect(verify([], quiet)).rejects.toThrow(
      /^the environment names a stack \(PB_PREFIX\) but not where its ledger is: set PB_DIGEST_BUCKET/,
    );
  });

  it('lists only the variables that name a stack and are set', () => {
    expect(
      stackVariables({
        PB_PREFIX: 'pb-dev',
        PB_QUEUE_URL_AGENCY_EVENTS: 'x',
        AWS_ENDPOINT_URL_SQS: '',
        AWS_REGION: 'cn-north-1',
        PB_DATA_DIR: '/tmp',
      }),
    ).toEqual(['PB_PREFIX', 'PB_QUEUE_URL_AGENCY_EVENTS']);
    expect(stackVariables({ AWS_REGION: 'cn-north-1' })).toEqual([]);
  });
});
