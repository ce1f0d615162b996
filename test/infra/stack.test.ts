import { Annotations, Match, type Template } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import type { FunctionName } from '../../infra/function.ts';
import { REVIEW_GROUPS, REVIEW_ROUTES } from '../../infra/review-api.ts';
import { REJECTED_EVENTS_THRESHOLD, THROTTLE_PERIODS } from '../../infra/alarms.ts';
import {
  CREDIT_CODE_ATTRIBUTE_NAME,
  RESIDENT_ID_ATTRIBUTE,
  RESIDENT_ID_ATTRIBUTE_NAME,
} from '../../src/api/subject-claim.ts';
import {
  dlqName,
  type QueueId,
  QUEUES,
  queueName,
  type TableId,
  TABLES,
  tableName,
  visibilityTimeoutSeconds,
} from '../../src/resources.ts';
import {
  acknowledgements,
  actionsOn,
  FUNCTIONS,
  type CfnResource,
  nagFindings,
  referencedIds,
  refOf,
  resourcesOf,
  roleStatements,
  type Synthesised,
  synthStage,
} from './synth.ts';

const STAGE = 'test';
const PREFIX = `pb-${STAGE}`;
const QUEUE_IDS = Object.keys(QUEUES) as QueueId[];
const TABLE_IDS = Object.keys(TABLES) as TableId[];

let synth: Synthesised;
let template: Template;

/** Logical id of the resource of `type` whose property `prop` equals `value`. */
function idBy(type: string, prop: string, value: unknown): string {
  const found = Object.entries(resourcesOf(template, type)).filter(([, r]) => r.Properties[prop] === value);
  expect(found, `${type} with ${prop}=${value}`).toHaveLength(1);
  return found[0]![0];
}
const fnId = (name: FunctionName): string =>
  idBy('AWS::Lambda::Function', 'FunctionName', `${PREFIX}-${name}`);
const tableId = (id: TableId): string => idBy('AWS::DynamoDB::Table', 'TableName', tableName(PREFIX, id));
const queueId = (id: QueueId): string => idBy('AWS::SQS::Queue', 'QueueName', queueName(PREFIX, id));
const dlqId = (id: QueueId): string => idBy('AWS::SQS::Queue', 'QueueName', dlqName(PREFIX, id));
const resource = (type: string, id: string): CfnResource => resourcesOf(template, type)[id]!;

beforeAll(() => {
  // Prepare: one synthesis for the whole file (cdk-nag runs inside it).
  synth = synthStage(STAGE);
  template = synth.template;
});

