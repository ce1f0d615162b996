import { readFileSync } from 'node:fs';
import { Readable } from 'node:stream';
import { DynamoDBClient, GetItemCommand, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, PutCommand } from '@aws-sdk/lib-dynamodb';
import { describe, expect, it } from 'vitest';
import {
  attributeValueSize,
  billedChunks,
  billedMs,
  CostMeter,
  gbSeconds,
  numberSize,
  plainItemSize,
  type PriceList,
  priceUsage,
  readUnits,
  type Usage,
  usdFor,
  validatePriceList,
  wireItemSize,
  writeUnits,
} from '../../../src/testing/cost-meter.ts';

const prices = validatePriceList(JSON.parse(readFileSync('scripts/prices.json', 'utf8')));

/** Round prices, so expected figures can be worked out by hand. */
const roundPrices = (): PriceList => {
  const p = structuredClone(prices);
  p.prices.dynamodbWriteRequestUnit.usd = 1; // per million WRU
  p.prices.dynamodbReadRequestUnit.usd = 0.25; // per million RRU
  p.prices.sqsRequest.usd = 0.5; // per million
  p.prices.lambdaRequest.usd = 0.2; // per million
  p.prices.lambdaGbSecondArm.usd = 0.00001; // per GB-s
  p.prices.snsPublish.usd = 0.5; // per million
  p.prices.cloudwatchLogsIngestedGb.usd = 0.5; // per GB
  p.prices.xrayTraceRecorded.usd = 5; // per million
  return p;
};

const emptyUsage = (): Usage => ({
  dynamo: {},
  sqs: {},
  lambda: {},
  sns: { publishes: 0, billed: 0, bytes: 0 },
  logs: {},
});

