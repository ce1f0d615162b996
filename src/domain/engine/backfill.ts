import type { EngineDeps } from './ingest.ts';
import { reevaluateSubject } from './ingest.ts';
import { periodsOpenedAt } from '../rules/index.ts';

/**
 * A backfill job: evaluate every stored subject of one scan segment, either for the periods that
 * opened at `at` (政策找人 at the turn of a month or year) or for one newly published policy.
 * Jobs are idempotent (grants are exactly-once) and resumable from `startKey`.
 */
export interface BackfillJob {
  job: 'period-open' | 'publish';
  at: string;
  policy?: string;
  segment: number;
  totalSegments: number;
  startKey?: Record<string, unknown>;
  /** Subjects done by earlier runs of this segment. */
  done?: number;
}

/** Reads stored subjects one scan segment at a time. */
export interface ProfileScanner {
  page(
    segment: number,
    totalSegments: number,
    startKey: Record<string, unknown> | undefined,
  ): Promise<{ subjects: string[]; nextKey?: Record<string, unknown> }>;
}

export interface BackfillResult {
  subjects: number;
  grants: number;
  /** Set when time ran out: the job to continue with. */
  continuation?: BackfillJob;
}

/** Builds the jobs of one backfill, one per segment. */
export function backfillJobs(
  job: Omit<BackfillJob, 'segment' | 'totalSegments'>,
  totalSegments: number,
): BackfillJob[] {
  return Array.from({ length: totalSegments }, (_, segment) => ({ ...job, segment, totalSegments }));
}

/**
 * Runs one segment until done or until `timeLeft()` falls under `reserveMs`, reporting progress.
 */
export async function runBackfill(
  deps: EngineDeps,
  scanner: ProfileScanner,
  job: BackfillJob,
  opts: { timeLeft: () => number; reserveMs?: number; onProgress?: (done: number) => void },
): Promise<BackfillResult> {
  const opened = job.job === 'period-open' ? periodsOpenedAt(deps.policies, new Date(job.at)) : undefined;
  let key = job.startKey;
  let subjects = 0;
  let grants = 0;
  do {
    const page = await scanner.page(job.segment, job.totalSegments, key);
    for (const subject of page.subjects) {
      grants += await reevaluateSubject(
        deps,
        subject,
        opened ? { periods: opened } : job.policy ? { policy: job.policy } : undefined,
      );
      subjects++;
    }
    key = page.nextKey;
    opts.onProgress?.((job.done ?? 0) + subjects);
    if (key && opts.timeLeft() < (opts.reserveMs ?? 30_000)) {
      return { subjects, grants, continuation: { ...job, startKey: key, done: (job.done ?? 0) + subjects } };
    }
  } while (key);
  deps.observe?.({ type: 'backfill-segment', segment: job.segment, subjects, grants });
  return { subjects, grants };
}
