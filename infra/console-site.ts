import { resolve } from 'node:path';
import { Duration, RemovalPolicy, Stack, Token, Validations } from 'aws-cdk-lib';
import type * as apigw from 'aws-cdk-lib/aws-apigatewayv2';
import * as acm from 'aws-cdk-lib/aws-certificatemanager';
import * as cloudfront from 'aws-cdk-lib/aws-cloudfront';
import * as origins from 'aws-cdk-lib/aws-cloudfront-origins';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as s3deploy from 'aws-cdk-lib/aws-s3-deployment';
import { Construct } from 'constructs';
import { consoleCsp } from '../src/api/console-csp.ts';
import { nagArn } from './nag.ts';
import type { Settings } from './settings.ts';

/** The console's files (`console/`), deployed as they are; `config.js` is written for the stage. */
export const CONSOLE_DIR = resolve(import.meta.dirname, '..', 'console');

/** What the hosted console's `config.js` tells the page (console/README.md). */
export interface ConsoleConfig {
  /** The review API's base URL, routes under it: `api` (the distribution routes `/api/*` to it). */
  apiBase: string;
  /** The managed-login domain (`https://<prefix>.auth.<region>.amazoncognito.com`) and the app client. */
  auth: { domain: string; clientId: string };
}

/**
 * The review console served by CloudFront from a private S3 bucket (origin access control; nothing
 * in the bucket is public), over HTTPS only, with security headers: a Content-Security-Policy that
 * lets the page load only its own files and call only its own origin and the managed login, no
 * framing, HSTS. The same distribution routes `/api/*` to the review API (not cached; every viewer
 * header but Host, the Authorization header included, goes to the API), so the page calls the API
 * on its own origin and needs no CORS.
 *
 * Made with `-c hostConsole=true`; the console's URL is then the distribution's
 * (`https://<id>.cloudfront.net/`), or `https://<consoleDomain>/` with `-c consoleDomain` and
 * `-c consoleCertificateArn`: the app client's callback and sign-out URL. Not in the China regions,
 * where CloudFront serves only a custom domain with an ICP filing and an IAM certificate.
 */
export class ConsoleSite extends Construct {
  readonly bucket: s3.Bucket;
  readonly logs: s3.Bucket;
  readonly distribution: cloudfront.Distribution;
  /** `https://<domain>/`: the console's address. */
  readonly url: string;

