import { Duration, Stack } from 'aws-cdk-lib';
import { AccessLogFormat } from 'aws-cdk-lib/aws-apigateway';
import * as apigw from 'aws-cdk-lib/aws-apigatewayv2';
import { HttpJwtAuthorizer } from 'aws-cdk-lib/aws-apigatewayv2-authorizers';
import { HttpLambdaIntegration } from 'aws-cdk-lib/aws-apigatewayv2-integrations';
import * as cognito from 'aws-cdk-lib/aws-cognito';
import type * as kms from 'aws-cdk-lib/aws-kms';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { REVIEW_API_ROUTES } from '../src/api/routes.ts';
import { CREDIT_CODE_ATTRIBUTE_NAME, RESIDENT_ID_ATTRIBUTE_NAME } from '../src/api/subject-claim.ts';
import { logRetention, removalPolicy, type Settings } from './settings.ts';

/** User-pool groups; the review function authorises each route from the token's `cognito:groups`. */
export const REVIEW_GROUPS = ['reviewer', 'auditor', 'citizen'] as const;

/**
 * Every route of the review API, from the handler's own route list (so the two cannot drift); all
 * go to the one review function, all behind the JWT authoriser.
 */
export const REVIEW_ROUTES: ReadonlyArray<{ method: apigw.HttpMethod; path: string }> = REVIEW_API_ROUTES.map(
  (r) => ({ method: r.method === 'GET' ? apigw.HttpMethod.GET : apigw.HttpMethod.POST, path: r.path }),
);

/**
 * The reviewers' HTTP API: a Cognito user pool (admin-created users, MFA required, threat
 * protection enforced) whose tokens a JWT authoriser checks on every route, access logs in an
 * encrypted log group, and stage throttling so a runaway client cannot exhaust the function.
 * Citizens' tokens carry their subject pseudonym (`pb:subject`), added by the pre token
 * generation trigger `preToken` from the account's resident identity number.
 */
export class ReviewApi extends Construct {
  readonly userPool: cognito.UserPool;
  readonly client: cognito.UserPoolClient;
  readonly api: apigw.HttpApi;
  /** The managed-login domain, when the console's URL is configured. */
  readonly domain?: cognito.UserPoolDomain;
  /** Issuer of the pool's tokens (`PB_JWT_ISSUER`). */
  readonly issuer: string;