describe('Stack: pb-<stage>', () => {
  describe('Tables', () => {
    it('creates exactly the tables of TABLES', () => {
      template.resourceCountIs('AWS::DynamoDB::Table', TABLE_IDS.length);
    });

    it.each(TABLE_IDS)(
      '%s: keys, on-demand, PITR, customer-managed KMS, indexes and TTL from resources.ts',
      (id) => {
        const def = TABLES[id];
        const keys = [def.partitionKey, ...('sortKey' in def ? [def.sortKey] : [])];
        template.hasResourceProperties('AWS::DynamoDB::Table', {
          TableName: tableName(PREFIX, id),
          KeySchema: keys.map((k, i) => ({ AttributeName: k.name, KeyType: i === 0 ? 'HASH' : 'RANGE' })),
          BillingMode: 'PAY_PER_REQUEST',
          PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
          SSESpecification: { SSEEnabled: true, SSEType: 'KMS', KMSMasterKeyId: Match.anyValue() },
          GlobalSecondaryIndexes:
            def.indexes.length === 0
              ? Match.absent()
              : def.indexes.map((ix) =>
                  Match.objectLike({
                    IndexName: ix.name,
                    KeySchema: [
                      { AttributeName: ix.partitionKey.name, KeyType: 'HASH' },
                      ...('sortKey' in ix && ix.sortKey
                        ? [{ AttributeName: ix.sortKey.name, KeyType: 'RANGE' }]
                        : []),
                    ],
                    Projection:
                      'include' in ix && ix.include
                        ? { ProjectionType: 'INCLUDE', NonKeyAttributes: [...ix.include] }
                        : { ProjectionType: 'ALL' },
                  }),
                ),
          TimeToLiveSpecification:
            'ttlAttribute' in def ? { AttributeName: def.ttlAttribute, Enabled: true } : Match.absent(),
        });
      },
    );

    it('leaves deletion protection off outside production', () => {
      for (const id of TABLE_IDS) {
        expect(resource('AWS::DynamoDB::Table', tableId(id)).Properties.DeletionProtectionEnabled).toBe(
          false,
        );
      }
    });
  });

  describe('Queues', () => {
    it('creates each queue of QUEUES and its dead-letter queue, and the period opening DLQ', () => {
      template.resourceCountIs('AWS::SQS::Queue', QUEUE_IDS.length * 2 + 1);
    });

    it.each(QUEUE_IDS)(
      '%s: DLQ with maxReceiveCount, KMS, retention and visibility from resources.ts',
      (id) => {
        const def = QUEUES[id];
        const queue = resource('AWS::SQS::Queue', queueId(id)).Properties;
        const dlq = resource('AWS::SQS::Queue', dlqId(id)).Properties;
        expect(queue.RedrivePolicy).toEqual({
          deadLetterTargetArn: { 'Fn::GetAtt': [dlqId(id), 'Arn'] },
          maxReceiveCount: def.maxReceiveCount,
        });
        expect(queue.VisibilityTimeout).toBe(visibilityTimeoutSeconds(def));
        expect(queue.MessageRetentionPeriod).toBe(def.retentionDays * 86_400);
        expect(dlq.MessageRetentionPeriod).toBe(def.dlqRetentionDays * 86_400);
        // A message must not expire in the DLQ before it would have in its source queue.
        expect(dlq.MessageRetentionPeriod).toBeGreaterThan(queue.MessageRetentionPeriod);
        for (const q of [queue, dlq]) expect(refOf(q.KmsMasterKeyId)).toBeDefined();
      },
    );

    it.each(QUEUE_IDS)('%s: visibility timeout is at least six times its consumer function timeout', (id) => {
      const mappings = Object.values(resourcesOf(template, 'AWS::Lambda::EventSourceMapping')).filter(
        (m) => refOf(m.Properties.EventSourceArn) === queueId(id),
      );
      expect(mappings).toHaveLength(1);
      const fn = resource('AWS::Lambda::Function', refOf(mappings[0]!.Properties.FunctionName)!);
      expect(fn.Properties.Timeout).toBe(QUEUES[id].consumerTimeoutSeconds);
      expect(resource('AWS::SQS::Queue', queueId(id)).Properties.VisibilityTimeout).toBeGreaterThanOrEqual(
        6 * fn.Properties.Timeout,
      );
    });

    it('refuses plain-HTTP requests on every queue and DLQ', () => {
      const policies = Object.values(resourcesOf(template, 'AWS::SQS::QueuePolicy'));
      for (const id of QUEUE_IDS.flatMap((q) => [queueId(q), dlqId(q)])) {
        const enforcing = policies.filter(
          (p) =>
            p.Properties.Queues.some((q: unknown) => refOf(q) === id) &&
            p.Properties.PolicyDocument.Statement.some(
              (s: { Effect: string; Condition?: { Bool?: Record<string, string> } }) =>
                s.Effect === 'Deny' && s.Condition?.Bool?.['aws:SecureTransport'] === 'false',
            ),
        );
        expect(enforcing, id).toHaveLength(1);
      }
    });
  });

  describe('Event-source mappings', () => {
    it('one per queue, batches of ten, partial batch responses and a concurrency cap', () => {
      const mappings = Object.values(resourcesOf(template, 'AWS::Lambda::EventSourceMapping'));
      expect(mappings).toHaveLength(QUEUE_IDS.length);
      for (const m of mappings) {
        expect(m.Properties.FunctionResponseTypes).toEqual(['ReportBatchItemFailures']);
        expect(m.Properties.BatchSize).toBe(10);
        expect(m.Properties.ScalingConfig.MaximumConcurrency).toBeGreaterThanOrEqual(2);
      }
    });
  });

  describe('Functions', () => {
    it('creates one function per entry point', () => {
      template.resourceCountIs('AWS::Lambda::Function', FUNCTIONS.length);
      for (const name of FUNCTIONS) fnId(name);
    });

    it.each(FUNCTIONS)(
      '%s: Node.js 24 on ARM64, traced, JSON logs to an encrypted group with retention',
      (name) => {
        const fn = resource('AWS::Lambda::Function', fnId(name)).Properties;
        expect(fn.Runtime).toBe('nodejs24.x');
        expect(fn.Architectures).toEqual(['arm64']);
        expect(fn.TracingConfig).toEqual({ Mode: 'Active' });
        expect(fn.LoggingConfig.LogFormat).toBe('JSON');
        const group = resource('AWS::Logs::LogGroup', refOf(fn.LoggingConfig.LogGroup)!).Properties;
        expect(group.LogGroupName).toBe(`/aws/lambda/${PREFIX}-${name}`);
        expect(group.RetentionInDays).toBe(30);
        expect(refOf(group.KmsKeyId)).toBeDefined();
        expect(fn.Environment.Variables).toMatchObject({
          PB_PREFIX: PREFIX,
          PB_RULES_DIR: '/var/task/rules',
          NODE_OPTIONS: '--enable-source-maps',
        });
      },
    );

    it('passes each function exactly the variables it uses', () => {
      const shared = [
        'PB_PREFIX',
        'PB_RULES_DIR',
        'POWERTOOLS_SERVICE_NAME',
        'POWERTOOLS_METRICS_NAMESPACE',
        'NODE_OPTIONS',
      ];
      const own: Record<FunctionName, string[]> = {
        ingest: ['PB_QUEUE_URL_EVALUATIONS', 'PB_PSEUDONYM_SECRET_ARN'],
        evaluate: ['PB_QUEUE_URL_NOTIFICATIONS'],
        backfill: ['PB_QUEUE_URL_NOTIFICATIONS', 'PB_QUEUE_URL_BACKFILL'],
        notify: ['PB_NOTIFY_TOPIC_ARN'],
        'review-api': ['PB_QUEUE_URL_NOTIFICATIONS'],
        tick: ['PB_QUEUE_URL_BACKFILL', 'PB_DIGEST_BUCKET'],
        'pre-token': ['PB_PSEUDONYM_SECRET_ARN'],
      };
      for (const name of FUNCTIONS) {
        const vars = Object.keys(
          resource('AWS::Lambda::Function', fnId(name)).Properties.Environment.Variables,
        );
        expect(vars.sort(), name).toEqual([...shared, ...own[name]].sort());
      }
    });

    it('queue URLs point at the queues of resources.ts', () => {
      const env = (n: FunctionName) =>
        resource('AWS::Lambda::Function', fnId(n)).Properties.Environment.Variables;
      expect(refOf(env('evaluate').PB_QUEUE_URL_NOTIFICATIONS)).toBe(queueId('notifications'));
      expect(refOf(env('ingest').PB_QUEUE_URL_EVALUATIONS)).toBe(queueId('evaluations'));
      expect(refOf(env('tick').PB_QUEUE_URL_BACKFILL)).toBe(queueId('backfill'));
    });

    it('function roles carry no AWS managed policy', () => {
      for (const name of FUNCTIONS) {
        const role = refOf(resource('AWS::Lambda::Function', fnId(name)).Properties.Role)!;
        expect(resource('AWS::IAM::Role', role).Properties.ManagedPolicyArns).toBeUndefined();
      }
    });
  });

  describe('Least privilege', () => {
    it('no function is allowed a service wildcard action (dynamodb:*, s3:*, kms:*, ...)', () => {
      for (const name of FUNCTIONS) {
        for (const s of roleStatements(template, fnId(name))) {
          for (const a of s.actions) expect(a, `${name}: ${a}`).not.toMatch(/^(\*|[a-z0-9-]+:\*)$/);
        }
      }
    });

    it('the only statement on Resource "*" is the X-Ray one that tracing needs', () => {
      for (const name of FUNCTIONS) {
        const star = roleStatements(template, fnId(name)).filter((s) => s.resources.includes('*'));
        expect(star.flatMap((s) => s.actions).sort(), name).toEqual([
          'xray:PutTelemetryRecords',
          'xray:PutTraceSegments',
        ]);
      }
    });

    it('notify cannot touch profiles, decisions or the ledger', () => {
      for (const t of ['profiles', 'decisions', 'ledger'] as TableId[]) {
        expect(actionsOn(template, fnId('notify'), tableId(t)), t).toEqual([]);
      }
    });

    it('the review API only reads delivery records, and only notify writes them', () => {
      const review = actionsOn(template, fnId('review-api'), tableId('deliveries'));
      expect(review).toContain('dynamodb:Query');
      expect(review.filter((a) => /Put|Update|Delete|Write/.test(a))).toEqual([]);
      const writers = FUNCTIONS.filter((name) =>
        actionsOn(template, fnId(name), tableId('deliveries')).includes('dynamodb:PutItem'),
      );
      expect(writers).toEqual(['notify']);
    });

    it('the ledger is append-only: no function may update or delete ledger entries', () => {
      for (const name of FUNCTIONS) {
        const actions = actionsOn(template, fnId(name), tableId('ledger'));
        expect(actions, name).not.toContain('dynamodb:UpdateItem');
        expect(actions, name).not.toContain('dynamodb:DeleteItem');
        expect(actions, name).not.toContain('dynamodb:BatchWriteItem');
      }
      expect(actionsOn(template, fnId('evaluate'), tableId('ledger'))).toContain('dynamodb:PutItem');
      // Ingest only merges facts: it cannot write decisions or the ledger.
      expect(actionsOn(template, fnId('ingest'), tableId('ledger'))).toEqual([]);
      expect(actionsOn(template, fnId('ingest'), tableId('decisions'))).toEqual([]);
    });

    it('deletes, batch writes included, only on the outbox and idempotency tables; scans only of profiles, by backfill and tick', () => {
      for (const name of FUNCTIONS) {
        for (const t of TABLE_IDS) {
          const actions = actionsOn(template, fnId(name), tableId(t));
          if (t !== 'outbox' && t !== 'idempotency')
            expect(actions, `${name} on ${t}`).not.toContain('dynamodb:BatchWriteItem');
          if (!(t === 'profiles' && (name === 'backfill' || name === 'tick')))
            expect(actions, `${name} on ${t}`).not.toContain('dynamodb:Scan');
        }
      }
      expect(actionsOn(template, fnId('backfill'), tableId('profiles'))).toContain('dynamodb:Scan');
      expect(actionsOn(template, fnId('tick'), tableId('profiles'))).toContain('dynamodb:Scan');
    });

    it('evaluate and backfill only put and update decisions, by key: no read, no index', () => {
      for (const name of ['evaluate', 'backfill'] as FunctionName[]) {
        const onDecisions = roleStatements(template, fnId(name)).filter(
          (s) =>
            s.Effect === 'Allow' && s.resources.some((r) => referencedIds(r).includes(tableId('decisions'))),
        );
        expect(onDecisions.flatMap((s) => s.actions).sort(), name).toEqual([
          'dynamodb:PutItem',
          'dynamodb:UpdateItem',
        ]);
        expect(JSON.stringify(onDecisions.flatMap((s) => s.resources)), name).not.toContain('/index/');
      }
    });

    it('tick may only update the one meta item that records the latest digest', () => {
      const onMeta = roleStatements(template, fnId('tick')).filter((s) =>
        s.resources.some((r) => referencedIds(r).includes(tableId('meta'))),
      );
      expect(onMeta).toEqual([
        {
          Effect: 'Allow',
          actions: ['dynamodb:UpdateItem'],
          resources: [expect.anything()],
          Condition: { 'ForAllValues:StringEquals': { 'dynamodb:LeadingKeys': ['ledger-digest'] } },
        },
      ]);
    });

    it('producers may only send to the queues they feed: no lookups, their URLs are given', () => {
      const feeds: Array<[FunctionName, QueueId]> = [
        ['ingest', 'evaluations'],
        ['evaluate', 'notifications'],
        ['backfill', 'notifications'],
        ['review-api', 'notifications'],
        ['tick', 'backfill'],
      ];
      for (const [name, queue] of feeds) {
        expect(actionsOn(template, fnId(name), queueId(queue)), `${name} to ${queue}`).toEqual([
          'sqs:SendMessage',
        ]);
      }
    });

    it('only the outbox and idempotency tables can be deleted from', () => {
      for (const name of FUNCTIONS) {
        for (const t of TABLE_IDS.filter((t) => t !== 'outbox' && t !== 'idempotency')) {
          expect(actionsOn(template, fnId(name), tableId(t)), `${name} on ${t}`).not.toContain(
            'dynamodb:DeleteItem',
          );
        }
      }
    });

    it('tick only reads the profiles table, records the latest digest in the meta table and only sends to the backfill queue', () => {
      for (const t of TABLE_IDS) {
        const actions = actionsOn(template, fnId('tick'), tableId(t));
        if (t === 'profiles') {
          expect(actions).toContain('dynamodb:DescribeTable');
          expect(actions.filter((a) => /Put|Update|Delete|Write/.test(a))).toEqual([]);
        } else if (t === 'meta') {
          expect(actions).toContain('dynamodb:UpdateItem');
          expect(actions.filter((a) => /Delete/.test(a))).toEqual([]);
        } else if (t === 'idempotency') {
          // Its own idempotency records: a retried invocation does not open the periods again.
          expect(actions).toContain('dynamodb:PutItem');
        } else expect(actions, t).toEqual([]);
      }
      expect(actionsOn(template, fnId('tick'), queueId('backfill'))).toContain('sqs:SendMessage');
      expect(actionsOn(template, fnId('tick'), queueId('notifications'))).toEqual([]);
    });

    it('only the functions that build pseudonyms may read the pseudonym key', () => {
      const secret = Object.keys(resourcesOf(template, 'AWS::SecretsManager::Secret'))[0]!;
      const readers = FUNCTIONS.filter((name) =>
        actionsOn(template, fnId(name), secret).includes('secretsmanager:GetSecretValue'),
      );
      expect(readers.sort()).toEqual(['ingest', 'pre-token']);
    });

    it('only tick writes digests: list versions, get versions and put under digests/, never delete or change retention', () => {
      const bucket = idBy('AWS::S3::Bucket', 'ObjectLockEnabled', true);
      for (const name of FUNCTIONS) {
        const actions = actionsOn(template, fnId(name), bucket);
        expect(
          actions.filter(
            (a) => !['s3:ListBucketVersions', 's3:GetObjectVersion', 's3:PutObject'].includes(a),
          ),
          name,
        ).toEqual([]);
      }
      const writers = FUNCTIONS.filter((name) =>
        actionsOn(template, fnId(name), bucket).includes('s3:PutObject'),
      );
      expect(writers).toEqual(['tick']);
      const list = roleStatements(template, fnId('tick')).find((s) =>
        s.actions.includes('s3:ListBucketVersions'),
      )!;
      expect(list.Condition).toEqual({ StringLike: { 's3:prefix': ['digests/*'] } });
      const policy = Object.values(resourcesOf(template, 'AWS::S3::BucketPolicy')).find(
        (p) => refOf(p.Properties.Bucket) === bucket,
      )!;
      const denies: Array<{ Action: string[]; Principal: { AWS: unknown } }> =
        policy.Properties.PolicyDocument.Statement.filter(
          (s: { Effect: string; Principal?: { AWS?: unknown } }) =>
            s.Effect === 'Deny' && s.Principal?.AWS !== '*',
        );
      for (const name of FUNCTIONS) {
        const role = refOf(resource('AWS::Lambda::Function', fnId(name)).Properties.Role)!;
        const denied = denies
          .filter((d) => referencedIds(d.Principal.AWS).includes(role))
          .flatMap((d) => d.Action);
        if (writers.includes(name)) {
          expect(denied, name).toEqual(
            expect.arrayContaining([
              's3:DeleteObjectVersion',
              's3:PutObjectRetention',
              's3:BypassGovernanceRetention',
            ]),
          );
        }
      }
    });
  });

  describe('Review API', () => {
    it('routes every review path to the review function behind the JWT authoriser', () => {
      const routes = Object.values(resourcesOf(template, 'AWS::ApiGatewayV2::Route'));
      expect(routes.map((r) => r.Properties.RouteKey).sort()).toEqual(
        REVIEW_ROUTES.map((r) => `${r.method} ${r.path}`).sort(),
      );
      const authorizer = Object.keys(resourcesOf(template, 'AWS::ApiGatewayV2::Authorizer'))[0];
      for (const r of routes) {
        expect(r.Properties.AuthorizationType).toBe('JWT');
        expect(refOf(r.Properties.AuthorizerId)).toBe(authorizer);
      }
    });

    it('checks Cognito tokens of its own app client', () => {
      template.hasResourceProperties('AWS::ApiGatewayV2::Authorizer', {
        AuthorizerType: 'JWT',
        IdentitySource: ['$request.header.Authorization'],
        JwtConfiguration: {
          Audience: [{ Ref: Match.stringLikeRegexp('Client') }],
          Issuer: Match.objectLike({
            'Fn::Join': Match.arrayWith([Match.arrayWith(['https://cognito-idp.'])]),
          }),
        },
      });
    });

    it('logs every request to a log group with retention, and throttles', () => {
      template.hasResourceProperties('AWS::ApiGatewayV2::Stage', {
        StageName: '$default',
        AccessLogSettings: { DestinationArn: Match.anyValue(), Format: Match.stringLikeRegexp('requestId') },
        DefaultRouteSettings: {
          ThrottlingBurstLimit: Match.anyValue(),
          ThrottlingRateLimit: Match.anyValue(),
        },
      });
      template.hasResourceProperties('AWS::Logs::LogGroup', {
        LogGroupName: `/aws/apigateway/${PREFIX}-review`,
        RetentionInDays: 30,
      });
    });

    it('has a user pool with MFA, no self sign-up, and the reviewer, auditor and citizen groups', () => {
      template.hasResourceProperties('AWS::Cognito::UserPool', {
        MfaConfiguration: 'ON',
        AdminCreateUserConfig: { AllowAdminCreateUserOnly: true },
      });
      for (const g of REVIEW_GROUPS)
        template.hasResourceProperties('AWS::Cognito::UserPoolGroup', { GroupName: g });
    });
  });

  describe('Citizen subject claim', () => {
    const userPoolId = (): string => Object.keys(resourcesOf(template, 'AWS::Cognito::UserPool'))[0]!;

    it('the pre token generation trigger is pre-token, with event version 2 (access tokens too)', () => {
      const pool = resource('AWS::Cognito::UserPool', userPoolId()).Properties;
      expect(pool.UserPoolTier).toBe('PLUS');
      expect(pool.LambdaConfig).toEqual({
        PreTokenGenerationConfig: {
          LambdaArn: { 'Fn::GetAtt': [fnId('pre-token'), 'Arn'] },
          LambdaVersion: 'V2_0',
        },
      });
      template.hasResourceProperties('AWS::Lambda::Permission', {
        Action: 'lambda:InvokeFunction',
        FunctionName: { 'Fn::GetAtt': [fnId('pre-token'), 'Arn'] },
        Principal: 'cognito-idp.amazonaws.com',
        SourceArn: { 'Fn::GetAtt': [userPoolId(), 'Arn'] },
      });
    });

    it('pre-token answers within the 5 s Cognito waits and gets the pseudonym key ARN', () => {
      const fn = resource('AWS::Lambda::Function', fnId('pre-token')).Properties;
      expect(fn.Timeout).toBeLessThanOrEqual(5);
      const secret = Object.keys(resourcesOf(template, 'AWS::SecretsManager::Secret'))[0]!;
      expect(refOf(fn.Environment.Variables.PB_PSEUDONYM_SECRET_ARN)).toBe(secret);
    });

    it('pre-token may read the pseudonym key and nothing else beyond its logs and traces', () => {
      const secret = Object.keys(resourcesOf(template, 'AWS::SecretsManager::Secret'))[0]!;
      const fn = resource('AWS::Lambda::Function', fnId('pre-token')).Properties;
      const logGroup = refOf(fn.LoggingConfig.LogGroup)!;
      const granted = roleStatements(template, fnId('pre-token')).map((s) => ({
        Effect: s.Effect,
        actions: [...s.actions].sort(),
        on: s.resources.map((r) => (r === '*' ? '*' : referencedIds(r).join(','))),
      }));
      expect(granted).toEqual(
        expect.arrayContaining([
          {
            Effect: 'Allow',
            actions: ['secretsmanager:DescribeSecret', 'secretsmanager:GetSecretValue'],
            on: [secret],
          },
        ]),
      );
      for (const g of granted) {
        expect(g.Effect).toBe('Allow');
        if (g.on.includes(secret)) expect(g.on).toEqual([secret]);
        else if (g.on.includes(logGroup))
          expect(g.actions).toEqual(['logs:CreateLogStream', 'logs:PutLogEvents']);
        else expect(g.actions).toEqual(['xray:PutTelemetryRecords', 'xray:PutTraceSegments']);
      }
      expect(granted).toHaveLength(3);
    });

    it('the identity attributes are 18 characters and immutable: only an administrator sets them, once', () => {
      const pool = resource('AWS::Cognito::UserPool', userPoolId()).Properties;
      expect(pool.Schema).toEqual(
        expect.arrayContaining(
          [RESIDENT_ID_ATTRIBUTE_NAME, CREDIT_CODE_ATTRIBUTE_NAME].map((Name) => ({
            Name,
            AttributeDataType: 'String',
            Mutable: false,
            StringAttributeConstraints: { MinLength: '18', MaxLength: '18' },
          })),
        ),
      );
    });

    it('the app client can neither write nor read the identity attribute', () => {
      const [client] = Object.values(resourcesOf(template, 'AWS::Cognito::UserPoolClient'));
      const { WriteAttributes, ReadAttributes } = client!.Properties;
      // Explicit lists: unset, Cognito would let the client read every attribute and write the standard ones.
      expect(WriteAttributes.length).toBeGreaterThan(0);
      expect(ReadAttributes.length).toBeGreaterThan(0);
      expect(WriteAttributes).not.toContain(RESIDENT_ID_ATTRIBUTE);
      expect(ReadAttributes).not.toContain(RESIDENT_ID_ATTRIBUTE);
      expect([...WriteAttributes, ...ReadAttributes].filter((a: string) => a.startsWith('custom:'))).toEqual(
        [],
      );
    });
  });

  describe('Schedule', () => {
    it('invokes tick at 00:00 Asia/Shanghai on the 1st of every month', () => {
      template.hasResourceProperties('AWS::Scheduler::Schedule', {
        ScheduleExpression: 'cron(0 0 1 * ? *)',
        ScheduleExpressionTimezone: 'Asia/Shanghai',
        State: 'ENABLED',
        Target: Match.objectLike({
          Arn: { 'Fn::GetAtt': [fnId('tick'), 'Arn'] },
          RoleArn: Match.anyValue(),
          // tick opens the period of the scheduled time, even when the invocation is retried later.
          Input: JSON.stringify({ time: '<aws.scheduler.scheduled-time>' }),
        }),
      });
    });

    it('sends a tick that ran and failed its async retries to the same dead-letter queue', () => {
      const dlq = idBy('AWS::SQS::Queue', 'QueueName', `${PREFIX}-period-opening-dlq`);
      const configs = Object.values(resourcesOf(template, 'AWS::Lambda::EventInvokeConfig'));
      expect(configs).toHaveLength(1);
      const c = configs[0]!.Properties;
      expect(refOf(c.FunctionName)).toBe(fnId('tick'));
      expect(c.MaximumRetryAttempts).toBe(2);
      expect(refOf(c.DestinationConfig.OnFailure.Destination)).toBe(dlq);
      expect(actionsOn(template, fnId('tick'), dlq)).toEqual(['sqs:SendMessage']);
      const key = refOf(resource('AWS::SQS::Queue', dlq).Properties.KmsMasterKeyId)!;
      expect(actionsOn(template, fnId('tick'), key).sort()).toEqual(['kms:Decrypt', 'kms:GenerateDataKey']);
    });

    it('sends an invocation it gives up on to an encrypted dead-letter queue its role may write', () => {
      const dlq = idBy('AWS::SQS::Queue', 'QueueName', `${PREFIX}-period-opening-dlq`);
      const q = resource('AWS::SQS::Queue', dlq).Properties;
      expect(refOf(q.KmsMasterKeyId)).toBeDefined();
      const schedule = Object.values(resourcesOf(template, 'AWS::Scheduler::Schedule'))[0]!;
      const target = schedule.Properties.Target;
      expect(refOf(target.DeadLetterConfig.Arn)).toBe(dlq);
      expect(target.RetryPolicy).toEqual({ MaximumRetryAttempts: 3, MaximumEventAgeInSeconds: 6 * 3600 });
      const role = refOf(target.RoleArn)!;
      const statements = Object.values(resourcesOf(template, 'AWS::IAM::Policy'))
        .filter((p) => p.Properties.Roles.some((r: unknown) => refOf(r) === role))
        .flatMap((p) => p.Properties.PolicyDocument.Statement) as {
        Action: string | string[];
        Resource: unknown;
      }[];
      const on = (id: string) =>
        statements
          .filter((st) => [st.Resource].flat().some((r) => referencedIds(r).includes(id)))
          .flatMap((st) => [st.Action].flat());
      expect(on(dlq)).toEqual(['sqs:SendMessage']);
      expect(on(refOf(q.KmsMasterKeyId)!).sort()).toEqual(['kms:Decrypt', 'kms:GenerateDataKey']);
      // The queue is the DLQ itself: no consumer, nothing redrives into it.
      expect(q.RedrivePolicy).toBeUndefined();
    });
  });

  describe('Ledger digests', () => {
    it('are kept in a versioned, KMS-encrypted, private, logged bucket with Object Lock', () => {
      template.hasResourceProperties('AWS::S3::Bucket', {
        ObjectLockEnabled: true,
        ObjectLockConfiguration: {
          ObjectLockEnabled: 'Enabled',
          Rule: { DefaultRetention: { Mode: 'GOVERNANCE', Days: Match.anyValue() } },
        },
        VersioningConfiguration: { Status: 'Enabled' },
        BucketEncryption: {
          ServerSideEncryptionConfiguration: [
            Match.objectLike({
              ServerSideEncryptionByDefault: Match.objectLike({ SSEAlgorithm: 'aws:kms' }),
            }),
          ],
        },
        PublicAccessBlockConfiguration: {
          BlockPublicAcls: true,
          BlockPublicPolicy: true,
          IgnorePublicAcls: true,
          RestrictPublicBuckets: true,
        },
        LoggingConfiguration: Match.objectLike({ DestinationBucketName: Match.anyValue() }),
      });
    });

    it('every bucket refuses plain HTTP', () => {
      for (const p of Object.values(resourcesOf(template, 'AWS::S3::BucketPolicy'))) {
        expect(JSON.stringify(p.Properties.PolicyDocument)).toContain('"aws:SecureTransport":"false"');
      }
      template.resourceCountIs(
        'AWS::S3::BucketPolicy',
        Object.keys(resourcesOf(template, 'AWS::S3::Bucket')).length,
      );
    });
  });

  describe('Keys and secrets', () => {
    it('every KMS key rotates', () => {
      const keys = Object.values(resourcesOf(template, 'AWS::KMS::Key'));
      expect(keys.length).toBeGreaterThanOrEqual(3);
      for (const k of keys) expect(k.Properties.EnableKeyRotation).toBe(true);
    });

    it('the keys of what outlives the stack (pseudonym secret, digest bucket) are retained in every stage', () => {
      const secret = Object.values(resourcesOf(template, 'AWS::SecretsManager::Secret'))[0]!;
      const bucket = resource('AWS::S3::Bucket', idBy('AWS::S3::Bucket', 'ObjectLockEnabled', true));
      const keyOf = (v: unknown): string =>
        refOf(v) ?? refOf((v as { 'Fn::GetAtt'?: [string] })['Fn::GetAtt']?.[0]) ?? JSON.stringify(v);
      const used = [
        keyOf(secret.Properties.KmsKeyId),
        keyOf(
          bucket.Properties.BucketEncryption.ServerSideEncryptionConfiguration[0]
            .ServerSideEncryptionByDefault.KMSMasterKeyID,
        ),
      ];
      for (const id of used) expect(resource('AWS::KMS::Key', id).DeletionPolicy, id).toBe('Retain');
    });

    it('the pseudonym key is 64 generated hex characters, encrypted with a customer key and retained', () => {
      template.hasResource('AWS::SecretsManager::Secret', {
        DeletionPolicy: 'Retain',
        Properties: Match.objectLike({
          KmsKeyId: Match.anyValue(),
          GenerateSecretString: Match.objectLike({
            PasswordLength: 64,
            ExcludePunctuation: true,
            ExcludeUppercase: true,
            ExcludeCharacters: 'ghijklmnopqrstuvwxyz',
          }),
        }),
      });
    });

    it('topics are KMS-encrypted and refuse plain HTTP', () => {
      const topics = resourcesOf(template, 'AWS::SNS::Topic');
      expect(Object.keys(topics).sort()).toHaveLength(2);
      for (const t of Object.values(topics)) expect(refOf(t.Properties.KmsMasterKeyId)).toBeDefined();
      for (const p of Object.values(resourcesOf(template, 'AWS::SNS::TopicPolicy'))) {
        expect(JSON.stringify(p.Properties.PolicyDocument)).toContain('"aws:SecureTransport":"false"');
      }
    });

    it('the notifications topic is FIFO, deduplicating on the id notify gives (not on content); notify publishes to it', () => {
      const id = idBy('AWS::SNS::Topic', 'TopicName', `${PREFIX}-notifications.fifo`);
      const props = resource('AWS::SNS::Topic', id).Properties;
      expect(props.FifoTopic).toBe(true);
      expect(props.ContentBasedDeduplication).toBe(false);
      expect(refOf(props.KmsMasterKeyId)).toBeDefined();
      const notifyEnv = resource('AWS::Lambda::Function', fnId('notify')).Properties.Environment.Variables;
      expect(refOf(notifyEnv.PB_NOTIFY_TOPIC_ARN)).toBe(id);
      expect(actionsOn(template, fnId('notify'), id)).toEqual(['sns:Publish']);
    });

    it('the alarm topic stays a standard topic', () => {
      const id = idBy('AWS::SNS::Topic', 'TopicName', `${PREFIX}-alarms`);
      expect(resource('AWS::SNS::Topic', id).Properties.FifoTopic).toBeUndefined();
    });
  });

  describe('Alarms', () => {
    const alarmsOn = (metric: string, dimension: string, value: string) =>
      Object.values(resourcesOf(template, 'AWS::CloudWatch::Alarm')).filter(
        (a) =>
          a.Properties.MetricName === metric &&
          (a.Properties.Dimensions ?? []).some(
            (d: { Name: string; Value: unknown }) => d.Name === dimension && refOf(d.Value) === value,
          ),
      );

    it.each(QUEUE_IDS)('%s: DLQ depth above zero and oldest message older than the retry budget', (id) => {
      const depth = alarmsOn('ApproximateNumberOfMessagesVisible', 'QueueName', dlqId(id));
      expect(depth).toHaveLength(1);
      expect(depth[0]!.Properties.Threshold).toBe(0);
      const age = alarmsOn('ApproximateAgeOfOldestMessage', 'QueueName', queueId(id));
      expect(age).toHaveLength(1);
      expect(age[0]!.Properties.Threshold).toBe(
        QUEUES[id].maxReceiveCount * visibilityTimeoutSeconds(QUEUES[id]),
      );
    });

    it('a period opening the Scheduler dropped raises an alarm', () => {
      const dlq = idBy('AWS::SQS::Queue', 'QueueName', `${PREFIX}-period-opening-dlq`);
      const depth = alarmsOn('ApproximateNumberOfMessagesVisible', 'QueueName', dlq);
      expect(depth).toHaveLength(1);
      expect(depth[0]!.Properties.Threshold).toBe(0);
    });

    it.each(TABLE_IDS)('%s: throttled reads or writes for three periods in a row raise an alarm', (id) => {
      const table = tableId(id);
      const found = Object.values(resourcesOf(template, 'AWS::CloudWatch::Alarm')).filter((a) =>
        (a.Properties.Metrics ?? []).some(
          (m: { MetricStat?: { Metric: { Dimensions: { Name: string; Value: unknown }[] } } }) =>
            m.MetricStat?.Metric.Dimensions.some((d) => d.Name === 'TableName' && refOf(d.Value) === table),
        ),
      );
      expect(found).toHaveLength(1);
      const p = found[0]!.Properties;
      expect(p.Threshold).toBe(0);
      expect(p.EvaluationPeriods).toBe(THROTTLE_PERIODS);
      expect(p.DatapointsToAlarm).toBe(THROTTLE_PERIODS);
      const names = p.Metrics.filter((m: { MetricStat?: unknown }) => m.MetricStat).map(
        (m: { MetricStat: { Metric: { MetricName: string }; Stat: string } }) =>
          `${m.MetricStat.Metric.MetricName}/${m.MetricStat.Stat}`,
      );
      expect(names.sort()).toEqual(['ReadThrottleEvents/Sum', 'WriteThrottleEvents/Sum']);
      expect(p.Metrics.find((m: { Expression?: string }) => m.Expression).Expression).toContain('+');
    });

    it.each(FUNCTIONS)('%s: any error raises an alarm', (name) => {
      expect(alarmsOn('Errors', 'FunctionName', fnId(name))).toHaveLength(1);
    });

    it('rejected agency events above the threshold in 15 minutes raise an alarm (they never reach a DLQ)', () => {
      const rejected = Object.values(resourcesOf(template, 'AWS::CloudWatch::Alarm')).filter(
        (a) => a.Properties.MetricName === 'EventsRejected',
      );
      expect(rejected).toHaveLength(1);
      expect(rejected[0]!.Properties).toMatchObject({
        Namespace: 'ProactiveBenefits',
        Dimensions: [{ Name: 'service', Value: 'proactive-benefits' }],
        Statistic: 'Sum',
        Period: 900,
        Threshold: REJECTED_EVENTS_THRESHOLD,
      });
    });

    it('every alarm notifies the encrypted alarm topic on alarm and on recovery', () => {
      const topic = idBy('AWS::SNS::Topic', 'TopicName', `${PREFIX}-alarms`);
      for (const a of Object.values(resourcesOf(template, 'AWS::CloudWatch::Alarm'))) {
        expect(a.Properties.AlarmActions.map(refOf)).toEqual([topic]);
        expect(a.Properties.OKActions.map(refOf)).toEqual([topic]);
      }
    });
  });

  describe('cdk-nag AwsSolutions', () => {
    it('reports no unacknowledged error or warning', () => {
      expect(nagFindings(synth.app)).toEqual([]);
    });

    it('gives every acknowledgement a reason, next to the construct it concerns', () => {
      const acks = acknowledgements(synth.app);
      expect(acks.length).toBeGreaterThan(0);
      for (const a of acks) {
        expect(a.reason.length, `${a.path} ${a.id}`).toBeGreaterThan(40);
        // Acknowledged on a resource, never on the stack or app as a whole.
        expect(a.path.split('/').length, `${a.path} ${a.id}`).toBeGreaterThan(1);
      }
    });

    it('leaves no error annotation on the stack', () => {
      Annotations.fromStack(synth.stack).hasNoError('*', Match.anyValue());
    });
  });

  describe('Outputs and cost allocation', () => {
    it('exports what operators and publishers need after a deploy', () => {
      const outputs = Object.keys(template.findOutputs('*')).sort();
      expect(outputs).toEqual(
        [
          'AgencyEventsQueueUrl',
          'AlarmTopicArn',
          'DigestBucketName',
          'NotificationsTopicArn',
          'PseudonymKeySecretArn',
          'ReviewApiUrl',
          'UserPoolClientId',
          'UserPoolId',
        ].sort(),
      );
    });

    it('tags resources with project and stage, so cost can be measured per stage', () => {
      for (const type of [
        'AWS::DynamoDB::Table',
        'AWS::Lambda::Function',
        'AWS::SQS::Queue',
        'AWS::S3::Bucket',
      ]) {
        for (const r of Object.values(resourcesOf(template, type))) {
          expect(r.Properties.Tags, type).toEqual(
            expect.arrayContaining([
              { Key: 'project', Value: 'proactive-benefits' },
              { Key: 'stage', Value: STAGE },
            ]),
          );
        }
      }
    });
  });

  describe('Settings', () => {
    it('is environment-agnostic without an account, so synth needs no credentials', () => {
      expect(synth.stack.account).toMatch(/Token|AWS::AccountId|\$\{/);
    });
  });
});
