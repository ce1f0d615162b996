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
 * Facts of input profiles that no rule can read, so the evaluators ignore them: names outside the
 * fact catalogue (a misspelling such as `hukouRegon`) and facts of the other subject kind
 * (`taxableIncome` on a person). `pb evaluate` and `pb simulate` note every profile and, at the end
 * of the run, print one warning per distinct problem with its first line and the lines it occurs on.
 */
export class IgnoredFacts {
  private readonly seen = new Map<string, Seen>();
  private unlisted = 0;

  /** Notes the facts of the profile on input line `line`. */
  note(kind: SubjectKind, facts: object, line: number): void {
    for (const name in facts) {
      if (!Object.hasOwn(facts, name)) continue;
      const d = factDefinition(name);
      if (d !== undefined && d.subjectKind === kind) continue;
      const key = d === undefined ? `?${name}` : `${kind}:${name}`;
      const s = this.seen.get(key);
      if (s !== undefined) s.lines += 1;
      else if (this.seen.size >= MAX_LISTED) this.unlisted += 1;
      else {
        const text =
          d === undefined
            ? `unknown fact '${name}' ignored`
            : `${d.subjectKind} fact '${name}' ignored on ${kind === 'enterprise' ? 'an' : 'a'} ${kind}`;
        this.seen.set(key, { text, first: line, lines: 1 });
      }
    }
  }

  /** One line per distinct problem, in the order they first occur: `pb <command>: warning: …`. */
  warnings(command: string): string[] {
    const out = [...this.seen.values()].map(
      (s) =>
        `pb ${command}: warning: line ${s.first}: ${s.text} (${s.lines} line${s.lines === 1 ? '' : 's'})`,
    );
    if (this.unlisted > 0)
      out.push(`pb ${command}: warning: ${this.unlisted} more ignored facts of other names not listed`);
    return out;
  }
}
