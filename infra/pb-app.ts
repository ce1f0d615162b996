import { App, type AppProps, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { readSettings } from './settings.ts';
import { ProactiveBenefitsStack } from './stack.ts';

/** The app and its one stack, as `cdk synth` builds them and as the infra tests inspect them. */
export interface PbApp {
  app: App;
  stack: ProactiveBenefitsStack;
}

/**
 * Builds the CDK app: settings from context, one stack `pb-<stage>`, and cdk-nag's AwsSolutions
 * checks as a validation plugin, so any unacknowledged finding fails `cdk synth`.
 */
export function createApp(props: AppProps = {}): PbApp {
  const app = new App(props);
  const settings = readSettings(app.node);
  const stack = new ProactiveBenefitsStack(app, `pb-${settings.stage}`, {
    settings,
    description: `Proactive benefits engine (${settings.stage})`,
    // No account or region pinned unless given: synth needs no AWS credentials. (The key policies
    // still name the region the CLI resolves, its default when nothing sets one: synthesise with
    // the target's AWS_REGION, docs/deploy.md.)
    env:
      settings.account || settings.region
        ? { account: settings.account, region: settings.region }
        : undefined,
  });
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app, { verbose: true }));
  return { app, stack };
}
