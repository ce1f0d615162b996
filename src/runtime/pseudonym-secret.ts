import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';

/**
 * Reads the pseudonym key from its Secrets Manager secret. The secret is generated as hex; a JSON
 * secret {"key": "<hex>"} is accepted too. Kept apart from the engine's composition root so that a
 * function which only pseudonymises (the pre token generation trigger) bundles nothing else.
 */
export async function readPseudonymKeySecret(arn: string): Promise<Buffer> {
  const r = await new SecretsManagerClient({}).send(new GetSecretValueCommand({ SecretId: arn }));
  const hex = r.SecretString?.trim() ?? '';
  const value = hex.startsWith('{') ? String((JSON.parse(hex) as { key?: string }).key ?? '') : hex;
  return Buffer.from(value, 'hex');
}

let fetched: Promise<Buffer> | undefined;

/**
 * The pseudonym key of `PB_PSEUDONYM_SECRET_ARN`, fetched once per process; undefined when the
 * variable is not set (the key then comes from the environment or the key file).
 */
export function secretPseudonymKey(): Promise<Buffer> | undefined {
  const arn = process.env.PB_PSEUDONYM_SECRET_ARN;
  if (!arn) return undefined;
  fetched ??= readPseudonymKeySecret(arn).catch((e: Error) => {
    fetched = undefined;
    throw new Error(`cannot read the pseudonym key from Secrets Manager: ${e.message}`);
  });
  return fetched;
}
