import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { sqsClient } from '../adapters/aws.ts';
import { type DrainOptions, drainQueues, sendLines } from './pipeline.ts';
import { retryBackoff } from './poller.ts';
import { checkEngineRules } from '../cli/engine-rules.ts';
import { openLocalEngine } from './session.ts';
import { STACK_ENV_FILE } from './stack.ts';
import { observe, runtimeConfig } from '../runtime/engine.ts';
import { notificationsFile, observeNotifications } from '../runtime/notify.ts';
import { formatYuan } from '../domain/notifications/index.ts';
import { startReviewServer } from './http.ts';
import { docClient } from '../adapters/aws.ts';
import { digestStore, writeDigest } from '../adapters/ledger-store.ts';
import { systemClock } from '../clock.ts';

/**
 * `npm start`: the whole engine on this machine. Starts the local stack (DynamoDB Local file-backed
 * under .data/, fauxqs), publishes the sample events, runs the real handlers until the queues are
 * empty (printing each grant and notification), then serves the reviewer API and console on PORT
 * and keeps consuming the queues until Ctrl-C. `PB_NOW` (an ISO date-time) sets the engine's clock
 * for the whole run, e.g. to see a month's allowances before that month.
 */
/** The first recipient in the local notifications file, if any (a person, not an enterprise). */
function earlierRecipient(): string | undefined {
  const file = notificationsFile();
  if (!existsSync(file)) return undefined;
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    try {
      const r = (JSON.parse(line) as { recipient?: unknown }).recipient;
      if (typeof r === 'string' && r.startsWith('ps_')) return r;
    } catch {
      // a line cut short by a crash: look further
    }
  }
  return undefined;
}

async function main(): Promise<void> {
  const port = Number(process.env.PORT ?? '3000');
  if (!Number.isInteger(port) || port < 0 || port > 65535)
    throw new Error(`PORT '${process.env.PORT}' is not a port number`);
  const dataDir = resolve(process.env.PB_DATA_DIR ?? '.data');
  try {
    checkEngineRules();
  } catch (e) {
    console.error(`npm start: ${(e as Error).message}`);
    process.exit(1);
  }
  const engine = await openLocalEngine({
    persistDir: join(dataDir, 'dynamodb'),
    reuseRunning: false,
    ...(process.env.PB_NOW ? { now: process.env.PB_NOW } : {}),
  });
  let stopping = false;
  let server: Awaited<ReturnType<typeof startReviewServer>> | undefined;
  // Digests are dated by the wall clock even when PB_NOW sets the engine's: they are anchored now,
  // and must stay one chain in time with those of later commands (as pb tick dates its own).
  const anchor = () =>
    writeDigest(docClient(), runtimeConfig(), digestStore(runtimeConfig()), systemClock.now());
  const shutdown = async (code: number) => {
    if (stopping) return;
    stopping = true;
    console.log('Stopping…');
    await anchor().catch(() => undefined);
    await server?.close().catch(() => undefined);
    await engine.stop();
    process.exit(code);
  };
  process.on('SIGINT', () => void shutdown(0));
  process.on('SIGTERM', () => void shutdown(0));
  try {
    observe((e) => {
      if (e.type === 'granted') {
        const d = e.decision;
        console.log(
          `Granted  ${d.policy} ${d.period}  ¥${formatYuan(d.amount)}  to ${d.subject}  (ref ${d.ref})`,
        );
      } else if (e.type === 'flagged') {
        console.log(`Flagged  ${e.key} of ${e.subject}: eligibility changed (now ${e.outcome})`);
      } else if (e.type === 'rejected') {
        console.log(`Rejected event ${e.eventId ?? '(no id)'}: ${e.reason}`);
      }
    });
    // Who was notified, in order: the first one gets a citizen token to try the citizen routes with.
    const notified: string[] = [];
    observeNotifications((n) => {
      if (!notified.includes(n.recipient)) notified.push(n.recipient);
      console.log(`Notified ${n.recipient}  ${n.title}  (ref ${n.ref})`);
    });
    const samplesDir = resolve('events/samples');
    const files = readdirSync(samplesDir)
      .filter((f) => f.endsWith('.jsonl'))
      .sort();
    const lines: Array<{ line: number; body: string }> = [];
    for (const f of files) {
      for (const body of readFileSync(join(samplesDir, f), 'utf8').split('\n')) {
        if (body.trim()) lines.push({ line: lines.length + 1, body });
      }
    }
    console.log(
      `Local stack up (data in ${dataDir}); publishing ${lines.length} sample events from events/samples/`,
    );
    await sendLines(sqsClient(), engine.queues.agencyEvents.url, lines);
    // A failed message waits 1, 2, 4 … s before its next receive, as Lambda's visibility timeout
    // spaces them: a spell of throttling does not use up maxReceiveCount and dead-letter it.
    const drain: DrainOptions = { retryDelaySeconds: retryBackoff };
    await drainQueues(engine.queues, engine.consumers, drain);
    server = await startReviewServer({ port });
    console.log(`Review console: http://localhost:${new URL(server.url).port}`);
    console.log(`Reviewer token: ${server.reviewerToken}`);
    console.log(`Auditor token: ${server.auditorToken}`);
    // A later run on the same data notifies nobody new: the first person an earlier run notified.
    const citizen = notified[0] ?? earlierRecipient();
    if (citizen) {
      const where = notified[0]
        ? 'notified above'
        : `notified by an earlier run, ${relative(process.cwd(), notificationsFile())}`;
      console.log(`Citizen token (${citizen}, ${where}): ${await server.tokenFor('citizen', citizen)}`);
    }
    console.log(
      `Tables: ${runtimeConfig().prefix}-*; agency events queue: ${engine.queues.agencyEvents.url}`,
    );
    const envFile = relative(process.cwd(), join(dataDir, 'dynamodb', STACK_ENV_FILE));
    console.log(
      `Stack environment (endpoints, prefix, every queue URL): ${envFile}; \`. ${envFile}\` points a shell's pb commands at this stack`,
    );
    console.log('Press Ctrl-C to stop.');
    // Keep playing Lambda's part for events published while we run.
    while (!stopping) {
      await drainQueues(engine.queues, engine.consumers, drain).catch((e: Error) =>
        console.error(`poller: ${e.message}`),
      );
      await new Promise((r) => setTimeout(r, 1000));
    }
  } catch (e) {
    console.error(`npm start: ${(e as Error).message}`);
    await shutdown(1);
  }
}

await main();
