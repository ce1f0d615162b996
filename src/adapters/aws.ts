import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { SQSClient } from '@aws-sdk/client-sqs';

/**
 * AWS clients. Endpoints come from the SDK's standard `AWS_ENDPOINT_URL_*` variables, so the same
 * code runs against the local stack, LocalStack or AWS. Clients are created once per process.
 */
let dynamo: DynamoDBClient | undefined;
let doc: DynamoDBDocumentClient | undefined;
let sqs: SQSClient | undefined;

const region = (): string => process.env.AWS_REGION ?? process.env.AWS_DEFAULT_REGION ?? 'cn-north-1';

/** The DynamoDB client (low level). */
export function dynamoClient(): DynamoDBClient {
  dynamo ??= new DynamoDBClient({ region: region(), maxAttempts: 4 });
  return dynamo;
}

/** The DynamoDB document client: plain JS values in and out. */
export function docClient(): DynamoDBDocumentClient {
  doc ??= DynamoDBDocumentClient.from(dynamoClient(), {
    marshallOptions: { removeUndefinedValues: true, convertEmptyValues: false },
  });
  return doc;
}

/** The SQS client. */
export function sqsClient(): SQSClient {
  // Queue URLs of emulators name hosts that may not resolve; the configured endpoint is the truth.
  sqs ??= new SQSClient({ region: region(), maxAttempts: 4, useQueueUrlAsEndpoint: false });
  return sqs;
}

/** Replaces the process's clients (tests inject fault-injecting wrappers; the local stack resets). */
export function setClients(c: {
  dynamo?: DynamoDBClient;
  doc?: DynamoDBDocumentClient;
  sqs?: SQSClient;
}): void {
  if (c.dynamo) dynamo = c.dynamo;
  if (c.doc) doc = c.doc;
  else if (c.dynamo) doc = undefined;
  if (c.sqs) sqs = c.sqs;
}

/** Forgets the clients so the next call builds new ones from the current environment. */
export function resetClients(): void {
  dynamo = undefined;
  doc = undefined;
  sqs = undefined;
}
