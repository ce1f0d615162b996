import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import { Construct } from 'constructs';
import { type KeyDef, type TableDef, type TableId, TABLES, tableName } from '../src/resources.ts';
import { acknowledgeWildcardResource, nagArn } from './nag.ts';
import { removalPolicy, type Settings } from './settings.ts';

/**
 * How a function may use a table. Narrower than the `grant*ReadWrite*` helpers on purpose: nothing
 * but the outbox and the idempotency store may be deleted from (`BatchWriteItem` deletes too, so it
 * goes with delete), nothing scans but what reads every profile, and the ledger is append-only as
 * far as IAM can say so: `PutItem` could still overwrite an entry, which the entries' hash chain and
 * the Object Lock digests would show (`pb audit verify`).
 */
export type TableAccess =
  /** DescribeTable only (item count, status); no data. */
  | 'describe'
  /** Get, batch get, query (indexes included). */
  | 'read'
  /** Read and put new items; no update, no delete (the ledger, receipts, quarantine, profiles). */
  | 'append'
  /** Put and update items whose keys the caller knows, inside transactions; no read, no index. */
  | 'write'
  /** Read, put and update; no delete. */
  | 'readWrite'
  /** Read, put, update and delete: relayed outbox rows, and idempotency records of failed handlers. */
  | 'readWriteDelete';

const READ = ['dynamodb:GetItem', 'dynamodb:BatchGetItem', 'dynamodb:Query', 'dynamodb:DescribeTable'];
// Transactions are authorised per item against these actions (there is no TransactWriteItems action).
const ACTIONS: Record<TableAccess, string[]> = {
  describe: ['dynamodb:DescribeTable'],
  read: READ,
  append: [...READ, 'dynamodb:PutItem'],
  write: ['dynamodb:PutItem', 'dynamodb:UpdateItem'],
  readWrite: [...READ, 'dynamodb:PutItem', 'dynamodb:UpdateItem'],
  readWriteDelete: [
    ...READ,
    'dynamodb:PutItem',
    'dynamodb:UpdateItem',
    'dynamodb:BatchWriteItem',
    'dynamodb:DeleteItem',
  ],
};
// Explicit KMS actions instead of `grantEncryptDecrypt`: no `ReEncrypt*` / `GenerateDataKey*` wildcards.
const KEY_READ = ['kms:Decrypt', 'kms:DescribeKey'];
const KEY_WRITE = [...KEY_READ, 'kms:Encrypt', 'kms:GenerateDataKey'];

const attribute = (k: KeyDef): dynamodb.Attribute => ({
  name: k.name,
  type: k.type === 'S' ? dynamodb.AttributeType.STRING : dynamodb.AttributeType.NUMBER,
});

/**
 * Every table in `TABLES`, built from its definition: on-demand, point-in-time recovery, encrypted
 * with the data key, TTL and secondary indexes as defined, protected from deletion in production.
 */
export class EngineTables extends Construct {
  readonly byId: Record<TableId, dynamodb.Table>;
  private readonly key: kms.IKey;

  constructor(scope: Construct, id: string, props: { settings: Settings; key: kms.IKey }) {
    super(scope, id);
    this.key = props.key;
    const build = (tid: TableId): dynamodb.Table => {
      const def: TableDef = TABLES[tid];
      const table = new dynamodb.Table(this, tid, {
        tableName: tableName(props.settings.prefix, tid),
        partitionKey: attribute(def.partitionKey),
        sortKey: def.sortKey ? attribute(def.sortKey) : undefined,
        billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
        pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
        encryption: dynamodb.TableEncryption.CUSTOMER_MANAGED,
        encryptionKey: props.key,
        timeToLiveAttribute: def.ttlAttribute,
        deletionProtection: props.settings.isProd,
        removalPolicy: removalPolicy(props.settings),
      });
      for (const index of def.indexes) {
        table.addGlobalSecondaryIndex({
          indexName: index.name,
          partitionKey: attribute(index.partitionKey),
          sortKey: index.sortKey ? attribute(index.sortKey) : undefined,
          // Index writes are billed by what they copy: lists carry a summary (resources.ts).
          ...(index.include
            ? { projectionType: dynamodb.ProjectionType.INCLUDE, nonKeyAttributes: [...index.include] }
            : { projectionType: dynamodb.ProjectionType.ALL }),
        });
      }
      return table;
    };
    this.byId = Object.fromEntries(
      (Object.keys(TABLES) as TableId[]).map((tid) => [tid, build(tid)]),
    ) as Record<TableId, dynamodb.Table>;
  }

  /**
   * Grants `fn` `access` on table `tid` and the matching use of the data key; `scan` adds Scan (only
   * what reads every profile). Access that reads gets the table's indexes too; `write` the table alone.
   */
  grant(fn: lambda.Function, tid: TableId, access: TableAccess, opts: { scan?: boolean } = {}): void {
    const table = this.byId[tid];
    const actions = [...ACTIONS[access], ...(opts.scan ? ['dynamodb:Scan'] : [])];
    if (access === 'write') {
      fn.addToRolePolicy(new iam.PolicyStatement({ actions, resources: [table.tableArn] }));
    } else table.grants.actions(fn, ...actions);
    if (access !== 'describe') this.key.grant(fn, ...(access === 'read' ? KEY_READ : KEY_WRITE));
    if (access !== 'describe' && access !== 'write' && TABLES[tid].indexes.length > 0 && fn.role) {
      acknowledgeWildcardResource(
        fn.role,
        `${nagArn(table)}/index/*`,
        `Queries on the ${tid} table's secondary indexes (${TABLES[tid].indexes.map((i) => i.name).join(', ')}, fixed in src/resources.ts); the wildcard covers only this table's indexes.`,
      );
    }
  }

  /** Grants `fn` `actions` on the items of table `tid` whose partition key is `key`, and no other. */
  grantItem(fn: lambda.Function, tid: TableId, key: string, actions: string[]): void {
    fn.addToRolePolicy(
      new iam.PolicyStatement({
        actions,
        resources: [this.byId[tid].tableArn],
        conditions: { 'ForAllValues:StringEquals': { 'dynamodb:LeadingKeys': [key] } },
      }),
    );
    this.key.grant(fn, ...KEY_WRITE);
  }
}
