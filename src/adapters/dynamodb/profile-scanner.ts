import { type DynamoDBDocumentClient, ScanCommand } from '@aws-sdk/lib-dynamodb';
import type { Config } from '../../config.ts';
import type { ProfileScanner } from '../../domain/engine/backfill.ts';

/** Parallel-scan segments of the profiles table, keys only. */
export class DynamoProfileScanner implements ProfileScanner {
  constructor(
    private readonly doc: DynamoDBDocumentClient,
    private readonly config: Config,
    private readonly pageSize = 200,
  ) {}

  async page(segment: number, totalSegments: number, startKey: Record<string, unknown> | undefined) {
    const r = await this.doc.send(
      new ScanCommand({
        TableName: this.config.table('profiles'),
        Segment: segment,
        TotalSegments: totalSegments,
        ExclusiveStartKey: startKey,
        ProjectionExpression: 'pk',
        Limit: this.pageSize,
      }),
    );
    return {
      subjects: (r.Items ?? []).map((i) => i.pk as string),
      ...(r.LastEvaluatedKey ? { nextKey: r.LastEvaluatedKey } : {}),
    };
  }
}
