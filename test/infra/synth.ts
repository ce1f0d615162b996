import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { type App, Validations } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { AwsSolutionsChecks } from 'cdk-nag';
import type { IConstruct } from 'constructs';
import { type FunctionName, PROJECT_ROOT } from '../../infra/function.ts';
import { createApp } from '../../infra/pb-app.ts';
import type { ProactiveBenefitsStack } from '../../infra/stack.ts';

/** The context `cdk synth` gets from cdk.json (feature flags change what constructs emit). */
/** Every function the stack declares, as the tests expect them (each test file checks its part). */
export const FUNCTIONS: FunctionName[] = [
  'ingest',
  'evaluate',
  'notify',
  'review-api',
  'backfill',
  'tick',
  'pre-token',
];

export function cdkJsonContext(): Record<string, unknown> {
  const json = JSON.parse(readFileSync(join(PROJECT_ROOT, 'cdk.json'), 'utf8')) as {
    context: Record<string, unknown>;
  };
  return json.context;
}

/** A synthesised stage of the app. */
export interface Synthesised {
  app: App;
  stack: ProactiveBenefitsStack;
  template: Template;
}

/**
 * Builds and synthesises the app for `stage` as `cdk synth` would, minus asset bundling: the
 * template does not depend on the functions' code (bundling is covered by function.test.ts), and
 * skipping it keeps the synth to seconds. cdk-nag runs as in the real synth; an unacknowledged
 * error fails the synth itself.
 */
export function synthStage(stage: string, extra: Record<string, unknown> = {}): Synthesised {
  const { app, stack } = createApp({
    context: { ...cdkJsonContext(), stage, 'aws:cdk:bundling-stacks': [], ...extra },
  });
  return { app, stack, template: Template.fromStack(stack) };
}

/** cdk-nag AwsSolutions findings left after acknowledgements (errors and warnings). */
export function nagFindings(app: App): Array<{ rule: string; severity: string; paths: string[] }> {
  const report = new AwsSolutionsChecks(app, { verbose: false }).validateScope(app);
  return report.violations.map((v) => ({
    rule: v.ruleName,
    severity: v.severity ?? 'error',
    paths: v.violatingResources.map((r) => r.constructPath ?? r.resourceLogicalId ?? '?'),
  }));
}

/** Every acknowledgement in the tree: where it sits, the rule it names and its reason. */
export function acknowledgements(root: IConstruct): Array<{ path: string; id: string; reason: string }> {
  const out: Array<{ path: string; id: string; reason: string }> = [];
  for (const c of root.node.findAll()) {
    for (const m of c.node.metadata) {
      if (m.type !== Validations.ACKNOWLEDGED_RULES_METADATA_KEY || !m.data) continue;
      for (const [id, reason] of Object.entries(m.data as Record<string, string>)) {
        out.push({ path: c.node.path, id, reason });
      }
    }
  }
  return out;
}

/** A CloudFormation resource as found in a template. */
export interface CfnResource {
  Type: string;
  // biome-ignore lint/suspicious/noExplicitAny: template JSON is untyped; the assertions check its shape.
  Properties: Record<string, any>;
  DeletionPolicy?: string;
  UpdateReplacePolicy?: string;
}

/** Resources of one type, by logical id. */
export function resourcesOf(template: Template, type: string): Record<string, CfnResource> {
  return template.findResources(type) as Record<string, CfnResource>;
}

/** The logical id a `{ Ref }` or `{ Fn::GetAtt }` points at. */
export function refOf(value: unknown): string | undefined {
  if (value && typeof value === 'object') {
    const v = value as { Ref?: string; 'Fn::GetAtt'?: [string, string] };
    return v.Ref ?? v['Fn::GetAtt']?.[0];
  }
  return undefined;
}

/** An IAM policy statement with its actions and resources as lists. */
export interface Statement {
  Effect: string;
  actions: string[];
  resources: unknown[];
  Condition?: unknown;
}

const list = <T>(v: T | T[] | undefined): T[] => (v === undefined ? [] : Array.isArray(v) ? v : [v]);

/** The statements of every policy attached to the role of function `fnLogicalId`. */
export function roleStatements(template: Template, fnLogicalId: string): Statement[] {
  const fn = resourcesOf(template, 'AWS::Lambda::Function')[fnLogicalId];
  if (!fn) throw new Error(`no function ${fnLogicalId}`);
  const role = refOf(fn.Properties.Role);
  return Object.values(resourcesOf(template, 'AWS::IAM::Policy'))
    .filter((p) => list(p.Properties.Roles).some((r) => refOf(r) === role))
    .flatMap((p) => list(p.Properties.PolicyDocument.Statement))
    .map((s: { Effect: string; Action?: string | string[]; Resource?: unknown; Condition?: unknown }) => ({
      Effect: s.Effect,
      actions: list(s.Action),
      resources: list(s.Resource),
      Condition: s.Condition,
    }));
}

/** Logical ids referenced anywhere inside a template value (Ref, Fn::GetAtt, inside Fn::Join...). */
export function referencedIds(value: unknown): string[] {
  const ids: string[] = [];
  const walk = (v: unknown): void => {
    if (Array.isArray(v)) v.forEach(walk);
    else if (v && typeof v === 'object') {
      const r = refOf(v);
      if (r) ids.push(r);
      else Object.values(v).forEach(walk);
    }
  };
  walk(value);
  return ids;
}

/** Actions a function's role allows on a resource with logical id `target` (or its sub-paths). */
export function actionsOn(template: Template, fnLogicalId: string, target: string): string[] {
  return roleStatements(template, fnLogicalId)
    .filter((s) => s.Effect === 'Allow' && s.resources.some((r) => referencedIds(r).includes(target)))
    .flatMap((s) => s.actions);
}
