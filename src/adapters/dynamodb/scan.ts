import {
  type DynamoDBDocumentClient,
  QueryCommand,
  type QueryCommandInput,
  ScanCommand,
} from '@aws-sdk/lib-dynamodb';

/** Every item of a table, page by page (operator tools and tests; the engine itself never scans). */
export async function* scanAll(
  doc: DynamoDBDocumentClient,
  table: string,
  segment?: { segment: number; total: number },
  /** Only these top-level attributes of each item (less to transfer; the same read units). */
  attributes?: string[],
): AsyncGenerator<Record<string, unknown>> {
  let start: Record<string, unknown> | undefined;
  const projection = attributes?.length
    ? {
        ProjectionExpression: attributes.map((_, i) => `#a${i}`).join(', '),
        ExpressionAttributeNames: Object.fromEntries(attributes.map((a, i) => [`#a${i}`, a])),
      }
    : {};
  do {
    const r = await doc.send(
      new ScanCommand({
        TableName: table,
        ExclusiveStartKey: start,
        ConsistentRead: true,
        ...(segment ? { Segment: segment.segment, TotalSegments: segment.total } : {}),
        ...projection,
      }),
    );
    for (const item of r.Items ?? []) yield item;
    start = r.LastEvaluatedKey;
  } while (start);
}

/** Every item a query matches, page by page. */
export async function* queryAll(
  doc: DynamoDBDocumentClient,
  input: QueryCommandInput,
): AsyncGenerator<Record<string, unknown>> {
  let start: Record<string, unknown> | undefined;
  do {
    const r = await doc.send(new QueryCommand({ ...input, ExclusiveStartKey: start }));
    for (const item of r.Items ?? []) yield item;
    start = r.LastEvaluatedKey;
  } while (start);
}
