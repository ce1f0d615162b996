import { createHash } from 'node:crypto';
import { join, resolve } from 'node:path';
import { GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { docClient, sqsClient } from '../../adapters/aws.ts';
import { sendBatch } from '../../adapters/sqs/relay.ts';
import { chinaDateTime } from '../../clock.ts';
import { DynamoReviewStore } from '../../api/dynamo-store.ts';
import { backfillJobs } from '../../domain/engine/backfill.ts';
import { eligibleForTargets } from '../../domain/rules/evaluation.ts';
import { loadPolicySet, type PolicySet, runRuleTests } from '../../domain/rules/index.ts';
import { paramNamesIn } from '../../domain/rules/params.ts';
import { drainQueues } from '../../local/pipeline.ts';
import { openLocalEngine } from '../../local/session.ts';
import { runtimeClock, runtimeConfig } from '../../runtime/engine.ts';
import { BackfillTally } from '../backfill-tally.ts';
import { type Command, CommandFailed, parseOptions, rulesDirOption, wholeNumber } from '../io.ts';
import { nowOption } from '../now.ts';

/**
 * What was published last: per policy, its version, the hash of its rule file's content, the
 * fingerprint of what its decisions rest on, and a hash of each parameter it reads (`contentHash`
 * and `params` are absent in states recorded before they were).
 */
interface PublishedState {
  policies: Record<
    string,
    { version: string; fingerprint: string; contentHash?: string; params?: Record<string, string> }
  >;
  ruleSetHash: string;
  publishedAt: string;
}

const sha256 = (text: string): string => createHash('sha256').update(text).digest('hex');

/**
 * The policies a policy's decisions rest on: itself, then every policy its `eligibleFor:`
 * conditions name, directly or not.
 */
function restsOn(set: PolicySet, policyId: string): PolicySet['policies'] {
  const out: PolicySet['policies'] = [];
  const visit = (id: string) => {
    const p = set.policies.find((x) => x.id === id);
    if (!p || out.includes(p)) return;
    out.push(p);
    for (const target of eligibleForTargets(p.conditions)) visit(target);
  };
  visit(policyId);
  return out;
}

/** A hash of each parameter a policy's decisions read (its own and those of the policies it rests on). */
export function paramHashes(set: PolicySet, policyId: string): Record<string, string> {
  const names = new Set<string>();
  for (const p of restsOn(set, policyId)) {
    paramNamesIn(p.conditions, names);
    paramNamesIn(p.amount, names);
  }
  return Object.fromEntries(
    [...names].sort().map((n) => [n, sha256(JSON.stringify(set.params.get(n)?.values ?? null))]),
  );
}

/**
 * A policy's fingerprint: its rule file, the rule files of the policies it rests on through
 * `eligibleFor:`, and the dated values of every parameter these read, since a new dated amount
 * changes outcomes without a change of logic. A parameter no part of it reads does not count.
 */
export function fingerprint(set: PolicySet, policyId: string): string {
  const hash = createHash('sha256');
  for (const p of restsOn(set, policyId)) hash.update(`${p.id}:${p.contentHash}\n`);
  return hash.update(JSON.stringify(paramHashes(set, policyId))).digest('hex');
}

/** A rule version (`1.2.3`, `1.2.3-rc.1` or a positive integer) as numbers to compare. */
function versionParts(v: string): { nums: number[]; pre: string | undefined } {
  const m = /^(\d+)(?:\.(\d+)\.(\d+))?(?:-(.+))?$/.exec(v);
  if (!m) return { nums: [0, 0, 0], pre: v };
  return { nums: [Number(m[1]), Number(m[2] ?? 0), Number(m[3] ?? 0)], pre: m[4] };
}

/** Negative when version `a` is lower than `b`, 0 when equal, positive when higher (semver order). */
export function compareVersions(a: string, b: string): number {
  const x = versionParts(a);
  const y = versionParts(b);
  for (let i = 0; i < 3; i++) if (x.nums[i] !== y.nums[i]) return x.nums[i]! - y.nums[i]!;
  if (x.pre === y.pre) return 0;
  if (x.pre === undefined) return 1;
  if (y.pre === undefined) return -1;
  // Pre-release identifiers one by one (semver 11.4): numbers numerically and below words.
  const xs = x.pre.split('.');
  const ys = y.pre.split('.');
  for (let i = 0; i < Math.min(xs.length, ys.length); i++) {
    const [p, q] = [xs[i]!, ys[i]!];
    if (p === q) continue;
    const [pn, qn] = [/^\d+$/.test(p), /^\d+$/.test(q)];
    if (pn && qn) return Number(p) - Number(q);
    if (pn !== qn) return pn ? -1 : 1;
    return p < q ? -1 : 1;
  }
  return xs.length - ys.length;
}

/**
 * Why a policy may not be published over what was published before: its rule changed under the
 * same version, or its version went down. Every decision records the version it was made under, so
 * one version must always mean one rule text.
 */
function versionProblem(
  policy: { id: string; version: string; contentHash: string },
  before: { version: string; contentHash?: string | undefined } | undefined,
  what: { lower: string; changed: string } = {
    lower: 'the published',
    changed: `was published`,
  },
): string | undefined {
  if (!before) return undefined;
  const order = compareVersions(policy.version, before.version);
  if (order < 0) {
    return `${policy.id}: version ${policy.version} is lower than ${what.lower} ${before.version}: raise it above ${before.version}`;
  }
  if (order === 0 && before.contentHash !== undefined && before.contentHash !== policy.contentHash) {
    return `${policy.id}: the rule changed since version ${before.version} ${what.changed}: raise its version (decisions record the version they were made under)`;
  }
  return undefined;
}

/**
 * The version and rule hash of a policy's newest decision on the stack, if any. The engine grants
 * under the rules it was started with, published or not (\`npm start\` reads \`rules/\`), so a
 * publication is checked against what was decided as well as against what was published.
 */
async function newestDecision(
  store: DynamoReviewStore,
  policy: string,
): Promise<{ version: string; contentHash?: string } | undefined> {
  const read = await store.readPartition({ index: 'byPolicy', value: policy }, {}, undefined, 1);
  const newest = read.items[0]?.decision;
  if (!newest) return undefined;
  const full = await store.getDecision(newest.subject, newest.policy, newest.period);
  const hash = (full?.explanation as { ruleHash?: unknown } | undefined)?.ruleHash;
  return { version: newest.ruleVersion, ...(typeof hash === 'string' ? { contentHash: hash } : {}) };
}

/**
 * `pb rules publish [--dir rules] [--now <ISO>] [--withdraw]`: publishes the rule files as the
 * engine's policy set and backfills every new or changed policy over every stored profile (政策找人
 * on publication), through the backfill queue and handler, like the period opening. Refused (exit
 * 1, nothing published) when the test cases beside the rules fail, when a rule changed without a
 * new version or its version went down, and when published policies would be withdrawn without
 * `--withdraw`.
 */
export const publish: Command = async (args, io) => {
  const { values } = parseOptions(args, {
    dir: { type: 'string' },
    now: { type: 'string' },
    segments: { type: 'string' },
    withdraw: { type: 'boolean' },
  });
  const now = values.now === undefined ? undefined : nowOption(values.now);
  const dir = resolve(rulesDirOption(values.dir));
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
  // What is published must pass its own test cases, as `pb rules test` runs them.
  const tests = await runRuleTests(dir);
  for (const w of tests.warnings) io.err(`pb rules publish: warning: ${w.text}`);
  if (tests.failed > 0 || tests.problems.length > 0) {
    for (const f of tests.failures) io.err(f.text);
    throw new CommandFailed(
      `${tests.failed} of ${tests.passed + tests.failed} test cases beside the rules fail: nothing published (pb rules test --dir ${dir})`,
    );
  }
  const readFrom = resolve(process.env.PB_RULES_DIR ?? 'rules');
  if (dir !== readFrom) {
    io.err(
      `pb rules publish: note: the other commands and npm start read rules from ${readFrom}; set PB_RULES_DIR=${dir} for them to use what is published here`,
    );
  }
  // The handlers this process runs load the policies from the published directory.
  // (for this run only: a caller in the same process, a test, finds its own setting again).
  const callersRulesDir = process.env.PB_RULES_DIR;
  const restoreRulesDir = () => {
    if (callersRulesDir === undefined) delete process.env.PB_RULES_DIR;
    else process.env.PB_RULES_DIR = callersRulesDir;
  };
  process.env.PB_RULES_DIR = dir;
  const engine = await openLocalEngine({
    persistDir: join(resolve(process.env.PB_DATA_DIR ?? '.data'), 'dynamodb'),
    ...(now ? { now } : {}),
  }).catch((e: unknown) => {
    restoreRulesDir();
    throw e;
  });
  const tally = new BackfillTally(io, 'backfill');
  let queued = 0;
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
    const refused: string[] = [];
    const decisions = new DynamoReviewStore(doc, cfg);
    for (const p of set.policies) {
      const fp = fingerprint(set, p.id);
      const params = paramHashes(set, p.id);
      state.policies[p.id] = { version: p.version, fingerprint: fp, contentHash: p.contentHash, params };
      const before = previous?.policies[p.id];
      const problem =
        versionProblem(p, before) ??
        versionProblem(p, await newestDecision(decisions, p.id), {
          lower: "that of the stack's newest decision,",
          changed: 'was used for decisions on this stack',
        });
      if (problem) refused.push(problem);
      if (before?.fingerprint !== fp) changed.push(p.id);
    }
    const withdrawn = Object.keys(previous?.policies ?? {}).filter((id) => !state.policies[id]);
    if (withdrawn.length > 0 && !values.withdraw) {
      refused.push(
        withdrawn.length === 1
          ? `1 published policy has no rule file in ${dir} (${withdrawn[0]}): publishing the directory would withdraw it; add its file, or pass --withdraw`
          : `${withdrawn.length} published policies have no rule file in ${dir} (${withdrawn.join(', ')}): publishing the directory would withdraw them; add their files, or pass --withdraw`,
      );
    }
    if (refused.length > 0) {
      for (const r of refused.slice(0, -1)) io.err(`pb rules publish: ${r}`);
      throw new CommandFailed(`${refused.at(-1)!}; nothing published`);
    }
    const last = previous ? chinaDateTime(new Date(previous.publishedAt)) : undefined;
    if (previous && at.getTime() < new Date(previous.publishedAt).getTime()) {
      io.err(
        `pb rules publish: warning: this publication (${chinaDateTime(at)}) is dated before the last one (${last}): the backfill decides the periods of ${chinaDateTime(at)}`,
      );
    }
    if (changed.length === 0 && withdrawn.length === 0) {
      io.out(`nothing changed since the publication of ${last}: no backfill`);
      return 0;
    }
    if (changed.length > 0) {
      const jobs = changed.flatMap((policy) =>
        backfillJobs({ job: 'publish', at: at.toISOString(), policy }, segments),
      );
      queued = jobs.length;
      await sendBatch(
        sqsClient(),
        engine.queues.backfill.url,
        jobs.map((j) => JSON.stringify(j)),
      );
      // On a local stack this process plays the backfill function's part; a deployed stage's own
      // backfill function runs the jobs, with the stage's configuration.
      if (engine.local) {
        await drainQueues(engine.queues, engine.consumers);
        io.progress('');
      } else io.out(`backfill: ${jobs.length} jobs queued; the stage's backfill function runs them`);
    }
    // Recorded once the backfill is done: a publication interrupted before that runs again in full.
    await doc.send(
      new PutCommand({ TableName: cfg.table('meta'), Item: { pk: 'published-rules', ...state } }),
    );
    for (const id of changed) {
      const now = state.policies[id]!;
      const before = previous?.policies[id];
      // What changed besides the rule file: the parameters it reads, or a policy it rests on.
      let why = '';
      if (before?.params) {
        const moved = Object.keys({ ...before.params, ...now.params })
          .filter((n) => before.params?.[n] !== now.params?.[n])
          .sort();
        if (moved.length > 0) why = ` (parameters changed: ${moved.join(', ')})`;
        else if (before.contentHash === now.contentHash)
          why = ' (a policy it rests on through eligibleFor changed)';
      }
      io.out(`published ${id} version ${now.version}${why}`);
    }
    for (const id of withdrawn) io.out(`withdrawn ${id}: no new decisions; the decisions made stay`);
    if (changed.length > 0 && engine.local) {
      const policies = `${changed.length} ${changed.length === 1 ? 'policy' : 'policies'}`;
      io.out(
        `backfill: ${policies} over ${Math.round(tally.subjects / changed.length)} subjects, ${tally.summary(queued)}`,
      );
    }
    return 0;
  } finally {
    tally.close();
    await engine.stop();
    restoreRulesDir();
  }
};
