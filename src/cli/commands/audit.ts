import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { docClient } from '../../adapters/aws.ts';
import {
  type DigestStore,
  DynamoLedgerReader,
  digestStore,
  writeDigest,
} from '../../adapters/ledger-store.ts';
import type { Config } from '../../config.ts';
import { verifyLedgerFrom } from '../../domain/ledger/index.ts';
import { openLocalEngine, stackVariables } from '../../local/session.ts';
import { runtimeClock, runtimeConfig } from '../../runtime/engine.ts';
import { type Command, type Io, parseOptions, UsageError } from '../io.ts';

/**
 * Runs with the ledger of the stack the environment points at: a running DynamoDB
 * (`AWS_ENDPOINT_URL_DYNAMODB`: a local stack or LocalStack) or the deployed tables and digest
 * bucket (`PB_DIGEST_BUCKET`, with `PB_PREFIX` naming the stage); otherwise the local data of
 * `npm start` (`PB_DATA_DIR`, default `.data`), opened for this run. No queue is needed.
 */
async function withLedger(io: Io, fn: (cfg: Config, store: DigestStore) => Promise<number>): Promise<number> {
  if (process.env.AWS_ENDPOINT_URL_DYNAMODB || process.env.PB_DIGEST_BUCKET) {
    const cfg = runtimeConfig();
    return fn(cfg, digestStore(cfg));
  }
  // A stack named without the ledger's whereabouts is an error, never the local ledger instead.
  const named = stackVariables();
  if (named.length > 0) {
    throw new UsageError(
      `the environment names a stack (${named.join(', ')}) but not where its ledger is: set PB_DIGEST_BUCKET (a deployed stage) or AWS_ENDPOINT_URL_DYNAMODB (a local stack or LocalStack), or unset ${named.join(', ')} to audit the local ledger`,
    );
  }
  const dataDir = resolve(process.env.PB_DATA_DIR ?? '.data');
  if (!existsSync(join(dataDir, 'dynamodb'))) {
    io.err(
      `note: no local ledger under ${dataDir} yet (npm start keeps one there); to audit a running stack, set AWS_ENDPOINT_URL_DYNAMODB (and PB_PREFIX, PB_DATA_DIR as it runs with)`,
    );
  }
  const engine = await openLocalEngine({ persistDir: join(dataDir, 'dynamodb'), reuseRunning: false });
  try {
    const cfg = runtimeConfig();
    return await fn(cfg, digestStore(cfg));
  } finally {
    await engine.stop();
  }
}

/**
 * `pb audit verify`: checks every chain of the decision ledger against its entries' hashes, the
 * heads recorded with the profiles and the digests; exits 1 naming the first entry that fails.
 */
export const verify: Command = async (args, io) => {
  parseOptions(args, {});
  return withLedger(io, async (cfg, store) => {
    const result = await verifyLedgerFrom(new DynamoLedgerReader(docClient(), cfg, store));
    io.out(
      `${result.checked} ledger entries checked in ${result.chains} chains against ${result.digests} digest${result.digests === 1 ? '' : 's'} (${store.where})`,
    );
    if (result.digests === 0 && result.ok) {
      io.err(
        'pb audit verify: note: no digest written yet: the chain heads are not anchored outside the ledger (pb audit digest anchors them)',
      );
    }
    if (!result.ok) {
      io.err(`audit failed: ${result.firstFailure?.problem ?? 'unknown problem'}`);
      if (result.failures.length > 1) io.err(`(${result.failures.length - 1} more chains fail too)`);
      return 1;
    }
    io.out('ledger verifies');
    return 0;
  });
};

/**
 * `pb audit digest`: writes a digest of every chain head now (locally to the digest file, in AWS
 * to the Object Lock bucket), so later truncation or rewriting of a chain shows in `pb audit verify`.
 */
export const digest: Command = async (args, io) => {
  parseOptions(args, {});
  return withLedger(io, async (cfg, store) => {
    const d = await writeDigest(docClient(), cfg, store, runtimeClock().now());
    io.out(`digest ${d.digestHash} of ${d.heads.length} chains written to ${store.where}`);
    return 0;
  });
};
