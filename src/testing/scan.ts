/**
 * Scanning for raw identity numbers (invariant 6): every table, captured log output, the
 * notification file and command output. Also hostile events that carry raw numbers where the
 * engine might copy them unredacted (ids, reasons, previews), in the forms a data-entry clerk
 * would type them: lower-case check character, full-width digits.
 */
import { existsSync, readFileSync } from 'node:fs';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { isPackedDetail, unpackDetail } from '../adapters/dynamodb/decision-detail.ts';
import { scanAll } from '../adapters/dynamodb/scan.ts';
import type { Config } from '../config.ts';
import { findIdentityNumbers, makeCreditCode, makePersonId } from '../domain/identity.ts';
import { TABLES, type TableId } from '../resources.ts';

/** A raw identity number found somewhere; the value is masked so reports do not repeat it. */
export interface Leak {
  where: string;
  kind: 'person' | 'enterprise';
  masked: string;
}

/** Masks an identity number for a report: region and check character only. */
export const mask = (v: string): string => `${v.slice(0, 6)}${'*'.repeat(v.length - 7)}${v.slice(-1)}`;

/**
 * Raw identity numbers in a text, also in the forms the engine's own pattern does not look for:
 * full-width digits (NFKC-normalised) and a lower-case check character.
 */
export function rawIdentityNumbers(text: string): Array<{ kind: 'person' | 'enterprise'; value: string }> {
  const seen = new Map<string, 'person' | 'enterprise'>();
  for (const t of new Set([text, text.normalize('NFKC').toUpperCase()]))
    for (const f of findIdentityNumbers(t)) seen.set(f.value, f.kind);
  return [...seen].map(([value, kind]) => ({ kind, value }));
}

/** Collects leaks and how much was scanned, per source. */
export class IdentityScan {
  readonly leaks: Leak[] = [];
  /** Items, lines or files scanned per source. */
  readonly scanned: Record<string, number> = {};

  /** Scans one text (an item, a line, a file) of a source. */
  text(source: string, text: string, where = source): void {
    this.scanned[source] = (this.scanned[source] ?? 0) + 1;
    for (const f of rawIdentityNumbers(text)) this.leaks.push({ where, kind: f.kind, masked: mask(f.value) });
  }

  /** Scans every item of every table of the engine. */
  async tables(doc: DynamoDBDocumentClient, cfg: Config): Promise<void> {
    for (const id of Object.keys(TABLES) as TableId[]) {
      for await (const item of scanAll(doc, cfg.table(id))) this.item(id, item);
    }
  }

  /**
   * Scans one stored item, attribute by attribute (so a leak names where it sits). Binary values
   * are read as what they hold: a packed decision detail decompressed, other bytes as text, so
   * compression cannot hide a number from the scan.
   */
  item(table: string, item: Record<string, unknown>): void {
    this.scanned['table items'] = (this.scanned['table items'] ?? 0) + 1;
    for (const [attr, value] of Object.entries(item)) {
      for (const f of rawIdentityNumbers(JSON.stringify(this.readable(value))))
        this.leaks.push({ where: `table ${table}, attribute ${attr}`, kind: f.kind, masked: mask(f.value) });
    }
  }

  /** A stored value with its binary parts made readable. */
  private readable(value: unknown): unknown {
    if (value instanceof Uint8Array) {
      if (isPackedDetail(value)) {
        this.scanned['packed attributes'] = (this.scanned['packed attributes'] ?? 0) + 1;
        return unpackDetail(value);
      }
      return Buffer.from(value).toString('utf8');
    }
    if (value instanceof Set) return [...value].map((v) => this.readable(v));
    if (Array.isArray(value)) return value.map((v) => this.readable(v));
    if (value && typeof value === 'object')
      return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, this.readable(v)]));
    return value;
  }

  /** Scans a file line by line (when it exists). */
  file(source: string, path: string): void {
    if (!existsSync(path)) return;
    readFileSync(path, 'utf8')
      .split('\n')
      .filter((l) => l.trim())
      .forEach((l, i) => {
        this.text(source, l, `${source} line ${i + 1}`);
      });
  }

  /** Scans lines (of output or logs). */
  lines(source: string, lines: readonly string[]): void {
    lines.forEach((l, i) => {
      this.text(source, l, `${source} line ${i + 1}`);
    });
  }
}

