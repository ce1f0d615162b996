import { resolve } from 'node:path';
import { loadPolicySet, type PolicySet } from '../domain/rules/index.ts';
import type { QueueId } from '../resources.ts';
import { CommandFailed, type Io, rulesDirOption } from './io.ts';

/** The policy set of a rules directory; invalid rules fail the command with their first problem. */
export function loadRules(dir: string): PolicySet {
  try {
    return loadPolicySet(dir);
  } catch (e) {
    const first = (e as Error).message.split('\n')[0];
    throw new CommandFailed(
      `the rules in ${dir} are invalid (${first}); run 'pb rules validate --dir ${dir}' for every problem`,
    );
  }
}

/**
 * The rules a command that runs the engine's handlers decides with (`PB_RULES_DIR`, else `rules`),
 * checked before anything starts: a missing or invalid directory would otherwise fail every
 * evaluation of the run, one message at a time, and the run would decide nothing.
 */
export function checkEngineRules(): string {
  const dir = resolve(rulesDirOption(undefined, null));
  if (loadRules(dir).policies.length === 0) {
    throw new CommandFailed(`no rule file in ${dir}: the engine would decide nothing`);
  }
  return dir;
}

/**
 * Names, one line per queue, the messages a run added to the dead-letter queues (they failed every
 * attempt: work the run did not do); returns how many. `gone`: the run's own stack, stopped with it.
 */
export function reportDeadLettered(
  io: Io,
  command: string,
  before: Record<QueueId, number>,
  after: Record<QueueId, number>,
  gone: boolean,
): number {
  let lost = 0;
  for (const queue of Object.keys(after) as QueueId[]) {
    const n = after[queue] - (before[queue] ?? 0);
    if (n <= 0) continue;
    lost += n;
    io.err(
      `pb ${command}: ${n} message${n === 1 ? '' : 's'} of the ${queue} queue failed every attempt and went to its dead-letter queue${gone ? " (gone with this run's stack)" : ' (pb quarantine list)'}: the run is incomplete`,
    );
  }
  return lost;
}
