import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { logger } from '../../src/adapters/observability.ts';
import { list } from '../../src/cli/commands/quarantine.ts';
import { replay } from '../../src/cli/commands/replay.ts';
import type { Io } from '../../src/cli/io.ts';
import { fixedClock } from '../../src/clock.ts';
import { generateEvents } from '../../src/domain/events/generate.ts';
import { sendLines } from '../../src/local/pipeline.ts';
import { runtimeConfig, setClock } from '../../src/runtime/engine.ts';
import { poisoned } from '../../src/testing/consumers.ts';
import { drainWithRedelivery } from '../../src/testing/drain.ts';
import { queueDepth } from '../../src/local/pipeline.ts';
import { asLines, cleanClients, type CleanClients } from '../../src/testing/harness.ts';
import { captureOutput, hostileEvents, IdentityScan, rawIdentityNumbers } from '../../src/testing/scan.ts';
import { batchEnvironments, QUICK_TIMING, wrapConsumer } from '../../src/testing/sweep.ts';
import { useTestEngine } from './helpers.ts';

// Before any import creates the logger: every log line at DEBUG. (Setting the level later does not
// last: the Lambda-context middleware resets it to the initial level at each invocation.)
const savedLevel = vi.hoisted(() => {
  const was = process.env.POWERTOOLS_LOG_LEVEL;
  process.env.POWERTOOLS_LOG_LEVEL = 'DEBUG';
  return was;
});

const NOW = '2026-03-15T10:00:00+08:00';
const demo = readFileSync('events/samples/demo.jsonl', 'utf8')
  .split('\n')
  .filter((l) => l.trim());

function captureIo() {
  const out: string[] = [];
  const err: string[] = [];
  const io: Io = { out: (l) => out.push(l), err: (l) => err.push(l), progress: (t) => err.push(t) };
  return { io, out, err };
}

describe('Security: no raw identity number is written anywhere', () => {
  let clients: CleanClients;
  afterAll(() => {
    clients?.destroy();
    if (savedLevel === undefined) delete process.env.POWERTOOLS_LOG_LEVEL;
    else process.env.POWERTOOLS_LOG_LEVEL = savedLevel;
  });

  const hostile = hostileEvents();
  const generated = [...generateEvents({ persons: 60, enterprises: 15, seed: 'security' })];
  const stream = [...demo, ...generated, ...hostile.accepted, ...hostile.rejected];
  // One event with identity numbers keeps failing: it ends in the DLQ and `pb quarantine list`.
  const poison = generated.find((b) => b.includes('birth-registered'))!;

  const scan = new IdentityScan();
  let logLines: string[] = [];

  beforeAll(async () => {
    // Prepare: capture every log line of the whole run.
    expect(logger.getLevelName()).toBe('DEBUG');
    const captured = captureOutput({ quiet: true });
    try {
      const engine = await useTestEngine('security', NOW);
      clients = cleanClients();
      // Act: the stream through the real handlers, two pollers per queue, one poison message.
      await sendLines(clients.sqs, engine.queues.agencyEvents.url, asLines(stream));
      const environments = wrapConsumer(await batchEnvironments(2), 'agencyEvents', (h) =>
        poisoned(h, (b) => b === poison),
      );
      await drainWithRedelivery(engine.queues, environments, {
        concurrency: 2,
        sqs: clients.sqs,
        retryDelaySeconds: QUICK_TIMING.redeliverySeconds,
      });
      expect(await queueDepth(clients.sqs, engine.queues.agencyEvents.dlqUrl)).toBe(1);
      // The operator's commands: pb quarantine list on this stack, then pb replay of the same
      // stream on fresh tables (on this stack it would decide nothing new, and report nothing).
      const listed = captureIo();
      expect(await list(['--all', '--json'], listed.io)).toBe(0);
      const listedText = captureIo();
      expect(await list(['--all'], listedText.io)).toBe(0);
      await scan.tables(clients.doc, runtimeConfig());
      const notifyFile = process.env.PB_NOTIFY_FILE!;
      scan.file('notifications', notifyFile);
      await useTestEngine('security-replay', NOW);
      const dir = mkdtempSync(join(tmpdir(), 'pb-security-'));
      const file = join(dir, 'events.jsonl');
      writeFileSync(file, `${stream.join('\n')}\n`);
      const replayed = captureIo();
      const code = await replay(
        [
          '--events',
          file,
          '--now',
          NOW,
          '--out',
          join(dir, 'decisions.jsonl'),
          '--rejected',
          join(dir, 'rejected.jsonl'),
        ],
        replayed.io,
      );
      expect(code).toBe(0);
      setClock(fixedClock(NOW));
      // Scan
      await scan.tables(clients.doc, runtimeConfig());
      scan.lines('pb replay output', [...replayed.out, ...replayed.err]);
      scan.file('pb replay --out', join(dir, 'decisions.jsonl'));
      scan.file('pb replay --rejected', join(dir, 'rejected.jsonl'));
      scan.lines('pb quarantine list', [...listed.out, ...listed.err, ...listedText.out, ...listedText.err]);
      expect(listed.out.some((l) => l.startsWith('{"key":"dlq:agency-events:'))).toBe(true);
    } finally {
      captured.stop();
    }
    logLines = captured.lines();
    scan.lines('log lines', logLines);
  });

  it('finds the raw numbers it looks for: the input holds hundreds, in every hostile form', () => {
    const inInput = rawIdentityNumbers(stream.join('\n'));
    expect(inInput.length).toBeGreaterThan(80);
    for (const body of hostile.rejected.slice(0, 8))
      expect(rawIdentityNumbers(body).length, body).toBeGreaterThan(0);
  });

  it('scanned every table, every log line, the notifications and every command output', () => {
    expect(scan.scanned['table items']).toBeGreaterThan(stream.length);
    // Decisions keep their detail compressed: the scan read it decompressed.
    expect(scan.scanned['packed attributes']).toBeGreaterThan(5);
    expect(scan.scanned['log lines']).toBeGreaterThan(100);
    expect(logLines.some((l) => l.includes('"level":"DEBUG"'))).toBe(true);
    expect(scan.scanned.notifications).toBeGreaterThan(5);
    expect(scan.scanned['pb replay --out']).toBeGreaterThan(5);
    expect(scan.scanned['pb replay --rejected']).toBeGreaterThanOrEqual(hostile.rejected.length);
    expect(scan.scanned['pb quarantine list']).toBeGreaterThan(hostile.rejected.length);
  });

  it('finds no raw identity number in any of them', () => {
    expect(scan.leaks).toEqual([]);
  });
});
