import { Duration, RemovalPolicy, Validations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import { acknowledgeWildcardResource, nagArn } from './nag.ts';
import type { Settings } from './settings.ts';

/** Key prefix of digest objects; writers are granted this prefix only. */
export const DIGEST_PREFIX = 'digests/';

/**
 * Where ledger digests are anchored so that the engine itself cannot rewrite them: an S3 bucket with
 * Object Lock (COMPLIANCE for ten years in production, so not even the account root can shorten it;
 * GOVERNANCE for a day elsewhere, so test stacks can be cleaned up), versioning, the digest KMS key,
 * TLS only, no public access, and server access logs. Writers may list, read and put under
 * `digests/` and nothing else; the bucket policy also denies them deletion and any change of retention.
 */
export class LedgerDigests extends Construct {
  readonly bucket: s3.Bucket;
  readonly accessLogs: s3.Bucket;
  private readonly key: kms.IKey;

  constructor(scope: Construct, id: string, props: { settings: Settings; key: kms.IKey }) {
    super(scope, id);
    this.key = props.key;
    const { isProd } = props.settings;
    this.accessLogs = new s3.Bucket(this, 'AccessLogs', {
      // S3 delivers server access logs only to SSE-S3 buckets.
      encryption: s3.BucketEncryption.S3_MANAGED,
      enforceSSL: true,
      minimumTLSVersion: 1.2,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
      lifecycleRules: [{ expiration: Duration.days(isProd ? 400 : 30) }],
      removalPolicy: RemovalPolicy.RETAIN,
    });
    Validations.of(this.accessLogs).acknowledge({
      id: 'AwsSolutions-S1',
      reason: 'This bucket is the target of the digest bucket access logs; logging it would log itself.',
    });
    this.bucket = new s3.Bucket(this, 'Bucket', {
      versioned: true,
      objectLockEnabled: true,
      objectLockDefaultRetention: isProd
        ? s3.ObjectLockRetention.compliance(Duration.days(3653))
        : s3.ObjectLockRetention.governance(Duration.days(1)),
      encryption: s3.BucketEncryption.KMS,
      encryptionKey: props.key,
      // One KMS call per bucket key instead of per object: the digest writes stay cheap.
      bucketKeyEnabled: true,
      enforceSSL: true,
      minimumTLSVersion: 1.2,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
      serverAccessLogsBucket: this.accessLogs,
      serverAccessLogsPrefix: 'digests/',
      // Locked objects cannot be deleted anyway; the bucket outlives the stack.
      removalPolicy: RemovalPolicy.RETAIN,
    });
  }

  /**
   * Lets `role` write digests the way `writeDigest` does (src/adapters/ledger-store.ts): list and
   * read the earlier digests under `digests/` (every version) to chain to the latest, then put the
   * new one under a new key. No delete, no retention or legal-hold change, no governance bypass.
   */
  grantWriteDigests(role: iam.IRole): void {
    role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        actions: ['s3:ListBucketVersions'],
        resources: [this.bucket.bucketArn],
        conditions: { StringLike: { 's3:prefix': [`${DIGEST_PREFIX}*`] } },
      }),
    );
    role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        actions: ['s3:GetObjectVersion', 's3:PutObject'],
        resources: [this.bucket.arnForObjects(`${DIGEST_PREFIX}*`)],
      }),
    );
    this.key.grant(role, 'kms:GenerateDataKey', 'kms:Decrypt');
    acknowledgeWildcardResource(
      role,
      `${nagArn(this.bucket)}/${DIGEST_PREFIX}*`,
      'Digest object keys are made at run time (one per digest, named by its position in the digest chain); the wildcard covers only get and put under digests/ of this bucket, and Object Lock keeps every version.',
    );
    // Defence in depth: even if a later grant were too broad, the bucket refuses these to the engine.
    this.bucket.addToResourcePolicy(
      new iam.PolicyStatement({
        effect: iam.Effect.DENY,
        principals: [new iam.ArnPrincipal(role.roleArn)],
        actions: [
          's3:DeleteObject',
          's3:DeleteObjectVersion',
          's3:PutObjectRetention',
          's3:PutObjectLegalHold',
          's3:BypassGovernanceRetention',
          's3:PutBucketObjectLockConfiguration',
          's3:PutLifecycleConfiguration',
          's3:PutBucketPolicy',
          's3:DeleteBucketPolicy',
        ],
        resources: [this.bucket.bucketArn, this.bucket.arnForObjects('*')],
      }),
    );
  }
}
