/**
 * CSV export of decisions that opens cleanly in Excel: UTF-8 with a byte-order mark (else Excel
 * guesses GBK and garbles Chinese), CRLF line ends and RFC 4180 quoting.
 */
import { formatYuan } from '../domain/notifications/index.ts';
import type { StoredDecision } from './ports.ts';
import { STATUS_LABELS } from './view.ts';

/** Columns: header (Chinese and English) and how each cell is read from a decision. */
const COLUMNS: Array<[string, (d: StoredDecision, title: (id: string) => string | undefined) => string]> = [
  ['业务编号 Reference', (d) => d.ref],
  ['政策 Policy', (d) => d.policy],
  ['政策名称 Policy title', (d, title) => title(d.policy) ?? ''],
  ['期间 Period', (d) => d.period],
  ['状态 Status', (d) => `${STATUS_LABELS[d.status]?.['zh-CN'] ?? d.status} ${d.status}`],
  ['金额（元） Amount (CNY)', (d) => formatYuan(d.amount)],
  ['规则版本 Rule version', (d) => d.ruleVersion],
  ['对象（假名） Subject (pseudonym)', (d) => d.subject],
  ['对象类型 Subject kind', (d) => d.kind],
  ['创建时间 Created at', (d) => d.createdAt],
  ['更新时间 Updated at', (d) => d.updatedAt],
  ['复核原因 Review reason', (d) => d.reviewReason ?? ''],
  ['待复核 In review queue', (d) => (d.inReviewQueue ? 'yes' : 'no')],
  ['依据事件 Event ids', (d) => d.eventIds.join(' ')],
];

/**
 * One cell, RFC 4180 quoted when needed. Text starting with `=`, `+`, `-`, `@` or a control
 * character gets a leading apostrophe, so Excel shows it instead of running it as a formula.
 */
export function csvCell(value: string): string {
  const safe = /^[=+\-@\t\r]/.test(value) && !/^-?\d+(?:\.\d+)?$/.test(value) ? `'${value}` : value;
  return /[",\r\n]/.test(safe) ? `"${safe.replace(/"/g, '""')}"` : safe;
}

/** The whole file: BOM, header row, one row per decision, CRLF after every row. */
export function decisionsCsv(
  decisions: Iterable<StoredDecision>,
  policyTitle: (id: string) => string | undefined = () => undefined,
): string {
  const rows = [COLUMNS.map(([h]) => csvCell(h)).join(',')];
  for (const d of decisions) rows.push(COLUMNS.map(([, cell]) => csvCell(cell(d, policyTitle))).join(','));
  return `\uFEFF${rows.join('\r\n')}\r\n`;
}
