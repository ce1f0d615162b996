import { factDefinition } from '../domain/facts/catalogue.ts';
import type { SubjectKind } from '../domain/types.ts';

/** Distinct problems listed one a line; past this many, one line counts the rest. */
const MAX_LISTED = 50;

interface Seen {
  text: string;
  first: number;
  lines: number;
}

/**
 * What the evaluators do not read as written in input profiles: facts no rule can read, so they are
 * ignored (names outside the fact catalogue, such as a misspelt `hukouRegon`, and facts of the other
 * subject kind, `taxableIncome` on a person), and fact values that do not fit the catalogue (a
 * disability level 5, a date that is no date), read as unknown. `pb evaluate` and `pb simulate`
 * note every profile and, at the end of the run, print one warning per distinct problem with its
 * first line and the number of lines it occurs on.
 */
export class FactWarnings {
  private readonly seen = new Map<string, Seen>();
  private unlisted = 0;

  /** Notes the facts of the profile on input line `line`. */
  note(kind: SubjectKind, facts: object, line: number): void {
    for (const name in facts) {
      if (!Object.hasOwn(facts, name)) continue;
      const d = factDefinition(name);
      if (d !== undefined && d.subjectKind === kind) continue;
      if (d === undefined) this.add(`?${name}`, `unknown fact '${name}' ignored`, line);
      else {
        const on = `${kind === 'enterprise' ? 'an' : 'a'} ${kind}`;
        this.add(`${kind}:${name}`, `${d.subjectKind} fact '${name}' ignored on ${on}`, line);
      }
    }
  }

  /** Notes the malformed fact values (`ParsedProfile.problems`) of input line `line`. */
  malformed(problems: readonly string[], line: number): void {
    for (const p of problems) this.add(`!${p}`, `${p}: read as unknown`, line);
  }

  private add(key: string, text: string, line: number): void {
    const s = this.seen.get(key);
    if (s !== undefined) s.lines += 1;
    else if (this.seen.size >= MAX_LISTED) this.unlisted += 1;
    else this.seen.set(key, { text, first: line, lines: 1 });
  }

  /** One line per distinct problem, in the order they first occur: `pb <command>: warning: …`. */
  warnings(command: string): string[] {
    const out = [...this.seen.values()].map(
      (s) =>
        `pb ${command}: warning: line ${s.first}: ${s.text} (${s.lines} line${s.lines === 1 ? '' : 's'})`,
    );
    if (this.unlisted > 0)
      out.push(`pb ${command}: warning: ${this.unlisted} more occurrences of other problems not listed`);
    return out;
  }
}
