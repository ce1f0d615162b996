import { runtimeConfig } from './engine.ts';
import { readPseudonymKeySecret } from './pseudonym-secret.ts';

let primed: Promise<void> | undefined;

/**
 * Fetches the pseudonym key from Secrets Manager once per cold start when `PB_PSEUDONYM_SECRET_ARN`
 * is set (AWS). Locally the key comes from the environment or the key file and this does nothing.
 */
export function primeSecrets(): Promise<void> {
  const arn = process.env.PB_PSEUDONYM_SECRET_ARN;
  if (!arn) return Promise.resolve();
  primed ??= (async () => {
    runtimeConfig().primePseudonymKey(await readPseudonymKeySecret(arn));
  })().catch((e: Error) => {
    primed = undefined;
    throw new Error(`cannot read the pseudonym key from Secrets Manager: ${e.message}`);
  });
  return primed;
}
