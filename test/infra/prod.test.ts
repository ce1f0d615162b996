import type { Template } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { TABLES } from '../../src/resources.ts';
import { nagFindings, resourcesOf, type Synthesised, synthStage } from './synth.ts';

let synth: Synthesised;
let template: Template;

beforeAll(() => {
  // Prepare: production, with an explicit account and region as `-c account=... -c region=...` gives.
  synth = synthStage('prod', {
    account: '123456789012',
    region: 'cn-north-1',
    agencyAccounts: '111122223333, 444455556666',
  });
  template = synth.template;
});

describe('Stack: pb-prod', () => {
  it('targets the account and region from context', () => {
    expect(synth.stack.stackName).toBe('pb-prod');
    expect(synth.stack.account).toBe('123456789012');
    expect(synth.stack.region).toBe('cn-north-1');
  });

  it('lets the agencies of agencyAccounts send to the agency-events queue and encrypt for it, nothing more', () => {
    // cn-north-1 is in the aws-cn partition.
    const agencies = ['arn:aws-cn:iam::111122223333:root', 'arn:aws-cn:iam::444455556666:root'];
    const allows = (doc: { Statement: Array<Record<string, unknown>> }) =>
      doc.Statement.filter(
        (st) => st.Effect === 'Allow' && JSON.stringify(st.Principal).includes('111122223333'),
      );
    const queuePolicies = Object.values(resourcesOf(template, 'AWS::SQS::QueuePolicy'));
    const granted = queuePolicies.flatMap((p) =>
      allows(p.Properties.PolicyDocument).map((st) => ({ queues: p.Properties.Queues, st })),
    );
    expect(granted).toHaveLength(1);
    expect(granted[0]!.st).toMatchObject({
      Action: ['sqs:GetQueueAttributes', 'sqs:GetQueueUrl', 'sqs:SendMessage'],
      Principal: { AWS: agencies },
    });
    expect(JSON.stringify(granted[0]!.queues)).toContain('QueuesagencyEvents');
    const keyGrants = Object.values(resourcesOf(template, 'AWS::KMS::Key')).flatMap((k) =>
      allows(k.Properties.KeyPolicy),
    );
    // The messaging key, only through SQS and only for the agency-events queue: the key also
    // protects the other queues and the topics.
    expect(keyGrants).toEqual([
      expect.objectContaining({
        Action: ['kms:Decrypt', 'kms:GenerateDataKey'],
        Principal: { AWS: agencies },
        Condition: {
          StringEquals: {
            'kms:ViaService': expect.anything(),
            'kms:EncryptionContext:aws:sqs:arn':
              'arn:aws-cn:sqs:cn-north-1:123456789012:pb-prod-agency-events',
          },
        },
      }),
    ]);
    expect(
      JSON.stringify(
        (keyGrants[0]!.Condition as { StringEquals: Record<string, unknown> }).StringEquals['kms:ViaService'],
      ),
    ).toContain('sqs.cn-north-1.');
  });

  it('protects every table from deletion and keeps it when the stack goes', () => {
    const tables = Object.values(resourcesOf(template, 'AWS::DynamoDB::Table'));
    expect(tables).toHaveLength(Object.keys(TABLES).length);
    for (const t of tables) {
      expect(t.Properties.DeletionProtectionEnabled).toBe(true);
      expect(t.DeletionPolicy).toBe('Retain');
    }
  });

  it('keeps keys, log groups and the user pool', () => {
    for (const type of ['AWS::KMS::Key', 'AWS::Logs::LogGroup', 'AWS::Cognito::UserPool']) {
      for (const r of Object.values(resourcesOf(template, type)))
        expect(r.DeletionPolicy, type).toBe('Retain');
    }
    template.hasResourceProperties('AWS::Cognito::UserPool', { DeletionProtection: 'ACTIVE' });
  });

  it('keeps logs for a year', () => {
    for (const g of Object.values(resourcesOf(template, 'AWS::Logs::LogGroup'))) {
      expect(g.Properties.RetentionInDays).toBe(365);
    }
  });

  it('locks ledger digests in COMPLIANCE mode for ten years', () => {
    template.hasResourceProperties('AWS::S3::Bucket', {
      ObjectLockConfiguration: {
        ObjectLockEnabled: 'Enabled',
        Rule: { DefaultRetention: { Mode: 'COMPLIANCE', Days: 3653 } },
      },
    });
  });

  it('checks tokens of the regional Cognito issuer', () => {
    const [authorizer] = Object.values(resourcesOf(template, 'AWS::ApiGatewayV2::Authorizer'));
    const issuer = JSON.stringify(authorizer!.Properties.JwtConfiguration.Issuer);
    expect(issuer).toContain('https://cognito-idp.cn-north-1.');
    // The suffix stays a token: amazonaws.com.cn in China, amazonaws.com elsewhere.
    expect(issuer).toContain('AWS::URLSuffix');
  });

  it('passes cdk-nag AwsSolutions with nothing unacknowledged', () => {
    expect(nagFindings(synth.app)).toEqual([]);
  });
});
