import { existsSync, readFileSync } from 'node:fs';
import { GetCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { docClient } from '../../src/adapters/aws.ts';
import { scanAll } from '../../src/adapters/dynamodb/scan.ts';
import { DynamoLedgerReader, digestStore } from '../../src/adapters/ledger-store.ts';
import { verifyLedgerFrom } from '../../src/domain/ledger/index.ts';
import { type ReviewServer, startReviewServer } from '../../src/local/http.ts';
import { drainQueues } from '../../src/local/pipeline.ts';
import { runtimeConfig } from '../../src/runtime/engine.ts';
import { resetReviewApi } from '../../functions/review-api.ts';
import { decideDemo, type TestEngine, useTestEngine } from './helpers.ts';

interface Item {
  subject: string;
  policy: string;
  period: string;
  status: string;
  ref: string;
  amount: number;
  createdAt: string;
  recipients: string[];
  inReviewQueue: boolean;
  reviewReason?: string;
}

let engine: TestEngine;
let server: ReviewServer;
let stored: Array<Record<string, unknown>>;

async function api(
  path: string,
  opts: { token?: string; method?: string; body?: unknown } = {},
): Promise<{ status: number; json: Record<string, unknown>; text: string; headers: Headers }> {
  const r = await fetch(`${server.url}${path}`, {
    method: opts.method ?? 'GET',
    headers: {
      authorization: `Bearer ${opts.token ?? server.reviewerToken}`,
      ...(opts.body ? { 'content-type': 'application/json' } : {}),
    },
    ...(opts.body ? { body: JSON.stringify(opts.body) } : {}),
  });
  const text = await r.text();
  const json = (
    r.headers.get('content-type')?.startsWith('application/json') ? JSON.parse(text) : {}
  ) as Record<string, unknown>;
  return { status: r.status, json, text, headers: r.headers };
}

const items = (r: { json: Record<string, unknown> }) => r.json.items as Item[];
const pathOf = (d: Item) => `/api/decisions/${d.subject}/${d.policy}/${d.period}`;

async function allPages(query: string, limit: number): Promise<Item[]> {
  const out: Item[] = [];
  let cursor: string | null = null;
  do {
    const q = new URLSearchParams(query);
    q.set('limit', String(limit));
    if (cursor) q.set('cursor', cursor);
    const r = await api(`/api/decisions?${q}`);
    expect(r.status, r.text).toBe(200);
    out.push(...items(r));
    cursor = r.json.cursor as string | null;
  } while (cursor);
  return out;
}

async function ledgerOf(subject: string) {
  const out: Array<Record<string, unknown>> = [];
  for await (const e of scanAll(docClient(), runtimeConfig().table('ledger')))
    if (e.pk === subject) out.push(e);
  return out.sort((a, b) => (a.seq as number) - (b.seq as number));
}

async function verifyAll() {
  const cfg = runtimeConfig();
  return verifyLedgerFrom(new DynamoLedgerReader(docClient(), cfg, digestStore(cfg)));
}

beforeAll(async () => {
  engine = await useTestEngine('api', '2025-03-20T12:00:00+08:00');
  resetReviewApi();
  await decideDemo(engine);
  stored = [];
  for await (const d of scanAll(docClient(), runtimeConfig().table('decisions'))) stored.push(d);
  server = await startReviewServer({ port: 0 });
});

afterAll(async () => {
  await server?.close();
});

describe('Route: GET /api/decisions (DynamoDB)', () => {
  it('lists every sample grant through the indexes, never a scan', async () => {
    // Prepare
    expect(stored.length).toBeGreaterThan(3);
    const send = vi.spyOn(docClient(), 'send');
    // Act
    const r = await api('/api/decisions');
    // Assess
    expect(r.status).toBe(200);
    expect(
      items(r)
        .map((d) => d.ref)
        .sort(),
    ).toEqual(stored.map((d) => d.ref as string).sort());
    const commands = send.mock.calls.map(([c]) => c.constructor.name);
    send.mockRestore();
    expect(commands.length).toBeGreaterThan(0);
    expect(commands.every((c) => c === 'QueryCommand')).toBe(true);
  });

  it('pages through merged status partitions with the cursor, each decision once, newest first', async () => {
    // Act
    const seen = await allPages('', 2);
    // Assess
    expect(seen.map((d) => d.ref).sort()).toEqual(stored.map((d) => d.ref as string).sort());
    for (let i = 1; i < seen.length; i++) expect(seen[i - 1]!.createdAt >= seen[i]!.createdAt).toBe(true);
  });

  it('filters by policy+period, by policy and by status', async () => {
    // Prepare
    const sample = stored[0]!;
    const want = (f: (d: Record<string, unknown>) => boolean) =>
      stored
        .filter(f)
        .map((d) => d.ref)
        .sort();
    // Act
    const byPp = await allPages(`policy=${sample.policy}&period=${sample.period}`, 1);
    const byPolicy = await allPages(`policy=${sample.policy}`, 50);
    const byStatus = await allPages('status=granted', 50);
    const none = await allPages('status=revoked&from=2030-01-01', 50);
    // Assess
    expect(byPp.map((d) => d.ref).sort()).toEqual(
      want((d) => d.policy === sample.policy && d.period === sample.period),
    );
    expect(byPolicy.map((d) => d.ref).sort()).toEqual(want((d) => d.policy === sample.policy));
    expect(byStatus.map((d) => d.ref).sort()).toEqual(want((d) => d.status === 'granted'));
    expect(none).toEqual([]);
  });
});

describe('Route: GET /api/decisions, damaged cursors (DynamoDB)', () => {
  it('answers 400, never 500, to a cursor whose resume keys were altered', async () => {
    // Prepare: a genuine cursor of the merged status listing.
    const first = await api('/api/decisions?limit=2');
    expect(first.status).toBe(200);
    const genuine = JSON.parse(Buffer.from(first.json.cursor as string, 'base64url').toString('utf8'));
    const resumed = Object.entries(genuine.p as Record<string, unknown>).find(([, v]) => v !== null);
    if (!resumed) return expect.fail('the first page should leave a partition to resume');
    const [id, key] = resumed as [string, Record<string, string>];
    const forge = (k: unknown) =>
      Buffer.from(JSON.stringify({ ...genuine, p: { ...genuine.p, [id]: k } }), 'utf8').toString('base64url');
    // Act + Assess
    for (const k of [{ pk: 1 }, { foo: 'bar' }, {}, { ...key, extra: 'x' }, { ...key, status: 'revoked' }]) {
      const r = await api(`/api/decisions?limit=2&cursor=${forge(k)}`);
      expect(r.status, `${JSON.stringify(k)}: ${r.text}`).toBe(400);
      expect(r.json.error).toMatch(/^cursor: /);
    }
    expect((await api(`/api/decisions?limit=2&cursor=${forge(key)}`)).status).toBe(200);
  });
});

describe('Route: GET /api/review-queue (DynamoDB)', () => {
  it('holds exactly the decisions the engine queued (sampled, large, flagged)', async () => {
    // Act
    const r = await api('/api/review-queue');
    // Assess
    expect(r.status).toBe(200);
    const queued = stored.filter((d) => d.reviewBucket === 'review').map((d) => d.ref);
    expect(queued.length).toBeGreaterThan(0);
    expect(
      items(r)
        .map((d) => d.ref)
        .sort(),
    ).toEqual(queued.sort());
    expect(items(r).every((d) => d.inReviewQueue && d.reviewReason)).toBe(true);
  });
});

describe('Route: GET /api/decisions/{subject}/{policy}/{period} (DynamoDB)', () => {
  it('explains the decision and shows its ledger history', async () => {
    // Prepare
    const d = (await allPages('status=granted', 50))[0]!;
    // Act
    const r = await api(pathOf(d), { token: server.auditorToken });
    // Assess
    expect(r.status).toBe(200);
    expect((r.json.explanation as unknown[]).length).toBeGreaterThan(0);
    expect((r.json.policy as { legalReference: { document: string } }).legalReference.document).not.toBe('');
    const history = r.json.history as Array<{ kind: string; payload: { ref: string } }>;
    expect(history[0]?.kind).toBe('grant');
    expect(history.every((e) => e.payload.ref === d.ref)).toBe(true);
  });
});

describe('Review actions (DynamoDB transactions)', () => {
  it('confirms one and revokes another: ledger entries by the reviewer, heads moved, chain verifies, notice sent', async () => {
    // Prepare
    const granted = await allPages('status=granted', 50);
    const [toConfirm, toRevoke] = granted;
    expect(toRevoke).toBeDefined();
    // Act
    const c = await api(`${pathOf(toConfirm!)}/confirm`, { method: 'POST', body: {} });
    const v = await api(`${pathOf(toRevoke!)}/revoke`, {
      method: 'POST',
      body: { reason: '经核查，户籍已于2024年迁出本市。' },
    });
    await drainQueues(engine.queues, engine.consumers);
    // Assess
    expect(c.status, c.text).toBe(200);
    expect(v.status, v.text).toBe(200);
    expect(v.json.notifications).toEqual({ queued: toRevoke!.recipients.length, relayed: true });
    const confirmEntries = await ledgerOf(toConfirm!.subject);
    expect(confirmEntries.at(-1)).toMatchObject({ kind: 'review.confirm', actor: 'local-reviewer' });
    const revokeEntries = await ledgerOf(toRevoke!.subject);
    expect(revokeEntries.at(-1)).toMatchObject({
      kind: 'review.revoke',
      actor: 'local-reviewer',
      payload: { ref: toRevoke!.ref, reason: '经核查，户籍已于2024年迁出本市。' },
    });
    const verified = await verifyAll();
    expect(verified.failures).toEqual([]);
    expect(verified.ok).toBe(true);
    const notes = existsSync(engine.notifyFile)
      ? readFileSync(engine.notifyFile, 'utf8')
          .split('\n')
          .filter(Boolean)
          .map((l) => JSON.parse(l) as { kind: string; ref: string; body: string })
      : [];
    const revocations = notes.filter((n) => n.kind === 'revocation' && n.ref === toRevoke!.ref);
    expect(revocations).toHaveLength(toRevoke!.recipients.length);
    expect(revocations[0]?.body).toContain('经核查，户籍已于2024年迁出本市');
    expect((await api(pathOf(toRevoke!))).json.decision).toMatchObject({ status: 'revoked' });
  });

  it('lets only one of two concurrent confirmations of the same decision through', async () => {
    // Prepare
    const d = (await allPages('status=granted', 50))[0]!;
    const before = (await ledgerOf(d.subject)).length;
    // Act
    const results = await Promise.all([
      api(`${pathOf(d)}/confirm`, { method: 'POST', body: {} }),
      api(`${pathOf(d)}/confirm`, { method: 'POST', body: {} }),
    ]);
    // Assess
    expect(results.map((r) => r.status).sort()).toEqual([200, 409]);
    expect((await ledgerOf(d.subject)).length).toBe(before + 1);
  });

  it('serialises concurrent actions on two decisions of one subject through the profile version', async () => {
    // Prepare: a subject with two decisions still open to confirmation.
    const open = await allPages('status=granted', 100);
    const bySubject = new Map<string, Item[]>();
    for (const d of open) bySubject.set(d.subject, [...(bySubject.get(d.subject) ?? []), d]);
    const pair = [...bySubject.values()].find((l) => l.length >= 2);
    if (!pair) return expect.fail('the demo stream should give one subject two grants');
    const before = (await ledgerOf(pair[0]!.subject)).length;
    // Act
    const results = await Promise.all(
      pair.slice(0, 2).map((d) => api(`${pathOf(d)}/confirm`, { method: 'POST', body: {} })),
    );
    // Assess
    expect(results.map((r) => r.status)).toEqual([200, 200]);
    const entries = await ledgerOf(pair[0]!.subject);
    expect(entries.length).toBe(before + 2);
    expect((await verifyAll()).ok).toBe(true);
  });
});

describe('Route: POST …/resolve (DynamoDB)', () => {
  it("adjusts a flagged grant's amount in the decision and the profile's summary, in one transaction", async () => {
    // Prepare: flag a grant as the engine does when later facts give another amount.
    const d = (await allPages('status=granted', 100))[0]!;
    const key = `${d.policy}#${d.period}`;
    await docClient().send(
      new UpdateCommand({
        TableName: runtimeConfig().table('decisions'),
        Key: { pk: d.subject, sk: key },
        UpdateExpression: 'SET #s = :s, flag = :f, reviewBucket = :rb, reviewReason = :rr',
        ExpressionAttributeNames: { '#s': 'status' },
        ExpressionAttributeValues: {
          ':s': 'eligibility-changed',
          ':f': { outcome: 'eligible', amount: d.amount + 100, reasons: [], at: d.createdAt, eventIds: [] },
          ':rb': 'review',
          ':rr': 'eligibility-changed',
        },
      }),
    );
    // Act
    const r = await api(`${pathOf(d)}/resolve`, {
      method: 'POST',
      body: { resolution: 'adjust', reason: '按最新信息调整' },
    });
    // Assess
    expect(r.status, r.text).toBe(200);
    expect(r.json.decision).toMatchObject({
      status: 'confirmed',
      amount: d.amount + 100,
      inReviewQueue: false,
    });
    const profile = await docClient().send(
      new GetCommand({
        TableName: runtimeConfig().table('profiles'),
        Key: { pk: d.subject },
        ConsistentRead: true,
      }),
    );
    expect(profile.Item?.decided?.[key]?.grantedAmount).toBe(d.amount + 100);
    expect((await ledgerOf(d.subject)).at(-1)).toMatchObject({
      kind: 'review.resolve',
      payload: { resolution: 'adjust', previousAmount: d.amount, amount: d.amount + 100 },
    });
    expect((await verifyAll()).ok).toBe(true);
  });
});

describe('Citizen answers (DynamoDB)', () => {
  it('takes an objection by reference number into the review queue and the ledger', async () => {
    // Prepare
    const d = (await allPages('status=granted', 100)).find((x) => x.recipients.includes(x.subject));
    if (!d) return expect.fail('the demo stream should grant someone who is notified directly');
    const token = await server.tokenFor('citizen', d.subject);
    const stranger = await server.tokenFor('citizen', `ps_${'0'.repeat(32)}`);
    // Act
    const others = await api('/api/citizen/objections', {
      token: stranger,
      method: 'POST',
      body: { ref: d.ref, reason: '不是我的' },
    });
    const r = await api('/api/citizen/objections', {
      token,
      method: 'POST',
      body: { ref: d.ref, reason: '金额有误' },
    });
    const mine = await api('/api/citizen/decisions', { token });
    // Assess
    expect(others.status).toBe(404);
    expect(r.status, r.text).toBe(200);
    expect(items(await api('/api/review-queue')).map((x) => x.ref)).toContain(d.ref);
    expect((await ledgerOf(d.subject)).at(-1)).toMatchObject({
      kind: 'citizen.objection',
      payload: { reason: '金额有误' },
    });
    expect(items(mine).every((x) => x.subject === d.subject)).toBe(true);
    expect(items(mine).map((x) => x.ref)).toContain(d.ref);
  });
});

describe('Citizen listing (DynamoDB)', () => {
  it('shows a guardian the decisions about their child, from the notices delivered to them', async () => {
    // Prepare
    const all = await allPages('', 100);
    const d = all.find(
      (x) => x.status === 'granted' && x.recipients.length > 0 && !x.recipients.includes(x.subject),
    );
    if (!d) return expect.fail('the demo stream should grant a child whose guardians are notified');
    const guardian = d.recipients[0]!;
    const token = await server.tokenFor('citizen', guardian);
    // Act
    const r = await api('/api/citizen/decisions', { token });
    const one = await api(`/api/citizen/decisions?ref=${encodeURIComponent(d.ref)}`, { token });
    // Assess
    expect(one.status, one.text).toBe(200);
    expect(items(one).map((x) => x.ref)).toEqual([d.ref]);
    expect(items(one)[0]).toHaveProperty('explanation');
    expect(r.status, r.text).toBe(200);
    const listed = items(r).find((x) => x.ref === d.ref);
    expect(listed).toMatchObject({
      subject: d.subject,
      policy: { id: d.policy },
      period: d.period,
      recipients: [],
    });
    // Nothing else of anybody else: each item is the guardian's own or names them as a recipient.
    const recipientsOf = new Map(all.map((x) => [x.ref, x.recipients]));
    for (const x of items(r))
      expect(x.subject === guardian || recipientsOf.get(x.ref)?.includes(guardian)).toBe(true);
  });
});

describe('Route: GET /api/export.csv (DynamoDB)', () => {
  it('exports every decision of the filter, one row each after the header', async () => {
    // Act
    const r = await api('/api/export.csv', { token: server.auditorToken });
    // Assess
    expect(r.status).toBe(200);
    // fetch's text() drops a BOM, so look at the bytes: Excel needs EF BB BF to read UTF-8.
    const raw = await (
      await fetch(`${server.url}/api/export.csv`, {
        headers: { authorization: `Bearer ${server.auditorToken}` },
      })
    ).arrayBuffer();
    expect([...new Uint8Array(raw).subarray(0, 3)]).toEqual([0xef, 0xbb, 0xbf]);
    expect(r.text.split('\r\n').filter(Boolean)).toHaveLength(stored.length + 1);
    expect(r.text).not.toMatch(/\b\d{17}[\dX]\b/);
  });
});
