import type { Node } from 'constructs';
import { RemovalPolicy } from 'aws-cdk-lib';
import { RetentionDays } from 'aws-cdk-lib/aws-logs';

/**
 * What differs between deployments of the same app. Everything comes from CDK context (`-c key=value`
 * or `cdk.json`) or from the environment the CDK CLI sets, so nothing account-specific is committed.
 */
export interface Settings {
  /** Deployment stage, e.g. `dev`, `test`, `prod`; part of every physical name. */
  stage: string;
  /** Prefix of physical table and queue names: `pb-<stage>` (what the runtime reads as `PB_PREFIX`). */
  prefix: string;
  /** Target account, when known; absent means an environment-agnostic stack (synth without AWS). */
  account?: string;
  /** Target region, when known. */
  region?: string;
  /** Production keeps data on stack deletion, protects tables and user pool, and locks digests in COMPLIANCE mode. */
  isProd: boolean;
  /** Optional runtime overrides passed to the functions only when set (the config loader has defaults). */
  notifyContact?: string;
  notifyLink?: string;
  reviewAmountThreshold?: string;
  /**
   * AWS accounts of the agencies that publish events (context `agencyAccounts`, comma-separated
   * 12-digit ids): each may send to the agency-events queue (queue policy) and encrypt for it (key
   * policy, through SQS and for that queue only); its administrators then grant the sending role
   * `sqs:SendMessage` on the queue and `kms:GenerateDataKey` and `kms:Decrypt` on the messaging key.
   * Roles of this account are granted with IAM instead.
   */
  agencyAccounts: string[];
  /**
   * Where the review console is served (context `consoleUrl`, an https URL such as
   * `https://review.example.gov.cn/`): reviewers sign in through the user pool's managed login and
   * come back there, and the API answers that origin's browser requests (CORS). With it,
   * `authDomainPrefix` (context) names the managed-login domain, `<prefix>.auth.<region>.amazoncognito.com`.
   */
  console?: { url: string; origin: string; authDomainPrefix: string };
  /**
   * The stack hosts the console itself (context `hostConsole=true`, with `authDomainPrefix`): S3 and
   * CloudFront, its URL the distribution's, or `https://<consoleDomain>/` with `consoleDomain` and
   * `consoleCertificateArn` (an ACM certificate in us-east-1 for that name). Instead of
   * `consoleUrl`, never with it.
   */
  hostConsole?: { authDomainPrefix: string; domain?: { name: string; certificateArn: string } };
}

const STAGE = /^[a-z][a-z0-9-]{0,19}$/;

/** Reads the settings from the app's context, falling back to `CDK_DEFAULT_ACCOUNT` / `CDK_DEFAULT_REGION`. */
export function readSettings(node: Node, env: NodeJS.ProcessEnv = process.env): Settings {
  const ctx = (key: string): string | undefined => {
    const v: unknown = node.tryGetContext(key);
    return v === undefined || v === null || v === '' ? undefined : String(v);
  };
  const stage = ctx('stage') ?? 'dev';
  if (!STAGE.test(stage)) {
    throw new Error(`stage '${stage}' must be lower-case letters, digits and dashes (e.g. -c stage=prod)`);
  }
  return {
    stage,
    prefix: `pb-${stage}`,
    account: ctx('account') ?? env.CDK_DEFAULT_ACCOUNT,
    region: ctx('region') ?? env.CDK_DEFAULT_REGION,
    isProd: stage === 'prod',
    notifyContact: ctx('notifyContact'),
    notifyLink: ctx('notifyLink'),
    reviewAmountThreshold: ctx('reviewAmountThreshold'),
    agencyAccounts: agencyAccounts(ctx('agencyAccounts')),
    ...hostedWithDomain(
      consoleSettings(ctx('consoleUrl'), ctx('authDomainPrefix'), ctx('hostConsole')),
      ctx('consoleDomain'),
      ctx('consoleCertificateArn'),
    ),
  };
}

/** `agencyAccounts` context: comma-separated 12-digit account ids, each once. */
function agencyAccounts(text: string | undefined): string[] {
  if (text === undefined) return [];
  const ids = text
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  for (const id of ids) {
    if (!/^[0-9]{12}$/.test(id)) {
      throw new Error(
        `agencyAccounts: '${id}' is not a 12-digit AWS account id (e.g. -c agencyAccounts=111122223333,444455556666)`,
      );
    }
  }
  return [...new Set(ids)];
}