/**
 * Captures everything the process writes to stdout and stderr (Powertools' logger writes JSON
 * lines there) and what goes through `console`, until `stop()`. Output still reaches the terminal
 * unless `quiet`.
 */
export function captureOutput(opts: { quiet?: boolean } = {}): { lines: () => string[]; stop: () => void } {
  const chunks: string[] = [];
  const out = process.stdout.write;
  const err = process.stderr.write;
  const wrap = (orig: typeof process.stdout.write, stream: NodeJS.WriteStream) =>
    ((chunk: string | Uint8Array, ...rest: unknown[]) => {
      chunks.push(typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8'));
      if (opts.quiet) {
        const cb = rest.find((r) => typeof r === 'function') as (() => void) | undefined;
        cb?.();
        return true;
      }
      return (orig as (c: string | Uint8Array, ...r: unknown[]) => boolean).call(stream, chunk, ...rest);
    }) as typeof process.stdout.write;
  process.stdout.write = wrap(out, process.stdout);
  process.stderr.write = wrap(err, process.stderr);
  const methods = ['log', 'info', 'warn', 'error', 'debug'] as const;
  const saved = methods.map((m) => console[m]);
  for (const m of methods) {
    console[m] = (...args: unknown[]) => {
      chunks.push(`${args.map((a) => (typeof a === 'string' ? a : JSON.stringify(a))).join(' ')}\n`);
    };
  }
  return {
    lines: () =>
      chunks
        .join('')
        .split('\n')
        .filter((l) => l.trim()),
    stop: () => {
      process.stdout.write = out;
      process.stderr.write = err;
      methods.forEach((m, i) => {
        console[m] = saved[i]!;
      });
    },
  };
}

/**
 * Events that carry raw identity numbers where a careless engine would copy them: in the event id,
 * in fields the schema refuses (so they end in reasons and previews), in broken JSON, in the forms
 * above, and one accepted event whose id is built from the identity number.
 */
export function hostileEvents(): { accepted: string[]; rejected: string[] } {
  const person = makePersonId('110105', '1949-12-31', 2);
  const other = makePersonId('110108', '1961-03-04', 15);
  const code = makeCreditCode('91', '110105', 424242);
  const base = {
    type: 'person.registered',
    schemaVersion: 1,
    source: 'public-security',
    occurredAt: '2024-12-02T08:00:00+08:00',
    subject: { kind: 'person', id: person },
    data: { birthDate: '1949-12-31', hukouRegion: '110105' },
  };
  const fullWidth = (s: string) => s.replace(/[0-9]/g, (d) => String.fromCharCode(0xff10 + Number(d)));
  // A number whose check character is X, written with a lower-case x.
  let withX = '';
  for (let seq = 0; seq < 1000 && !withX.endsWith('X'); seq++)
    withX = makePersonId('110101', '1950-01-01', seq);
  return {
    accepted: [
      // The id an agency built from the identity number: stored redacted.
      JSON.stringify({ ...base, id: `ps-${person}-reg` }),
    ],
    rejected: [
      JSON.stringify({ ...base, id: `ps-bad-region-${other}`, data: { ...base.data, hukouRegion: other } }),
      JSON.stringify({ ...base, id: 'ps-note', data: { ...base.data, note: `see ${other} and ${code}` } }),
      JSON.stringify({ ...base, id: 'ps-version', schemaVersion: 2 }),
      JSON.stringify({ ...base, id: 'ps-type', type: 'person.renamed' }),
      JSON.stringify({ ...base, id: 'ps-kind', subject: { kind: 'enterprise', id: person } }),
      JSON.stringify({ ...base, id: 'ps-code-as-person', subject: { kind: 'person', id: code } }),
      JSON.stringify({ ...base, id: 'ps-full-width', subject: { kind: 'person', id: fullWidth(other) } }),
      JSON.stringify({
        ...base,
        id: 'ps-lower-x',
        subject: { kind: 'person', id: withX.toLowerCase() },
      }),
      `{"id":"ps-broken","subject":{"kind":"person","id":"${other}"},"data":`,
      `${other} ${code}`,
      // Same id as the accepted one, another body: an id conflict whose reason names the id.
      JSON.stringify({ ...base, id: `ps-${person}-reg`, occurredAt: '2024-12-03T08:00:00+08:00' }),
    ],
  };
}