  constructor(
    scope: Construct,
    id: string,
    props: {
      settings: Settings;
      authDomainPrefix: string;
      api: apigw.IHttpApi;
      /** A name of the agency's own, with its ACM certificate (us-east-1). */
      domain?: { name: string; certificateArn: string };
    },
  ) {
    super(scope, id);
    const { settings, domain } = props;
    const stack = Stack.of(this);
    if (!Token.isUnresolved(stack.region) && stack.region.startsWith('cn-')) {
      throw new Error(
        `hostConsole: CloudFront in ${stack.region} serves only a custom domain with an ICP filing; host the console on yours and deploy with -c consoleUrl=https://… instead`,
      );
    }
    this.logs = new s3.Bucket(this, 'Logs', {
      // S3 server access logs need SSE-S3; CloudFront standard logs need ACLs (object writer).
      encryption: s3.BucketEncryption.S3_MANAGED,
      enforceSSL: true,
      minimumTLSVersion: 1.2,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_PREFERRED,
      lifecycleRules: [{ expiration: Duration.days(settings.isProd ? 400 : 30) }],
      // Logs keep arriving until the distribution is gone, so the bucket is never empty when the
      // stack is deleted: kept, and expired by its lifecycle rule (docs/deploy.md, tear down).
      removalPolicy: RemovalPolicy.RETAIN,
    });
    Validations.of(this.logs).acknowledge({
      id: 'AwsSolutions-S1',
      reason:
        'This bucket receives the console bucket access logs and CloudFront logs; logging it would log itself.',
    });
    this.bucket = new s3.Bucket(this, 'Files', {
      // The console's code is public by nature (every browser downloads it); SSE-S3 suffices and
      // lets CloudFront read through origin access control without a key policy.
      encryption: s3.BucketEncryption.S3_MANAGED,
      enforceSSL: true,
      minimumTLSVersion: 1.2,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
      serverAccessLogsBucket: this.logs,
      serverAccessLogsPrefix: 'files/',
      // Nothing in it that a deploy does not put back.
      removalPolicy: RemovalPolicy.DESTROY,
    });
    const authOrigin = `https://${props.authDomainPrefix}.auth.${stack.region}.amazoncognito.com`;
    const headers = new cloudfront.ResponseHeadersPolicy(this, 'Headers', {
      responseHeadersPolicyName: `${settings.prefix}-console-headers`,
      comment: 'Review console: CSP (own origin and the managed login only), no framing, HSTS',
      securityHeadersBehavior: {
        contentSecurityPolicy: {
          contentSecurityPolicy: consoleCsp(["'self'", authOrigin]),
          override: true,
        },
        contentTypeOptions: { override: true },
        frameOptions: { frameOption: cloudfront.HeadersFrameOption.DENY, override: true },
        referrerPolicy: { referrerPolicy: cloudfront.HeadersReferrerPolicy.NO_REFERRER, override: true },
        strictTransportSecurity: {
          accessControlMaxAge: Duration.days(365),
          includeSubdomains: true,
          override: true,
        },
      },
    });
    this.distribution = new cloudfront.Distribution(this, 'Cdn', {
      comment: `${settings.prefix} review console`,
      defaultRootObject: 'index.html',
      defaultBehavior: {
        origin: origins.S3BucketOrigin.withOriginAccessControl(this.bucket),
        viewerProtocolPolicy: cloudfront.ViewerProtocolPolicy.REDIRECT_TO_HTTPS,
        allowedMethods: cloudfront.AllowedMethods.ALLOW_GET_HEAD,
        cachePolicy: cloudfront.CachePolicy.CACHING_OPTIMIZED,
        responseHeadersPolicy: headers,
      },
      additionalBehaviors: {
        'api/*': {
          origin: new origins.HttpOrigin(
            `${props.api.apiId}.execute-api.${stack.region}.${stack.urlSuffix}`,
            {
              protocolPolicy: cloudfront.OriginProtocolPolicy.HTTPS_ONLY,
              originSslProtocols: [cloudfront.OriginSslPolicy.TLS_V1_2],
            },
          ),
          viewerProtocolPolicy: cloudfront.ViewerProtocolPolicy.HTTPS_ONLY,
          allowedMethods: cloudfront.AllowedMethods.ALLOW_ALL,
          // Never cached: with caching off, the all-viewer policy forwards Authorization as well.
          cachePolicy: cloudfront.CachePolicy.CACHING_DISABLED,
          originRequestPolicy: cloudfront.OriginRequestPolicy.ALL_VIEWER_EXCEPT_HOST_HEADER,
          responseHeadersPolicy: headers,
        },
      },
      httpVersion: cloudfront.HttpVersion.HTTP2_AND_3,
      // Under the agency's own name: its certificate, and TLS 1.2 or later for browsers.
      ...(domain
        ? {
            domainNames: [domain.name],
            certificate: acm.Certificate.fromCertificateArn(this, 'Certificate', domain.certificateArn),
            minimumProtocolVersion: cloudfront.SecurityPolicyProtocol.TLS_V1_2_2021,
          }
        : {}),
      enableLogging: true,
      logBucket: this.logs,
      logFilePrefix: 'cloudfront/',
    });
    Validations.of(this.distribution).acknowledge({
      id: 'AwsSolutions-CFR1',
      reason:
        'Reviewers work from wherever their agency is; sign-in (MFA) and the API authoriser decide access, not the country of the request.',
    });
    Validations.of(this.distribution).acknowledge({
      id: 'AwsSolutions-CFR2',
      reason:
        'The distribution serves four static files and no data; the API it calls has its own throttling and JWT authoriser. Attach a WAF web ACL (us-east-1) where the agency requires one.',
    });
    if (!domain) {
      Validations.of(this.distribution).acknowledge({
        id: 'AwsSolutions-CFR4',
        reason:
          'The default *.cloudfront.net certificate allows no minimum TLS setting; -c consoleDomain with its ACM certificate serves the console with TLSv1.2_2021 as the minimum.',
      });
    }
    this.url = `https://${domain?.name ?? this.distribution.distributionDomainName}/`;
  }

