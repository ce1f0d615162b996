import { beforeAll, describe, expect, it } from 'vitest';
import {
  acknowledgements,
  nagFindings,
  referencedIds,
  refOf,
  resourcesOf,
  type Synthesised,
  synthStage,
} from './synth.ts';

const CERT = 'arn:aws:acm:us-east-1:111122223333:certificate/0a1b2c3d-4e5f-6a7b-8c9d-0e1f2a3b4c5d';

/** The one resource of a type in a template. */
const only = (s: Synthesised, type: string) => {
  const all = Object.entries(resourcesOf(s.template, type));
  expect(all, type).toHaveLength(1);
  return { id: all[0]![0], ...all[0]![1] };
};

describe('Hosted review console (-c hostConsole=true)', () => {
  let hosted: Synthesised;
  let bare: Synthesised;
  beforeAll(() => {
    // The bucket deployment stages CDK's AWS CLI layer: this synth takes longer than the others.
    hosted = synthStage('web', { hostConsole: 'true', authDomainPrefix: 'pb-web-review-gov' });
    bare = synthStage('bare');
  }, 180_000);

  it('serves the console from a private bucket through CloudFront origin access control, HTTPS only, logged', () => {
    const files = Object.entries(resourcesOf(hosted.template, 'AWS::S3::Bucket')).find(([id]) =>
      id.startsWith('ConsoleFiles'),
    )!;
    expect(files[1].Properties.PublicAccessBlockConfiguration).toEqual({
      BlockPublicAcls: true,
      BlockPublicPolicy: true,
      IgnorePublicAcls: true,
      RestrictPublicBuckets: true,
    });
    expect(files[1].Properties.LoggingConfiguration).toMatchObject({ LogFilePrefix: 'files/' });
    const cdn = only(hosted, 'AWS::CloudFront::Distribution');
    const config = cdn.Properties.DistributionConfig;
    expect(config.DefaultRootObject).toBe('index.html');
    expect(config.DefaultCacheBehavior).toMatchObject({
      ViewerProtocolPolicy: 'redirect-to-https',
      AllowedMethods: ['GET', 'HEAD'],
    });
    // Two origins: the files (default behaviour) and the API (/api/*, below).
    expect(config.Origins).toHaveLength(2);
    const s3 = config.Origins.find(
      (o: { Id: string }) => o.Id === config.DefaultCacheBehavior.TargetOriginId,
    );
    expect(refOf(s3.DomainName)).toBe(files[0]);
    expect(s3.OriginAccessControlId).toBeDefined();
    expect(config.Logging).toMatchObject({ Prefix: 'cloudfront/' });
    // Only CloudFront, for this distribution, may read the files.
    const policy = Object.values(resourcesOf(hosted.template, 'AWS::S3::BucketPolicy')).find(
      (p) => refOf(p.Properties.Bucket) === files[0],
    )!;
    const reads = policy.Properties.PolicyDocument.Statement.filter(
      (st: { Effect: string; Action: string | string[] }) =>
        st.Effect === 'Allow' && [st.Action].flat().includes('s3:GetObject'),
    );
    expect(reads).toHaveLength(1);
    expect(reads[0].Principal).toEqual({ Service: 'cloudfront.amazonaws.com' });
    expect(referencedIds(reads[0].Condition)).toContain(cdn.id);
  });

  it('sends a Content-Security-Policy that allows requests to its own origin and the managed login only', () => {
    const headers = only(hosted, 'AWS::CloudFront::ResponseHeadersPolicy').Properties
      .ResponseHeadersPolicyConfig.SecurityHeadersConfig;
    const csp = JSON.stringify(headers.ContentSecurityPolicy.ContentSecurityPolicy);
    expect(csp).toContain("default-src 'none'");
    expect(csp).toContain("script-src 'self'");
    expect(csp).toContain("frame-ancestors 'none'");
    expect(csp).toMatch(/connect-src 'self' https:\/\/pb-web-review-gov\.auth\./);
    expect(csp).not.toContain('execute-api');
    expect(csp).not.toContain('unsafe-inline');
    expect(headers.FrameOptions).toMatchObject({ FrameOption: 'DENY' });
    expect(headers.StrictTransportSecurity).toMatchObject({ AccessControlMaxAgeSec: 365 * 86400 });
  });

  it('routes /api/* to the review API, uncached, with the viewer headers (Authorization) but Host', () => {
    const config = only(hosted, 'AWS::CloudFront::Distribution').Properties.DistributionConfig;
    expect(config.CacheBehaviors).toHaveLength(1);
    const api = config.CacheBehaviors[0];
    expect(api).toMatchObject({
      PathPattern: 'api/*',
      ViewerProtocolPolicy: 'https-only',
      AllowedMethods: ['GET', 'HEAD', 'OPTIONS', 'PUT', 'PATCH', 'POST', 'DELETE'],
      // The managed policies CachingDisabled and AllViewerExceptHostHeader.
      CachePolicyId: '4135ea2d-6df8-44a3-9df3-4b5a84be39ad',
      OriginRequestPolicyId: 'b689b0a8-53d0-40ab-baf2-68738e2966ac',
    });
    const origin = config.Origins.find((o: { Id: string }) => o.Id === api.TargetOriginId);
    expect(referencedIds(origin.DomainName)).toContain(only(hosted, 'AWS::ApiGatewayV2::Api').id);
    expect(JSON.stringify(origin.DomainName)).toContain('.execute-api.');
    expect(origin.CustomOriginConfig).toMatchObject({ OriginProtocolPolicy: 'https-only' });
  });

  it('makes the distribution the sign-in callback; the API, on the same origin, answers no other', () => {
    const cdn = only(hosted, 'AWS::CloudFront::Distribution').id;
    const client = only(hosted, 'AWS::Cognito::UserPoolClient').Properties;
    expect(client.AllowedOAuthFlows).toEqual(['code']);
    expect(client.CallbackURLs).toHaveLength(1);
    expect(referencedIds(client.CallbackURLs[0])).toEqual([cdn]);
    expect(JSON.stringify(client.CallbackURLs[0])).toMatch(/"https:\/\/".*"\/"/);
    expect(client.LogoutURLs).toEqual(client.CallbackURLs);
    expect(only(hosted, 'AWS::ApiGatewayV2::Api').Properties.CorsConfiguration).toBeUndefined();
    expect(only(hosted, 'AWS::Cognito::UserPoolDomain').Properties.Domain).toBe('pb-web-review-gov');
  });

  it('refuses the China regions, where CloudFront needs a custom domain with an ICP filing', () => {
    expect(() =>
      synthStage('cn', { hostConsole: 'true', authDomainPrefix: 'pb-cn-review-gov', region: 'cn-north-1' }),
    ).toThrow(/CloudFront in cn-north-1 serves only a custom domain/);
  });

  it("deploys the console's files with a config.js naming the stage's API, login domain and client", () => {
    const deploy = only(hosted, 'Custom::CDKBucketDeployment').Properties;
    expect(refOf(deploy.DestinationBucketName)).toMatch(/^ConsoleFiles/);
    expect(refOf(deploy.DistributionId)).toBe(only(hosted, 'AWS::CloudFront::Distribution').id);
    expect(deploy.DistributionPaths).toEqual(['/*']);
    expect(deploy.Prune).toBe(true);
    const client = only(hosted, 'AWS::Cognito::UserPoolClient').id;
    const domain = only(hosted, 'AWS::Cognito::UserPoolDomain').id;
    // config.js is rendered at deploy time: the text with each deploy-time value as <logical id>.
    const values = Object.values(
      deploy.SourceMarkers[1] as Record<string, { 'Fn::Join': [string, unknown[]] }>,
    );
    expect(values).toHaveLength(1);
    const text = values[0]!['Fn::Join'][1]
      .map((part) => (typeof part === 'string' ? part : `<${refOf(part)}>`))
      .join('');
    expect(JSON.parse(text.replace(/<([^>]+)>/g, '$1'))).toEqual({
      apiBase: 'api',
      auth: { domain: `https://${domain}.auth.AWS::Region.amazoncognito.com`, clientId: client },
    });
    expect(Object.keys(hosted.template.findOutputs('ConsoleUrl'))).toEqual(['ConsoleUrl']);
  });

  it('leaves no cdk-nag finding unacknowledged, each acknowledgement on its construct with a reason', () => {
    expect(nagFindings(hosted.app)).toEqual([]);
    const acks = acknowledgements(hosted.app).filter(
      (a) => a.path.includes('/Console/') || a.path.includes('CDKBucketDeployment'),
    );
    expect(acks.map((a) => a.id.replace(/^Annotation::/, ''))).toEqual(
      expect.arrayContaining([
        'AwsSolutions-CFR1',
        'AwsSolutions-CFR2',
        'AwsSolutions-CFR4',
        'AwsSolutions-L1',
      ]),
    );
    for (const a of acks) expect(a.reason.length, `${a.path} ${a.id}`).toBeGreaterThan(40);
  });

  it("serves under the agency's own name with its certificate and TLS 1.2, and leaves no finding in a known account and region", () => {
    const placed = synthStage('placed', {
      hostConsole: 'true',
      authDomainPrefix: 'pb-placed-review-gov',
      consoleDomain: 'review.example.gov.cn',
      consoleCertificateArn: CERT,
      account: '111122223333',
      region: 'ap-southeast-1',
    });
    expect(placed.stack.region).toBe('ap-southeast-1');
    const config = only(placed, 'AWS::CloudFront::Distribution').Properties.DistributionConfig;
    expect(config.Aliases).toEqual(['review.example.gov.cn']);
    expect(config.ViewerCertificate).toEqual({
      AcmCertificateArn: CERT,
      MinimumProtocolVersion: 'TLSv1.2_2021',
      SslSupportMethod: 'sni-only',
    });
    const client = only(placed, 'AWS::Cognito::UserPoolClient').Properties;
    expect(client.CallbackURLs).toEqual(['https://review.example.gov.cn/']);
    expect(Object.values(placed.template.findOutputs('ConsoleUrl'))[0]!.Value).toBe(
      'https://review.example.gov.cn/',
    );
    expect(Object.keys(placed.template.findOutputs('ConsoleDistributionDomain'))).toHaveLength(1);
    // TLS is set, so nothing about it is acknowledged.
    expect(acknowledgements(placed.app).map((a) => a.id.replace(/^Annotation::/, ''))).not.toContain(
      'AwsSolutions-CFR4',
    );
    expect(nagFindings(placed.app)).toEqual([]);
  }, 180_000);

  it('without hostConsole: no bucket for it, no distribution, no deployment', () => {
    expect(Object.keys(resourcesOf(bare.template, 'AWS::CloudFront::Distribution'))).toEqual([]);
    expect(Object.keys(resourcesOf(bare.template, 'Custom::CDKBucketDeployment'))).toEqual([]);
    expect(Object.keys(bare.template.findOutputs('ConsoleUrl'))).toEqual([]);
  });
});
