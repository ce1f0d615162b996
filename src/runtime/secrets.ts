import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { runtimeConfig } from './engine.ts';

let primed: Promise<void> | undefined;

/**
 * Fetches the pseudonym key from Secrets Manager once per cold start when `PB_PSEUDONYM_SECRET_ARN`
 * is set (AWS). Locally the key comes from the environment or the key file and this does nothing.
 */
export function primeSecrets(): Promise<void> {
  const arn = process.env.PB_PSEUDONYM_SECRET_ARN;
  if (!arn) return Promise.resolve();
  primed ??= (async () => {
    const r = await new SecretsManagerClient({}).send(new GetSecretValueCommand({ SecretId: arn }));
    const hex = r.SecretString?.trim() ?? '';
    // The secret is generated as hex; a JSON secret {"key": "<hex>"} is accepted too.
    const value = hex.startsWith('{') ? String((JSON.parse(hex) as { key?: string }).key ?? '') : hex;
    runtimeConfig().primePseudonymKey(Buffer.from(value, 'hex'));
  })().catch((e: Error) => {
    primed = undefined;
    throw new Error(`cannot read the pseudonym key from Secrets Manager: ${e.message}`);
  });
  return primed;
}