describe('Pricing arithmetic', () => {
  it('prices a quantity per the unit count a price is quoted for', () => {
    // Act, Assess
    expect(usdFor(2_000_000, prices.prices.dynamodbWriteRequestUnit)).toBeCloseTo(1.25, 10);
    expect(usdFor(1_000_000, prices.prices.dynamodbReadRequestUnit)).toBeCloseTo(0.125, 10);
    expect(usdFor(10_000, prices.prices.kmsRequest)).toBeCloseTo(0.03, 10);
    expect(usdFor(1, prices.prices.lambdaGbSecondArm)).toBeCloseTo(0.0000133334, 12);
  });

  it('bills SQS and SNS per started 64 KB chunk, at least one', () => {
    expect(billedChunks(0)).toBe(1);
    expect(billedChunks(65_536)).toBe(1);
    expect(billedChunks(65_537)).toBe(2);
    expect(billedChunks(256 * 1024)).toBe(4);
  });

  it('bills Lambda per started millisecond times memory', () => {
    expect(billedMs(0.2)).toBe(1);
    expect(billedMs(12.01)).toBe(13);
    expect(gbSeconds(1000, 1024)).toBe(1);
    expect(gbSeconds(250, 512)).toBe(0.125);
  });

  it('charges write units per started KB, doubled in a transaction; reads per started 4 KB', () => {
    expect(writeUnits(0, false)).toBe(1);
    expect(writeUnits(1024, false)).toBe(1);
    expect(writeUnits(1025, false)).toBe(2);
    expect(writeUnits(3744, true)).toBe(8);
    expect(readUnits(0, 'strong')).toBe(1);
    expect(readUnits(4096, 'eventual')).toBe(0.5);
    expect(readUnits(4097, 'strong')).toBe(2);
    expect(readUnits(100, 'transactional')).toBe(2);
  });

  it('sizes items by DynamoDB rules, the same in wire form and as plain JavaScript', () => {
    // Prepare
    const plain = { pk: 'ps_1', n: 12345, ok: true, list: ['ab', 7], map: { k: 'v' } };
    const wire = {
      pk: { S: 'ps_1' },
      n: { N: '12345' },
      ok: { BOOL: true },
      list: { L: [{ S: 'ab' }, { N: '7' }] },
      map: { M: { k: { S: 'v' } } },
    };
    // Act, Assess
    expect(numberSize('12345')).toBe(4);
    expect(numberSize('-0.5')).toBe(2);
    expect(attributeValueSize({ S: '中文' })).toBe(6);
    // pk 2+4, n 1+4, ok 2+1, list 4+(3+1+2+1+2), map 3+(3+1+1+1)
    expect(wireItemSize(wire)).toBe(6 + 5 + 3 + 13 + 9);
    expect(plainItemSize(plain)).toBe(wireItemSize(wire));
  });

  it('prices a phase per million events and totals the lines', () => {
    // Prepare: 1,000 events
    const usage = emptyUsage();
    usage.dynamo['ingest\tTransactWriteItems\tevents+profiles'] = {
      requests: 1000,
      failed: 0,
      withCapacity: 1000,
      measured: { rru: 0, wru: 4000 },
      computed: { rru: 0, wru: 4000 },
      priced: { rru: 0, wru: 4000 },
      byIndex: {},
      itemsPut: {},
    };
    usage.dynamo['ingest\tGetItem\tprofiles'] = {
      requests: 1000,
      failed: 0,
      withCapacity: 1000,
      measured: { rru: 1000, wru: 0 },
      computed: { rru: 1000, wru: 0 },
      priced: { rru: 1000, wru: 0 },
      byIndex: {},
      itemsPut: {},
    };
    usage.sqs['agencies\t-\tSendMessageBatch'] = { requests: 100, billed: 100, messages: 1000, empty: 0 };
    // 110 receives of which 10 empty: the empty ones are not priced.
    usage.sqs['event-source mappings\t-\tReceiveMessage'] = {
      requests: 110,
      billed: 110,
      messages: 1000,
      empty: 10,
    };
    usage.sqs['event-source mappings\t-\tGetQueueAttributes'] = {
      requests: 50,
      billed: 50,
      messages: 0,
      empty: 0,
    };
    usage.lambda.ingest = { invocations: 100, records: 1000, durationMs: 9990, billedMs: 10_000, maxMs: 300 };
    usage.sns = { publishes: 200, billed: 200, bytes: 100_000 };
    usage.logs.ingest = { lines: 1000, bytes: 1024 ** 3 / 1000 - 1000 * 26 };
    // Act
    const r = priceUsage(usage, roundPrices(), {
      events: 1000,
      memoryMb: () => 512,
      xraySampleRate: 0.05,
      logOverheadBytes: 26,
    });
    // Assess: per million events
    const by = Object.fromEntries(r.lines.map((l) => [`${l.service}: ${l.what}`, l.usdPerMillion]));
    expect(by['DynamoDB: write request units']).toBeCloseTo(4, 10); // 4 WRU/event x $1/M
    expect(by['DynamoDB: read request units']).toBeCloseTo(0.25, 10); // 1 RRU/event x $0.25/M
    expect(by['SQS: agencies']).toBeCloseTo(0.05, 10); // 0.1 requests/event x $0.5/M
    expect(by['SQS: event-source mappings']).toBeCloseTo(0.05, 10); // 100 of 110 receives priced
    expect(by['Lambda: invocations']).toBeCloseTo(0.02, 10); // 0.1 x $0.2/M
    expect(by['Lambda: duration (Arm)']).toBeCloseTo(0.05, 10); // 10 s x 0.5 GB = 5 GB-s per 1,000 events
    expect(by['SNS: publishes']).toBeCloseTo(0.1, 10); // 0.2 x $0.5/M
    expect(by['CloudWatch Logs: ingestion']).toBeCloseTo(0.5, 10); // 1 GB per million events
    expect(by['X-Ray: traces (sampled)']).toBeCloseTo(0.025, 10); // 0.1 x 5% x $5/M
    expect(r.usdPerMillion).toBeCloseTo(4 + 0.25 + 0.05 + 0.05 + 0.02 + 0.05 + 0.1 + 0.5 + 0.025, 10);
    expect(r.dynamoRequestsPerEventTotal).toBe(2);
    expect(r.dynamoRequestsPerEvent).toEqual({ TransactWriteItems: 1, GetItem: 1 });
  });

  it('refuses a price file without a source, or in another currency', () => {
    const noSource = structuredClone(prices);
    noSource.prices.sqsRequest.source = '';
    expect(() => validatePriceList(noSource)).toThrow(/sqsRequest/);
    expect(() => validatePriceList({ ...prices, currency: 'CNY' })).toThrow(/USD/);
  });
});

