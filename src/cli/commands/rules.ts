import { type Command, parseOptions, requireDir } from '../io.ts';
import { readRulesDir, runRuleTests } from '../../domain/rules/index.ts';

const problems = (n: number): string => `${n} problem${n === 1 ? '' : 's'}`;

/**
 * `pb rules validate [--dir rules]`: one line per problem (`rules/<file>: <json-path>: <message>`)
 * and exit 1, or a one-line summary and exit 0. A `--dir` that is not a directory is bad usage.
 */
export const validate: Command = async (args, io) => {
  const { values } = parseOptions(args, { dir: { type: 'string', default: 'rules' } });
  const dir = requireDir('dir', values.dir ?? 'rules');
  const content = readRulesDir(dir);
  for (const p of content.problems) io.out(p.text);
  if (content.problems.length) {
    io.err(`${problems(content.problems.length)} in ${dir}`);
    return 1;
  }
  const cases = [...content.tests.values()].reduce((n, t) => n + t.cases.length, 0);
  io.out(`${content.policies.length} policies, ${content.params.size} parameters, ${cases} test cases: ok`);
  return 0;
};

/**
 * `pb rules test [--dir rules]`: runs every `<policy>.test.json` against the reference evaluator;
 * one line per failure with its difference; the last line is exactly `N passed, N failed`. Rules
 * that do not validate run no test: their problems, then a line saying so, then `0 passed, 0 failed`.
 */
export const test: Command = async (args, io) => {
  const { values } = parseOptions(args, { dir: { type: 'string', default: 'rules' } });
  const report = await runRuleTests(requireDir('dir', values.dir ?? 'rules'));
  for (const p of report.problems) io.out(p.text);
  for (const f of report.failures) io.out(`FAIL ${f.file} [${f.index}] ${f.name}: ${f.diff.join('; ')}`);
  if (report.problems.length) {
    io.out(
      `no test ran: the rules have ${problems(report.problems.length)} (see above; pb rules validate lists them too)`,
    );
  }
  io.out(`${report.passed} passed, ${report.failed} failed`);
  return report.failed > 0 || report.problems.length > 0 ? 1 : 0;
};
