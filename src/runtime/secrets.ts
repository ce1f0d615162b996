import { runtimeConfig } from './engine.ts';
import { secretPseudonymKey } from './pseudonym-secret.ts';

/**
 * Fetches the pseudonym key from Secrets Manager once per process (a Lambda cold start) when
 * `PB_PSEUDONYM_SECRET_ARN` is set (AWS), and gives it to the current runtime configuration, also
 * after the runtime was reset (the `pb` command line does that when it opens a stack). Locally the
 * key comes from the environment or the key file and this does nothing.
 */
export async function primeSecrets(): Promise<void> {
  const key = secretPseudonymKey();
  if (key) runtimeConfig().primePseudonymKey(await key);
}
