/**
 * A loaded, validated set of policies and parameters: what the evaluators run and what every
 * decision names by content hash.
 */
import type { Parameter, Policy } from './model.ts';
import { readRulesDir } from './validate.ts';

/** Every policy and parameter of a rules directory, validated. */
export interface PolicySet {
  /** Policies in id order. */
  policies: Policy[];
  /** Parameters by name. */
  params: ReadonlyMap<string, Parameter>;
  /** sha256 (hex) over the canonical JSON of every rule and parameter file. */
  contentHash: string;
}

/**
 * Reads and validates a rules directory synchronously. Throws an Error whose message holds one
 * line per problem (`rules/<file>: <json-path>: <message>`) when anything is invalid.
 */
export function loadPolicySet(dir: string): PolicySet {
  const content = readRulesDir(dir);
  if (content.problems.length) {
    throw new Error(content.problems.map((p) => p.text).join('\n'));
  }
  return { policies: content.policies, params: content.params, contentHash: content.contentHash };
}
