import { describe, expect, it } from 'vitest';
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