  /**
   * Deploys the console's files with the stage's `config.js` (its values are resolved at deploy
   * time) and invalidates CloudFront's copies, so reviewers get the new console at once.
   */
  publish(config: ConsoleConfig): void {
    const deployment = new s3deploy.BucketDeployment(this, 'Deploy', {
      destinationBucket: this.bucket,
      sources: [
        s3deploy.Source.asset(CONSOLE_DIR, { exclude: ['config.js', 'README.md'] }),
        s3deploy.Source.data('config.js', `window.PB_CONFIG = ${Stack.of(this).toJsonString(config)};\n`),
      ],
      prune: true,
      // The files go with the stack (the bucket can then be deleted); a deploy puts them back.
      retainOnDelete: false,
      distribution: this.distribution,
      distributionPaths: ['/*'],
      memoryLimit: 256,
    });
    acknowledgeDeploymentHandler(this, deployment, this.bucket);
  }
}

/**
 * The findings of CDK's bucket-deployment handler (a singleton function of the stack that copies the
 * assets at deploy time and never runs otherwise), acknowledged on that handler and its role.
 */
function acknowledgeDeploymentHandler(
  scope: Construct,
  deployment: s3deploy.BucketDeployment,
  bucket: s3.IBucket,
): void {
  const stack = Stack.of(scope);
  const handler = stack.node
    .findAll()
    .find((c) => c.node.id.startsWith('Custom::CDKBucketDeployment') && c !== deployment);
  if (!handler) throw new Error('the bucket deployment handler was not found');
  const copies =
    "CDK's bucket-deployment handler (it runs only during a deploy) copies the console from the CDK asset bucket into the console bucket and prunes what is gone:";
  const reasons: Record<string, string> = {
    'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]':
      "CDK's bucket-deployment handler writes its own logs with AWSLambdaBasicExecutionRole; it runs only during a deploy.",
    'AwsSolutions-IAM5[Action::s3:GetBucket*]': `${copies} bucket reads on those two buckets only.`,
    'AwsSolutions-IAM5[Action::s3:GetObject*]': `${copies} object reads on those two buckets only.`,
    'AwsSolutions-IAM5[Action::s3:List*]': `${copies} listings of those two buckets only.`,
    'AwsSolutions-IAM5[Action::s3:Abort*]': `${copies} aborting its own multipart uploads to the console bucket.`,
    'AwsSolutions-IAM5[Action::s3:DeleteObject*]': `${copies} deleting files of the console bucket only.`,
    [`AwsSolutions-IAM5[Resource::${assetBucketObjects(Stack.of(scope))}]`]: `${copies} the objects of the CDK asset bucket are its source.`,
    [`AwsSolutions-IAM5[Resource::${nagArn(bucket)}/*]`]: `${copies} the files of the console bucket are its destination.`,
    'AwsSolutions-L1':
      "The runtime of CDK's bucket-deployment handler is chosen by aws-cdk-lib and moves with its upgrades; the handler runs only during a deploy.",
    'AwsSolutions-IAM5[Resource::*]':
      "CDK's bucket-deployment handler invalidates the console distribution after a deploy; cloudfront:CreateInvalidation and GetInvalidation are granted on * by CDK.",
  };
  for (const [id, reason] of Object.entries(reasons)) Validations.of(handler).acknowledge({ id, reason });
}

/**
 * The CDK asset bucket's objects as cdk-nag names them: the partition, account and region where the
 * stack knows them, the pseudo parameters where it does not (an environment-agnostic synth).
 */
function assetBucketObjects(stack: Stack): string {
  const shown = (value: string, pseudo: string) => (Token.isUnresolved(value) ? `<${pseudo}>` : value);
  const partition = shown(stack.partition, 'AWS::Partition');
  const account = shown(stack.account, 'AWS::AccountId');
  const region = shown(stack.region, 'AWS::Region');
  return `arn:${partition}:s3:::cdk-hnb659fds-assets-${account}-${region}/*`;
}
