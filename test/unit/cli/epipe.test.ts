import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { RULES } from './run.ts';

const PB = new URL('../../../bin/pb.mjs', import.meta.url).pathname;
const work = mkdtempSync(join(tmpdir(), 'pb-epipe-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

/** Runs `pb …` as a child process and closes its stdout after the first chunk (`| head -1`). */
function runClosingStdout(argv: string[]): Promise<{ code: number | null; stderr: string; got: number }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [PB, ...argv], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    let got = 0;
    child.stderr.setEncoding('utf8').on('data', (t: string) => {
      stderr += t;
    });
    child.stdout.once('data', (chunk: Buffer) => {
      got = chunk.length;
      child.stdout.destroy();
    });
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stderr, got }));
  });
}

describe('A closed stdout pipe (pb … | head -1)', () => {
  it('ends pb quietly: no stack trace, exit 0', { timeout: 30_000 }, async () => {
    // Prepare: enough output to fill the pipe many times over.
    const line = JSON.stringify({
      subject: 'e',
      kind: 'enterprise',
      facts: { enterpriseType: 'company', taxableIncome: { '2025': 300000000 } },
    });
    const profiles = join(work, 'big.jsonl');
    writeFileSync(profiles, `${Array(3000).fill(line).join('\n')}\n`);
    // Act
    const r = await runClosingStdout([
      'evaluate',
      '--profiles',
      profiles,
      '--period',
      '2025',
      '--rules',
      RULES,
    ]);
    // Assess
    expect(r.got).toBeGreaterThan(0);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
  });
});
