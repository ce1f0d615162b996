import { type Clock, systemClock } from '../clock.ts';
import { type Config, loadConfig } from '../config.ts';
import { docClient, sqsClient } from '../adapters/aws.ts';
import { DynamoQuarantine, DynamoSubjectStore } from '../adapters/dynamodb/subject-store.ts';
import { SqsOutboxRelay } from '../adapters/sqs/relay.ts';
import type { EngineDeps, EngineObservation } from '../domain/engine/ingest.ts';
import { createCompiledEvaluator } from '../domain/rules/compiled/index.ts';
import {
  createReferenceEvaluator,
  type Evaluator,
  loadPolicySet,
  type PolicySet,
} from '../domain/rules/index.ts';

/**
 * Composition root: builds the engine's dependencies once per process (Lambda cold start, local
 * process) from the one config loader. `pb replay` and tests override the clock and observers.
 */
let config: Config | undefined;
let policies: PolicySet | undefined;
/** The evaluator of the policy set it was built for (built once: compiling takes a while). */
let evaluator: { set: PolicySet; evaluator: Evaluator } | undefined;
let clock: Clock = systemClock;
let observers: Array<(e: EngineObservation) => void> = [];

/** The process's configuration (read once). */
export function runtimeConfig(): Config {
  config ??= loadConfig();
  return config;
}

/** The published policy set (loaded once). */
export function runtimePolicies(): PolicySet {
  policies ??= loadPolicySet(runtimeConfig().rulesDir);
  return policies;
}

/** Sets the engine's clock (`pb replay --now`, tests). */
export function setClock(c: Clock): void {
  clock = c;
}

/** The engine's clock. */
export function runtimeClock(): Clock {
  return clock;
}

/** Adds an observer of engine events (the console of `npm start`); returns a remover. */
export function observe(fn: (e: EngineObservation) => void): () => void {
  observers.push(fn);
  return () => {
    observers = observers.filter((o) => o !== fn);
  };
}

/** Forgets everything read from the environment (tests that start a new local stack). */
export function resetRuntime(): void {
  config = undefined;
  policies = undefined;
  evaluator = undefined;
  clock = systemClock;
  observers = [];
}

/** The configured evaluator for the published policy set. */
export function runtimeEvaluator(): Evaluator {
  const set = runtimePolicies();
  if (evaluator?.set !== set) {
    const create =
      runtimeConfig().evaluator === 'reference' ? createReferenceEvaluator : createCompiledEvaluator;
    evaluator = { set, evaluator: create(set) };
  }
  return evaluator.evaluator;
}

/** The engine's dependencies on the configured AWS (or local) services. */
export function engineDeps(): EngineDeps {
  const cfg = runtimeConfig();
  const set = runtimePolicies();
  const doc = docClient();
  return {
    store: new DynamoSubjectStore(doc, cfg),
    quarantine: new DynamoQuarantine(doc, cfg),
    relay: new SqsOutboxRelay(sqsClient(), doc, cfg),
    policies: set,
    evaluator: runtimeEvaluator(),
    clock: { now: () => clock.now() },
    // Read on first use: only ingest pseudonymises (in AWS the key is fetched at its cold start).
    get pseudonymKey() {
      return cfg.pseudonymKey();
    },
    reviewAmountThreshold: cfg.reviewAmountThreshold,
    observe: (e) => {
      for (const o of observers) o(e);
    },
  };
}