/** A DynamoDB client whose transport records request bodies and answers with canned JSON. */
function fakeDynamo(answer: (target: string) => unknown | Error) {
  const bodies: Array<Record<string, unknown>> = [];
  const client = new DynamoDBClient({
    region: 'us-east-1',
    endpoint: 'http://127.0.0.1:9',
    credentials: { accessKeyId: 'x', secretAccessKey: 'x' },
    maxAttempts: 1,
    requestHandler: {
      handle: async (req: { headers: Record<string, string>; body: string | Uint8Array }) => {
        const text = typeof req.body === 'string' ? req.body : new TextDecoder().decode(req.body);
        bodies.push(JSON.parse(text) as Record<string, unknown>);
        const a = answer(req.headers['x-amz-target'] ?? '');
        const failed = a instanceof Error;
        return {
          response: {
            statusCode: failed ? 400 : 200,
            headers: { 'content-type': 'application/x-amz-json-1.0' },
            body: Readable.from([
              Buffer.from(
                JSON.stringify(
                  failed
                    ? {
                        __type: 'com.amazonaws.dynamodb.v20120810#ConditionalCheckFailedException',
                        message: 'no',
                      }
                    : a,
                ),
              ),
            ]),
          },
        };
      },
    },
  });
  return { client, bodies };
}

describe('Class: CostMeter (DynamoDB)', () => {
  it('asks for consumed capacity on every call and counts what DynamoDB reports', async () => {
    // Prepare
    const { client, bodies } = fakeDynamo((target) =>
      target.endsWith('GetItem')
        ? { Item: { pk: { S: 'a' } }, ConsumedCapacity: { TableName: 'pb-profiles', CapacityUnits: 1 } }
        : { ConsumedCapacity: { TableName: 'pb-profiles', CapacityUnits: 3 } },
    );
    const meter = new CostMeter();
    meter.instrumentDynamo(client);
    const doc = DynamoDBDocumentClient.from(client);
    // Act
    await client.send(
      new GetItemCommand({ TableName: 'pb-profiles', Key: { pk: { S: 'a' } }, ConsistentRead: true }),
    );
    await doc.send(new PutCommand({ TableName: 'pb-profiles', Item: { pk: 'a', v: 'x'.repeat(2500) } }));
    const u = meter.take();
    // Assess
    expect(bodies.map((b) => b.ReturnConsumedCapacity)).toEqual(['INDEXES', 'INDEXES']);
    const get = u.dynamo['-\tGetItem\tprofiles']!;
    expect(get).toMatchObject({ requests: 1, withCapacity: 1, measured: { rru: 1, wru: 0 } });
    const put = u.dynamo['-\tPutItem\tprofiles']!;
    expect(put).toMatchObject({
      requests: 1,
      withCapacity: 1,
      measured: { rru: 0, wru: 3 },
      priced: { wru: 3 },
    });
    // Computed from the marshalled item: 2 + 1 + 1 + 2500 bytes = 3 KB started.
    expect(put.computed.wru).toBe(3);
    expect(put.itemsPut.profiles).toEqual({ items: 1, bytes: 2504 });
    client.destroy();
  });

  it('prices a failed conditional write from the item size: failures return no capacity', async () => {
    // Prepare
    const { client } = fakeDynamo(() => new Error('conditional'));
    const meter = new CostMeter();
    meter.instrumentDynamo(client);
    // Act
    await expect(
      client.send(
        new PutItemCommand({
          TableName: 'pb-deliveries',
          Item: { pk: { S: 'd' }, body: { S: 'y'.repeat(1500) } },
          ConditionExpression: 'attribute_not_exists(pk)',
        }),
      ),
    ).rejects.toThrow();
    // Assess
    expect(meter.take().dynamo['-\tPutItem\tdeliveries']).toMatchObject({
      requests: 1,
      failed: 1,
      withCapacity: 0,
      priced: { wru: 2 },
    });
    client.destroy();
  });
});
