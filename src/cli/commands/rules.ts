import { readRulesDir, runRuleTests } from '../../domain/rules/index.ts';
import { dirLabel, type Problem } from '../../domain/rules/validate.ts';
import { type Command, type Io, parseOptions, rulesDirOption } from '../io.ts';

const problems = (n: number): string => `${n} problem${n === 1 ? '' : 's'}`;

/** Warnings (a policy without test cases) go to stderr, as other commands' do, and never change the exit code. */
function warn(io: Io, command: string, warnings: readonly Problem[]): void {
  for (const w of warnings) io.err(`pb rules ${command}: warning: ${w.text}`);
}

/**
 * `pb rules validate [--dir rules]`: one line per problem (`rules/<file>: <json-path>: <message>`)
 * on stderr and nothing else there but warnings, and exit 1; or a one-line summary naming the
 * directory on stdout and exit 0. Warnings go to stderr.
 */
export const validate: Command = async (args, io) => {
  const { values } = parseOptions(args, { dir: { type: 'string' } });
  const dir = rulesDirOption(values.dir);
  const label = dirLabel(dir);
  const content = readRulesDir(dir);
  // Problems are errors: on stderr, one line each and no other line (cli.md), as are warnings.
  for (const p of content.problems) io.err(p.text);
  warn(io, 'validate', content.warnings);
  if (content.problems.length) return 1;
  const cases = [...content.tests.values()].reduce((n, t) => n + t.cases.length, 0);
  io.out(
    `${label}: ${content.policies.length} policies, ${content.params.size} parameters, ${cases} test cases: ok`,
  );
  return 0;
};

/**
 * `pb rules test [--dir rules]`: runs every `<policy>.test.json` against the reference evaluator;
 * one line per failure with its difference, then a line naming the directory, and last exactly
 * `N passed, N failed`. Rules that do not validate run no test: their problems (on stderr), then
 * a line saying so, then `0 passed, 0 failed`.
 */
export const test: Command = async (args, io) => {
  const { values } = parseOptions(args, { dir: { type: 'string' } });
  const dir = rulesDirOption(values.dir);
  const label = dirLabel(dir);
  const report = await runRuleTests(dir);
  for (const p of report.problems) io.err(p.text);
  warn(io, 'test', report.warnings);
  for (const f of report.failures) io.out(f.text);
  if (report.problems.length) {
    io.out(
      `no test ran: the rules in ${label} have ${problems(report.problems.length)} (see above; pb rules validate lists them too)`,
    );
  } else {
    const cases = report.passed + report.failed;
    io.out(`${label}: ${cases} test cases in ${report.files} files`);
  }
  io.out(`${report.passed} passed, ${report.failed} failed`);
  return report.failed > 0 || report.problems.length > 0 ? 1 : 0;
};
