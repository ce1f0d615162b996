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
import { openLocalEngine } from '../../local/session.ts';
import { runtimeClock, runtimeConfig } from '../../runtime/engine.ts';
import { type Command, parseOptions } from '../io.ts';

/** Runs with the ledger of the stack the environment points at, else the local one of `npm start`. */
async function withLedger(fn: (cfg: Config, store: DigestStore) => Promise<number>): Promise<number> {
  const engine = await openLocalEngine({
    persistDir: join(resolve(process.env.PB_DATA_DIR ?? '.data'), 'dynamodb'),
  });
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
  return withLedger(async (cfg, store) => {
    const result = await verifyLedgerFrom(new DynamoLedgerReader(docClient(), cfg, store));
    io.out(`${result.checked} ledger entries checked in ${result.chains} chains (digests: ${store.where})`);
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
  return withLedger(async (cfg, store) => {
    const d = await writeDigest(docClient(), cfg, store, runtimeClock().now());
    io.out(`digest ${d.digestHash} of ${d.heads.length} chains written to ${store.where}`);
    return 0;
  });
};
