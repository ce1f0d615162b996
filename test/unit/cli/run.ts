import type { Io } from '../../../src/cli/io.ts';
import { main } from '../../../src/cli/main.ts';

/** What one `pb` run printed: stdout split into lines (a command may write several at once). */
export interface Run {
  code: number;
  out: string[];
  err: string[];
}

/** Runs `pb …` in this process through `main`, with a capturing Io. */
export async function run(...argv: string[]): Promise<Run> {
  const out: string[] = [];
  const err: string[] = [];
  const io: Io = { out: (l) => out.push(...l.split('\n')), err: (l) => err.push(l), progress: () => {} };
  const code = await main(argv, io);
  return { code, out, err };
}

export const RULES = new URL('../../../rules', import.meta.url).pathname;
