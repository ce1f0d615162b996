/**
 * Cursor pagination over one or several index partitions, newest first. Listing without a filter
 * reads every `byStatus` partition and merges them, so nothing here ever scans a table.
 *
 * Correctness rests on one rule: every partition read returns at least `limit` items unless it is
 * exhausted. Then no unread item of any partition can be newer than the last item of the merged
 * page, and resuming each partition after the last item taken from it returns every decision
 * exactly once, whatever the ties in `createdAt`.
 */
import { createHash } from 'node:crypto';
import { z } from 'zod';
import { badRequest } from './http.ts';
import type { Partition, PartitionFilter, ResumeKey, ReviewStore, StoredDecision } from './ports.ts';

/** Per partition: absent = not started, null = exhausted, a key = resume after it. */
export type Positions = Record<string, ResumeKey | null>;

/** One page of a listing. */
export interface Page {
  items: StoredDecision[];
  /** Where the next page starts, or null on the last page. */
  positions: Positions | null;
}

/** The id of a partition inside a cursor. */
export const partitionId = (p: Partition): string => `${p.index}=${p.value}`;

/** Reads one page of the merged partitions. */
export async function readPage(
  store: ReviewStore,
  partitions: readonly Partition[],
  filter: PartitionFilter,
  limit: number,
  positions: Positions = {},
): Promise<Page> {
  const live = partitions.filter((p) => positions[partitionId(p)] !== null);
  const reads = await Promise.all(
    live.map((p) => store.readPartition(p, filter, positions[partitionId(p)] ?? undefined, limit)),
  );
  const taken = reads.map(() => 0);
  const items: StoredDecision[] = [];
  while (items.length < limit) {
    let best = -1;
    for (let i = 0; i < reads.length; i++) {
      const candidate = reads[i]!.items[taken[i]!];
      if (!candidate) continue;
      const current = best < 0 ? undefined : reads[best]!.items[taken[best]!];
      // Ties keep the earlier partition: any fixed rule works, since each partition is consumed in order.
      if (!current || candidate.decision.createdAt > current.decision.createdAt) best = i;
    }
    if (best < 0) break;
    items.push(reads[best]!.items[taken[best]!]!.decision);
    taken[best]!++;
  }
  const next: Positions = {};
  let more = false;
  for (const p of partitions) {
    const id = partitionId(p);
    if (positions[id] === null) {
      next[id] = null;
      continue;
    }
    const i = live.indexOf(p);
    const read = reads[i]!;
    const n = taken[i]!;
    let position: ResumeKey | null | undefined;
    if (n < read.items.length) position = n === 0 ? positions[id] : read.items[n - 1]!.key;
    else position = read.next ?? null;
    if (position === undefined) {
      more = true; // untouched partition: it starts from the newest next time too
      continue;
    }
    next[id] = position;
    if (position !== null) more = true;
  }
  return { items, positions: more ? next : null };
}

const CursorSchema = z.strictObject({
  v: z.literal(1),
  f: z.string(),
  p: z.record(z.string(), z.union([z.null(), z.record(z.string(), z.union([z.string(), z.number()]))])),
});

/** A short fingerprint of what a cursor was issued for, so it cannot be replayed on another filter. */
export function fingerprint(value: unknown): string {
  return createHash('sha256').update(JSON.stringify(value)).digest('base64url').slice(0, 16);
}

/** The opaque cursor of a page: base64url of the partitions' resume keys. */
export function encodeCursor(fp: string, positions: Positions): string {
  return Buffer.from(JSON.stringify({ v: 1, f: fp, p: positions }), 'utf8').toString('base64url');
}

/** Reads a cursor; 400 when it is not one this API issued for the same filter. */
export function decodeCursor(text: string, fp: string): Positions {
  let raw: unknown;
  try {
    raw = JSON.parse(Buffer.from(text, 'base64url').toString('utf8'));
  } catch {
    throw badRequest('cursor: not a cursor this API issued; start again without it');
  }
  const r = CursorSchema.safeParse(raw);
  if (!r.success) throw badRequest('cursor: not a cursor this API issued; start again without it');
  if (r.data.f !== fp) throw badRequest('cursor: belongs to another filter; start again without it');
  return r.data.p;
}
