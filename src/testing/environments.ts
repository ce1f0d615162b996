/**
 * Lambda execution environments, locally. Lambda runs one invocation at a time per environment and
 * scales out with more environments, each with its own copy of the function's module state. The
 * handlers keep per-invocation state at module level (Powertools' BatchProcessor, the batch's
 * subject set), which is sound in Lambda but not when one process runs several invocations of one
 * module at once. Each environment here is a separate instance of the handler modules, loaded
 * under its own URL, so N pollers with N environments run as N Lambda environments would.
 */
import type { Consumers } from '../local/pipeline.ts';
import type { SqsHandler } from '../local/poller.ts';

const FUNCTIONS = {
  agencyEvents: '../../functions/ingest.ts',
  evaluations: '../../functions/evaluate.ts',
  notifications: '../../functions/notify.ts',
  backfill: '../../functions/backfill.ts',
} as const;

let loaded = 0;

/** `n` environments, each with its own instance of every consumer's handler module. */
export async function executionEnvironments(n: number): Promise<Consumers[]> {
  const out: Consumers[] = [];
  for (let i = 0; i < n; i++) {
    const env: Consumers = {};
    const tag = ++loaded;
    for (const [queue, path] of Object.entries(FUNCTIONS) as Array<[keyof typeof FUNCTIONS, string]>) {
      const url = `${new URL(path, import.meta.url).href}?environment=${tag}`;
      const mod = (await import(url)) as { handler: SqsHandler };
      env[queue] = mod.handler;
    }
    out.push(env);
  }
  return out;
}
