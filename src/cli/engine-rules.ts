import { resolve } from 'node:path';
import { loadPolicySet } from '../domain/rules/index.ts';
import { CommandFailed, rulesDirOption } from './io.ts';

/**
 * The rules a command that runs the engine's handlers decides with (`PB_RULES_DIR`, else `rules`),
 * checked before anything starts: a missing or invalid directory would otherwise fail every
 * evaluation of the run, one message at a time, and the run would decide nothing.
 */
export function checkEngineRules(): string {
  const dir = resolve(rulesDirOption(undefined, null));
  let policies: number;
  try {
    policies = loadPolicySet(dir).policies.length;
  } catch (e) {
    const first = (e as Error).message.split('\n')[0];
    throw new CommandFailed(
      `the rules in ${dir} are invalid (${first}); run 'pb rules validate --dir ${dir}' for every problem`,
    );
  }
  if (policies === 0) throw new CommandFailed(`no rule file in ${dir}: the engine would decide nothing`);
  return dir;
}