  constructor(
    scope: Construct,
    id: string,
    props: {
      settings: Settings;
      handler: lambda.IFunction;
      preToken: lambda.IFunction;
      logKey: kms.IKey;
      /**
       * Where the console is served and its managed-login domain prefix; no OAuth without it. With
       * `origin`, the API answers that origin's browser requests (CORS); a console served on the
       * API's own origin (through the same distribution) needs none.
       */
      web?: { url: string; origin?: string; authDomainPrefix: string };
    },
  ) {
    super(scope, id);
    const { settings } = props;
    this.userPool = new cognito.UserPool(this, 'Users', {
      userPoolName: `${settings.prefix}-reviewers`,
      // Accounts are issued by the agency, never self-registered.
      selfSignUpEnabled: false,
      signInAliases: { username: true, email: true },
      mfa: cognito.Mfa.REQUIRED,
      mfaSecondFactor: { otp: true, sms: false },
      passwordPolicy: {
        minLength: 12,
        requireLowercase: true,
        requireUppercase: true,
        requireDigits: true,
        requireSymbols: true,
        tempPasswordValidity: Duration.days(3),
      },
      accountRecovery: cognito.AccountRecovery.EMAIL_ONLY,
      // A citizen's resident identity number (GB 11643), or for an enterprise's account its unified
      // social credit code (GB 32100), set by an administrator when the account is created
      // (docs/deploy.md) and read only by the pre token generation trigger. Immutable: the
      // account's `sub`, which the ledger records as the actor of a citizen's answers, stays bound to
      // one person for good; a wrong number is corrected by disabling the account and creating a new
      // one. Cognito never lets an app client write an immutable attribute, and this client cannot
      // read it either, so the raw number is in no token.
      customAttributes: {
        [RESIDENT_ID_ATTRIBUTE_NAME]: new cognito.StringAttribute({ minLen: 18, maxLen: 18, mutable: false }),
        [CREDIT_CODE_ATTRIBUTE_NAME]: new cognito.StringAttribute({ minLen: 18, maxLen: 18, mutable: false }),
      },
      featurePlan: cognito.FeaturePlan.PLUS,
      standardThreatProtectionMode: cognito.StandardThreatProtectionMode.FULL_FUNCTION,
      deletionProtection: settings.isProd,
      removalPolicy: removalPolicy(settings),
    });
    // Version 2 events customise the access token too (the Plus plan allows them): the authoriser
    // accepts access and ID tokens of the client alike (`aud` or `client_id`), so both carry the claim.
    this.userPool.addTrigger(
      cognito.UserPoolOperation.PRE_TOKEN_GENERATION_CONFIG,
      props.preToken,
      cognito.LambdaVersion.V2_0,
    );
    for (const group of REVIEW_GROUPS) {
      new cognito.UserPoolGroup(this, `Group-${group}`, { userPool: this.userPool, groupName: group });
    }
    // The console signs in through the managed login (authorization code with PKCE, a public
    // client) when its URL is known; otherwise the client has no OAuth at all (CDK's default would
    // allow the implicit grant to https://example.com).
    const web = props.web;
    this.domain = web
      ? this.userPool.addDomain('Domain', { cognitoDomain: { domainPrefix: web.authDomainPrefix } })
      : undefined;
    this.client = this.userPool.addClient('Client', {
      userPoolClientName: `${settings.prefix}-review-ui`,
      generateSecret: false,
      authFlows: { userSrp: true },
      ...(web
        ? {
            oAuth: {
              flows: { authorizationCodeGrant: true },
              scopes: [cognito.OAuthScope.OPENID, cognito.OAuthScope.EMAIL],
              callbackUrls: [web.url],
              logoutUrls: [web.url],
            },
            supportedIdentityProviders: [cognito.UserPoolClientIdentityProvider.COGNITO],
          }
        : { disableOAuth: true }),
      preventUserExistenceErrors: true,
      accessTokenValidity: Duration.hours(1),
      idTokenValidity: Duration.hours(1),
      refreshTokenValidity: Duration.hours(12),
      enableTokenRevocation: true,
      // Explicit lists: left unset, a client reads every attribute (the identity number included, in
      // the ID token) and writes the standard ones. Users keep their e-mail; the identity number is
      // neither readable nor writable through the client.
      readAttributes: new cognito.ClientAttributes().withStandardAttributes({
        email: true,
        emailVerified: true,
      }),
      writeAttributes: new cognito.ClientAttributes().withStandardAttributes({ email: true }),
    });
    const stack = Stack.of(this);
    this.issuer = `https://cognito-idp.${stack.region}.${stack.urlSuffix}/${this.userPool.userPoolId}`;
    const authorizer = new HttpJwtAuthorizer('Cognito', this.issuer, {
      jwtAudience: [this.client.userPoolClientId],
    });

    this.api = new apigw.HttpApi(this, 'Http', {
      apiName: `${settings.prefix}-review`,
      description: 'Proactive benefits: decision review and audit',
      defaultAuthorizer: authorizer,
      createDefaultStage: false,
      // The console's origin may call the API from the browser (preflights are answered by API
      // Gateway itself, without the authoriser); no other origin may.
      ...(web?.origin
        ? {
            corsPreflight: {
              allowOrigins: [web.origin],
              allowMethods: [apigw.CorsHttpMethod.GET, apigw.CorsHttpMethod.POST],
              allowHeaders: ['authorization', 'content-type'],
              exposeHeaders: ['content-disposition'],
              maxAge: Duration.hours(1),
            },
          }
        : {}),
    });
    const accessLogs = new logs.LogGroup(this, 'AccessLogs', {
      logGroupName: `/aws/apigateway/${settings.prefix}-review`,
      retention: logRetention(settings),
      encryptionKey: props.logKey,
      removalPolicy: removalPolicy(settings),
    });
    new apigw.HttpStage(this, 'Stage', {
      httpApi: this.api,
      stageName: '$default',
      autoDeploy: true,
      throttle: { rateLimit: 50, burstLimit: 100 },
      accessLogSettings: {
        destination: new apigw.LogGroupLogDestination(accessLogs),
        // No headers, query strings or claims: paths carry pseudonyms only, never identity numbers.
        format: AccessLogFormat.custom(
          JSON.stringify({
            requestId: '$context.requestId',
            time: '$context.requestTimeEpoch',
            ip: '$context.identity.sourceIp',
            routeKey: '$context.routeKey',
            status: '$context.status',
            latencyMs: '$context.responseLatency',
            integrationError: '$context.integrationErrorMessage',
            authorizerError: '$context.authorizer.error',
            principal: '$context.authorizer.claims.sub',
          }),
        ),
      },
    });
    const integration = new HttpLambdaIntegration('ReviewFunction', props.handler);
    for (const route of REVIEW_ROUTES) {
      this.api.addRoutes({ path: route.path, methods: [route.method], integration });
    }
  }
}
