import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { type Duration, Validations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { NodejsFunction, OutputFormat } from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import type { Construct } from 'constructs';
import { logRetention, removalPolicy, type Settings } from './settings.ts';

/** The repository root: entries, rules, lock file and tsconfig are found from here. */
export const PROJECT_ROOT = fileURLToPath(new URL('..', import.meta.url));

/** Where the bundled rules sit inside the deployed function (`LAMBDA_TASK_ROOT` is `/var/task`). */
export const LAMBDA_RULES_DIR = '/var/task/rules';

/** Lambda entry points under `functions/`. */
export type FunctionName =
  | 'ingest'
  | 'evaluate'
  | 'notify'
  | 'review-api'
  | 'backfill'
  | 'tick'
  | 'pre-token';

/** What differs between the engine's functions; everything else is a shared default. */
export interface PbFunctionProps {
  settings: Settings;
  /** Entry `functions/<name>.ts`; the physical name is `<prefix>-<name>`. */
  name: FunctionName;
  /** For a queue consumer, the queue's `consumerTimeoutSeconds` (its visibility timeout is six times it). */
  timeout: Duration;
  /** Key that encrypts the function's log group. */
  logKey: kms.IKey;
  /** Environment beyond the shared `PB_PREFIX`, `PB_RULES_DIR` and Powertools settings. */
  environment?: Record<string, string>;
  memorySize?: number;
  /** Caps the function's concurrency; unset by default (queue consumers are capped by their mapping). */
  reservedConcurrentExecutions?: number;
}

/**
 * One Lambda function of the engine with the defaults they all share: Node.js 24 on ARM64 (cheaper
 * per ms than x86), active X-Ray tracing, JSON logs to an encrypted log group with retention,
 * esbuild bundling of `functions/<name>.ts` as ESM with source maps, and the `rules/` folder copied
 * into the asset so that evaluation reads exactly the rules that were deployed. Its role starts
 * empty: no managed policy, only log writing to its own group; everything else is granted by the stack.
 */
export class PbFunction extends NodejsFunction {
  constructor(scope: Construct, id: string, props: PbFunctionProps) {
    const { settings, name } = props;
    const functionName = `${settings.prefix}-${name}`;
    const logGroup = new logs.LogGroup(scope, `${id}Logs`, {
      logGroupName: `/aws/lambda/${functionName}`,
      retention: logRetention(settings),
      encryptionKey: props.logKey,
      removalPolicy: removalPolicy(settings),
    });
    const role = new iam.Role(scope, `${id}Role`, {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      description: `${functionName}: execution role`,
    });
    super(scope, id, {
      functionName,
      description: `Proactive benefits ${name} (${settings.stage})`,
      entry: join(PROJECT_ROOT, 'functions', `${name}.ts`),
      handler: 'handler',
      projectRoot: PROJECT_ROOT,
      depsLockFilePath: join(PROJECT_ROOT, 'package-lock.json'),
      runtime: lambda.Runtime.NODEJS_24_X,
      architecture: lambda.Architecture.ARM_64,
      memorySize: props.memorySize ?? 1024,
      timeout: props.timeout,
      tracing: lambda.Tracing.ACTIVE,
      role,
      logGroup,
      loggingFormat: lambda.LoggingFormat.JSON,
      applicationLogLevelV2: lambda.ApplicationLogLevel.INFO,
      systemLogLevelV2: lambda.SystemLogLevel.WARN,
      reservedConcurrentExecutions: props.reservedConcurrentExecutions,
      environment: {
        PB_PREFIX: settings.prefix,
        PB_RULES_DIR: LAMBDA_RULES_DIR,
        POWERTOOLS_SERVICE_NAME: name,
        POWERTOOLS_METRICS_NAMESPACE: 'ProactiveBenefits',
        NODE_OPTIONS: '--enable-source-maps',
        ...props.environment,
      },
      bundling: {
        format: OutputFormat.ESM,
        target: 'node24',
        minify: true,
        sourceMap: true,
        sourcesContent: false,
        // The SDK is bundled (not taken from the runtime) so the function runs the versions in
        // package-lock.json that the tests ran with.
        bundleAwsSDK: true,
        mainFields: ['module', 'main'],
        // Bundled CommonJS dependencies still call require(); ESM output needs it defined.
        banner:
          "import { createRequire as __pbCreateRequire } from 'node:module';const require = __pbCreateRequire(import.meta.url);",
        tsconfig: join(PROJECT_ROOT, 'tsconfig.json'),
        commandHooks: {
          beforeBundling: () => [],
          beforeInstall: () => [],
          afterBundling: (inputDir: string, outputDir: string) => [
            `cp -R "${inputDir}/rules" "${outputDir}/rules"`,
          ],
        },
      },
    });
    logGroup.grantWrite(role);
    Validations.of(role).acknowledge({
      id: 'AwsSolutions-IAM5[Resource::*]',
      reason:
        'Only the X-Ray statement Lambda adds for active tracing (xray:PutTraceSegments, xray:PutTelemetryRecords): those actions have no resource-level permissions. The infra tests check no other statement uses "*".',
    });
  }
}
