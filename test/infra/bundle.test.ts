import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import type { FunctionName } from '../../infra/function.ts';
import { createApp } from '../../infra/pb-app.ts';
import { PROJECT_ROOT } from '../../infra/function.ts';
import { cdkJsonContext, FUNCTIONS, resourcesOf } from './synth.ts';
import { Template } from 'aws-cdk-lib/assertions';

const assetDirs = new Map<FunctionName, string>();
const environments = new Map<FunctionName, Record<string, unknown>>();

beforeAll(() => {
  // Prepare: the real synth, bundling every function with the local esbuild (no Docker).
  const { app, stack } = createApp({ context: { ...cdkJsonContext(), stage: 'bundle' } });
  const assembly = app.synth();
  const template = Template.fromStack(stack);
  for (const fn of Object.values(resourcesOf(template, 'AWS::Lambda::Function'))) {
    const name = (fn.Properties.FunctionName as string).replace('pb-bundle-', '') as FunctionName;
    const hash = (fn.Properties.Code.S3Key as string).replace(/\.zip$/, '');
    assetDirs.set(name, join(assembly.directory, `asset.${hash}`));
    environments.set(name, fn.Properties.Environment.Variables);
  }
}, 240_000);

describe('Construct: PbFunction', () => {
  describe('Method: bundling', () => {
    it.each(FUNCTIONS)('%s: one ESM file with its source map, and the rules copied beside it', (name) => {
      const dir = assetDirs.get(name)!;
      expect(readdirSync(dir).sort()).toEqual(['index.mjs', 'index.mjs.map', 'rules']);
      const rules = readdirSync(join(PROJECT_ROOT, 'rules'));
      expect(readdirSync(join(dir, 'rules')).sort()).toEqual(rules.sort());
    });

    it.each(FUNCTIONS)('%s: the bundle loads on Node and exports handler', async (name) => {
      // Prepare: the function's own environment, with placeholders for values known only at deploy.
      const dir = assetDirs.get(name)!;
      for (const [k, v] of Object.entries(environments.get(name)!)) {
        process.env[k] = typeof v === 'string' ? v : `placeholder-${k.toLowerCase()}`;
      }
      process.env.PB_RULES_DIR = join(dir, 'rules');
      process.env.AWS_REGION ??= 'us-east-1';
      expect(existsSync(join(dir, 'index.mjs'))).toBe(true);
      // Act: load it as Lambda would.
      const mod = (await import(pathToFileURL(join(dir, 'index.mjs')).href)) as { handler?: unknown };
      // Assess
      expect(typeof mod.handler).toBe('function');
    });
  });
});
