import { observe } from '../runtime/engine.ts';
import type { Io } from './io.ts';

/**
 * What the backfill segments this process ran did (`pb tick`, `pb rules publish`): subjects
 * evaluated, grants made, granted periods flagged `eligibility-changed`, and segments finished.
 * Segments another consumer of the queue took (the pollers of a running `npm start`) are not seen
 * here, and the summary says so instead of reporting fewer subjects as if that were all.
 */
export class BackfillTally {
  subjects = 0;
  grants = 0;
  flagged = 0;
  segments = 0;
  private readonly stop: () => void;

  constructor(io: Io, label: string) {
    this.stop = observe((e) => {
      if (e.type === 'flagged') this.flagged++;
      else if (e.type === 'backfill-segment') {
        this.segments++;
        this.subjects += e.subjects;
        this.grants += e.grants;
        io.progress(`${label}: evaluated ${this.subjects} subjects`);
      }
    });
  }

  /** `grants: N, flagged: N`, and what was not seen when other consumers ran some of `queued` segments. */
  summary(queued: number): string {
    const missed = queued - this.segments;
    return `grants: ${this.grants}, flagged eligibility-changed: ${this.flagged}${
      missed > 0
        ? ` (${missed} of ${queued} segments were run by another consumer of the backfill queue, such as a running npm start: not counted here)`
        : ''
    }`;
  }

  close(): void {
    this.stop();
  }
}
