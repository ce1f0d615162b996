import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { dirname, resolve } from 'node:path';
import { type QueueId, queueName, type TableId, tableName, TABLES, QUEUES } from './resources.ts';

/**
 * The one config loader. Everything the engine reads from its environment is read here, once,
 * and a missing required value fails loudly with what to set.
 *
 * Variables:
 * - `PB_PREFIX`: prefix of physical table and queue names (default `pb-local`).
 * - `PB_QUEUE_URL_<ID>` (e.g. `PB_QUEUE_URL_AGENCY_EVENTS`): queue URLs; when absent the URL is
 *   looked up by name.
 * - `PB_PSEUDONYM_SECRET_ARN` (AWS: the key in Secrets Manager, fetched at cold start), or
 *   `PB_PSEUDONYM_KEY` (hex, >= 32 bytes) or `PB_PSEUDONYM_KEY_FILE`: the HMAC key for pseudonyms.
 *   Locally a key file `.data/pseudonym.key` is created on first use.
 * - `PB_RULES_DIR`: directory of rule files (default `rules`).
 * - `PB_DATA_DIR`: local state (default `.data`).
 * - `PB_NOTIFY_CONTACT`, `PB_NOTIFY_LINK`: how a beneficiary objects, printed in every notification.
 * - `PB_REVIEW_AMOUNT_THRESHOLD`: decisions above this many fen join the review queue.
 * - `PB_EVALUATOR`: `compiled` (default; identical results, shown by the differential tests) or
 *   `reference` (json-rules-engine).
 * - `PB_JWT_SECRET` (local issuer) / `PB_JWT_ISSUER`, `PB_JWT_AUDIENCE`.
 * - `AWS_ENDPOINT_URL_DYNAMODB`, `AWS_ENDPOINT_URL_SQS`, ...: standard SDK endpoint overrides.
 */
export interface Config {
  prefix: string;
  dataDir: string;
  rulesDir: string;
  notifyContact: string;
  notifyLink: string;
  reviewAmountThreshold: number;
  /** Evaluator the engine decides with (`PB_EVALUATOR`): `compiled` (default) or `reference`. */
  evaluator: 'compiled' | 'reference';
  /** Local token issuer's secret (`PB_JWT_SECRET`, at least 32 characters); random per start when absent. */
  jwtSecret?: string;
  /** Audience the local issuer puts in tokens and requires (`PB_JWT_AUDIENCE`). */
  jwtAudience?: string;
  table(id: TableId): string;
  queue(id: QueueId): string;
  /** Queue URL from the environment, when given. */
  queueUrl(id: QueueId): string | undefined;
  dlqUrl(id: QueueId): string | undefined;
  pseudonymKey(): Buffer;
  /** Supplies the key fetched at cold start (AWS: Secrets Manager), before anything asks for it. */
  primePseudonymKey(key: Buffer): void;
}

const envKey = (id: string): string => id.replace(/[A-Z]/g, (c) => `_${c}`).toUpperCase();

function evaluatorChoice(v: string | undefined): Config['evaluator'] {
  if (v === undefined || v === '' || v === 'compiled') return 'compiled';
  if (v === 'reference') return 'reference';
  throw new Error(`PB_EVALUATOR '${v}' is not one of: compiled, reference`);
}

/** Reads the configuration from an environment (default `process.env`). */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const prefix = env.PB_PREFIX ?? 'pb-local';
  if (!/^[A-Za-z0-9_.-]{1,40}$/.test(prefix))
    throw new Error(`PB_PREFIX '${prefix}' is not a valid name prefix`);
  const dataDir = resolve(env.PB_DATA_DIR ?? '.data');
  const threshold = Number(env.PB_REVIEW_AMOUNT_THRESHOLD ?? '500000');
  if (!Number.isSafeInteger(threshold) || threshold < 0) {
    throw new Error('PB_REVIEW_AMOUNT_THRESHOLD must be a whole number of fen');
  }
  let key: Buffer | undefined;
  return {
    prefix,
    dataDir,
    rulesDir: resolve(env.PB_RULES_DIR ?? 'rules'),
    notifyContact: env.PB_NOTIFY_CONTACT ?? '12345 (政务服务便民热线 / government service hotline)',
    notifyLink: env.PB_NOTIFY_LINK ?? 'https://zwfw.example.gov.cn/objections',
    reviewAmountThreshold: threshold,
    evaluator: evaluatorChoice(env.PB_EVALUATOR),
    ...(env.PB_JWT_SECRET ? { jwtSecret: env.PB_JWT_SECRET } : {}),
    ...(env.PB_JWT_AUDIENCE ? { jwtAudience: env.PB_JWT_AUDIENCE } : {}),
    table: (id) => tableName(prefix, id),
    queue: (id) => queueName(prefix, id),
    queueUrl: (id) => env[`PB_QUEUE_URL_${envKey(id)}`],
    dlqUrl: (id) => env[`PB_DLQ_URL_${envKey(id)}`],
    pseudonymKey: () => {
      if (!key && env.PB_PSEUDONYM_SECRET_ARN) {
        throw new Error(
          'the pseudonym key comes from Secrets Manager: call primeSecrets() at cold start first',
        );
      }
      key ??= readPseudonymKey(env, dataDir);
      return key;
    },
    primePseudonymKey: (k) => {
      if (k.length < 32) throw new Error('the pseudonym key must be at least 32 bytes');
      key = k;
    },
  };
}

function readPseudonymKey(env: NodeJS.ProcessEnv, dataDir: string): Buffer {
  if (env.PB_PSEUDONYM_KEY) {
    const k = Buffer.from(env.PB_PSEUDONYM_KEY, 'hex');
    if (k.length < 32) throw new Error('PB_PSEUDONYM_KEY must be at least 32 bytes of hex');
    return k;
  }
  if (env.PB_PSEUDONYM_KEY_FILE !== undefined) {
    // A key named on purpose is never replaced by a new one: other pseudonyms would follow.
    const named = resolve(env.PB_PSEUDONYM_KEY_FILE);
    if (!existsSync(named)) {
      throw new Error(
        `PB_PSEUDONYM_KEY_FILE names ${named}, which does not exist: put the key there (64 hex digits, e.g. openssl rand -hex 32) or unset it to use ${resolve(dataDir, 'pseudonym.key')}`,
      );
    }
  }
  const file = env.PB_PSEUDONYM_KEY_FILE ?? resolve(dataDir, 'pseudonym.key');
  if (!existsSync(file)) {
    // First local start: create the key. It is git-ignored with the rest of .data/.
    mkdirSync(dirname(file), { recursive: true });
    try {
      writeFileSync(file, randomBytes(32).toString('hex'), { mode: 0o600, flag: 'wx' });
    } catch (e) {
      // Another process created it a moment ago: use that one.
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    }
  }
  const k = Buffer.from(readFileSync(file, 'utf8').trim(), 'hex');
  if (k.length < 32) throw new Error(`pseudonym key file ${file} must hold at least 32 bytes of hex`);
  return k;
}

export { TABLES, QUEUES };
