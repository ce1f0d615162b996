import { createHash } from 'node:crypto';
import { join, resolve } from 'node:path';
import { GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { docClient, sqsClient } from '../../adapters/aws.ts';
import { sendBatch } from '../../adapters/sqs/relay.ts';
import { backfillJobs } from '../../domain/engine/backfill.ts';
import { loadPolicySet, type PolicySet } from '../../domain/rules/index.ts';
import { drainQueues } from '../../local/pipeline.ts';
import { openLocalEngine } from '../../local/session.ts';
import { observe, runtimeClock, runtimeConfig } from '../../runtime/engine.ts';
import { type Command, CommandFailed, parseOptions, requireDir, wholeNumber } from '../io.ts';
import { nowOption } from '../now.ts';

/** What was published last: per policy, its version and the fingerprint of its rule and parameters. */
interface PublishedState {
  policies: Record<string, { version: string; fingerprint: string }>;
  ruleSetHash: string;
  publishedAt: string;
}

/**
 * A policy's fingerprint: its own file plus every parameter file, since a new dated amount is a
 * change of the policy's outcome without a change of its logic.
 */
export function fingerprint(set: PolicySet, policyId: string): string {
  const policy = set.policies.find((p) => p.id === policyId)!;
  const params = [...set.params.entries()].sort(([a], [b]) => a.localeCompare(b));
  return createHash('sha256').update(policy.contentHash).update(JSON.stringify(params)).digest('hex');
}

/**
 * `pb rules publish [--dir rules] [--now <ISO>]`: publishes the rule files as the engine's policy set
 * and backfills every new or changed policy over every stored profile (政策找人 on publication),
 * through the backfill queue and handler, like the period opening.
 */
export const publish: Command = async (args, io) => {
  const { values } = parseOptions(args, {
    dir: { type: 'string' },
    now: { type: 'string' },
    segments: { type: 'string' },
  });
  const now = values.now === undefined ? undefined : nowOption(values.now);
  const dir = resolve(requireDir('dir', values.dir ?? process.env.PB_RULES_DIR ?? 'rules'));
  const segments = wholeNumber('segments', values.segments, 4, 1, 64);
  let set: PolicySet;
  try {
    set = loadPolicySet(dir);
  } catch (e) {
    throw new CommandFailed(
      `the rule files do not validate (run pb rules validate): ${(e as Error).message.split('\n')[0]}`,
    );
  }
  if (set.policies.length === 0) {
    throw new CommandFailed(`no rule file in ${dir}: publishing it would withdraw every policy`);
  }
  const readFrom = resolve(process.env.PB_RULES_DIR ?? 'rules');
  if (dir !== readFrom) {
    io.err(
      `pb rules publish: note: the other commands and npm start read rules from ${readFrom}; set PB_RULES_DIR=${dir} for them to use what is published here`,
    );
  }
  // The handlers this process runs load the policies from the published directory.
  process.env.PB_RULES_DIR = dir;
  const engine = await openLocalEngine({
    persistDir: join(resolve(process.env.PB_DATA_DIR ?? '.data'), 'dynamodb'),
    ...(now ? { now } : {}),
  });
  let subjects = 0;
  let grants = 0;
  const stop = observe((e) => {
    if (e.type === 'backfill-segment') {
      subjects += e.subjects;
      grants += e.grants;
    }
  });
  try {
    const cfg = runtimeConfig();
    const doc = docClient();
    const previous = (
      await doc.send(
        new GetCommand({
          TableName: cfg.table('meta'),
          Key: { pk: 'published-rules' },
          ConsistentRead: true,
        }),
      )
    ).Item as (PublishedState & { pk: string }) | undefined;
    const at = runtimeClock().now();
    const state: PublishedState = {
      policies: {},
      ruleSetHash: set.contentHash,
      publishedAt: at.toISOString(),
    };
    const changed: string[] = [];
    for (const p of set.policies) {
      const fp = fingerprint(set, p.id);
      state.policies[p.id] = { version: p.version, fingerprint: fp };
      if (previous?.policies[p.id]?.fingerprint !== fp) changed.push(p.id);
    }
    const withdrawn = Object.keys(previous?.policies ?? {}).filter((id) => !state.policies[id]);
    if (changed.length === 0 && withdrawn.length === 0) {
      io.out(`nothing changed since ${previous?.publishedAt ?? 'the last publication'}: no backfill`);
      return 0;
    }
    if (changed.length > 0) {
      const jobs = changed.flatMap((policy) =>
        backfillJobs({ job: 'publish', at: at.toISOString(), policy }, segments),
      );
      await sendBatch(
        sqsClient(),
        engine.queues.backfill.url,
        jobs.map((j) => JSON.stringify(j)),
      );
      await drainQueues(engine.queues, engine.consumers);
    }
    // Recorded once the backfill is done: a publication interrupted before that runs again in full.
    await doc.send(
      new PutCommand({ TableName: cfg.table('meta'), Item: { pk: 'published-rules', ...state } }),
    );
    for (const id of changed) io.out(`published ${id} version ${state.policies[id]!.version}`);
    for (const id of withdrawn) io.out(`withdrawn ${id}: no new decisions; the decisions made stay`);
    if (changed.length > 0) {
      io.out(
        `backfill: ${changed.length} policies over ${subjects / changed.length} subjects, grants: ${grants}`,
      );
    }
    return 0;
  } finally {
    stop();
    await engine.stop();
  }
};
