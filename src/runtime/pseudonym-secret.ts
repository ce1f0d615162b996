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