/**
 * `consoleDomain` and `consoleCertificateArn` context: both or neither, and only with `hostConsole`;
 * the hosted console is then served under that name.
 */
function hostedWithDomain(
  web: Pick<Settings, 'console' | 'hostConsole'>,
  name: string | undefined,
  certificateArn: string | undefined,
): Pick<Settings, 'console' | 'hostConsole'> {
  if (name === undefined && certificateArn === undefined) return web;
  if (!web.hostConsole) {
    throw new Error('consoleDomain and consoleCertificateArn go with -c hostConsole=true');
  }
  if (name === undefined || certificateArn === undefined) {
    throw new Error('consoleDomain and consoleCertificateArn: give both (the name and its certificate)');
  }
  if (!/^(?=.{1,253}$)(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$/.test(name)) {
    throw new Error(`consoleDomain '${name}' is not a lower-case host name (e.g. review.example.gov.cn)`);
  }
  if (!/^arn:aws:acm:us-east-1:[0-9]{12}:certificate\/[0-9a-f-]{36}$/.test(certificateArn)) {
    throw new Error(
      `consoleCertificateArn '${certificateArn}' must be an ACM certificate in us-east-1 (CloudFront takes its certificates from there)`,
    );
  }
  return { ...web, hostConsole: { ...web.hostConsole, domain: { name, certificateArn } } };
}

/** `consoleUrl` and `authDomainPrefix` context: both or neither; or `hostConsole` and `authDomainPrefix`. */
function consoleSettings(
  url: string | undefined,
  prefix: string | undefined,
  host: string | undefined,
): Pick<Settings, 'console' | 'hostConsole'> {
  if (host !== undefined && host !== 'true' && host !== 'false') {
    throw new Error(`hostConsole '${host}' must be true or false`);
  }
  const hosted = host === 'true';
  if (hosted && url !== undefined) {
    throw new Error(
      'hostConsole and consoleUrl: pick one (hostConsole serves the console at the CloudFront address; consoleUrl names where you host it)',
    );
  }
  if (hosted) {
    if (prefix === undefined) {
      throw new Error(
        'hostConsole needs authDomainPrefix, the managed-login domain prefix (-c authDomainPrefix=pb-prod-review-gov)',
      );
    }
    return { hostConsole: { authDomainPrefix: checkedPrefix(prefix) } };
  }
  if (url === undefined && prefix === undefined) return {};
  if (url === undefined) {
    throw new Error('authDomainPrefix needs consoleUrl (-c consoleUrl=https://…) or -c hostConsole=true');
  }
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new Error(`consoleUrl '${url}' is not a URL (e.g. -c consoleUrl=https://review.example.gov.cn/)`);
  }
  if (parsed.protocol !== 'https:' || parsed.search || parsed.hash) {
    throw new Error(`consoleUrl '${url}' must be an https URL without query or fragment`);
  }
  // The console returns to its directory (`…/`, not `…/index.html`): the callback must be the same.
  parsed.pathname = parsed.pathname.replace(/\/index\.html$/, '/');
  if (prefix === undefined) {
    throw new Error(
      'consoleUrl needs authDomainPrefix, the managed-login domain prefix (-c authDomainPrefix=pb-prod-review-gov)',
    );
  }
  return { console: { url: parsed.href, origin: parsed.origin, authDomainPrefix: checkedPrefix(prefix) } };
}

/**
 * Cognito's rules for a domain prefix: lower-case letters, digits and hyphens, not at either end,
 * and not the reserved words.
 */
function checkedPrefix(prefix: string): string {
  if (!/^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/.test(prefix) || /aws|amazon|cognito/.test(prefix)) {
    throw new Error(
      `authDomainPrefix '${prefix}' must be lower-case letters, digits and inner hyphens, without aws, amazon or cognito`,
    );
  }
  return prefix;
}

/** Stateful resources survive a stack deletion in production; elsewhere they go with the stack. */
export const removalPolicy = (s: Settings): RemovalPolicy =>
  s.isProd ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY;

/** Log retention: a year in production (audit questions arrive late), a month elsewhere (cost). */
export const logRetention = (s: Settings): RetentionDays =>
  s.isProd ? RetentionDays.ONE_YEAR : RetentionDays.ONE_MONTH;
