import { createInterface } from 'node:readline';
import { loadConfig } from '../../config.ts';
import { secretPseudonymKey } from '../../runtime/pseudonym-secret.ts';
import { isValidCreditCode, isValidPersonId } from '../../domain/identity.ts';
import { pseudonymise } from '../../domain/pseudonym.ts';
import { type Command, parseOptions } from '../io.ts';

async function* stdinLines(): AsyncGenerator<string> {
  for await (const line of createInterface({ input: process.stdin, crlfDelay: Number.POSITIVE_INFINITY })) {
    yield line;
  }
}

/**
 * `pb pseudonym [--] [ID …]`: prints `ID<TAB>pseudonym` for each identity number given, or for each
 * line of stdin. An invalid one is named on stderr and makes the exit code 1; the rest still print.
 * The command has no options: an argument starting with `-` is an unknown option (exit 2), except a
 * lone `--`, after which every argument is an identifier.
 */
export const pseudonym: Command = async (args, io) => {
  const { positionals } = parseOptions(args, {}, true);
  const ids: Iterable<string> | AsyncIterable<string> = positionals.length > 0 ? positionals : stdinLines();
  const key = (await secretPseudonymKey()) ?? loadConfig().pseudonymKey();
  let failed = false;
  for await (const raw of ids) {
    const id = raw.trim();
    if (id === '' && positionals.length === 0) continue;
    if (!isValidPersonId(id) && !isValidCreditCode(id)) {
      io.err(`pb pseudonym: '${id}' is not a valid resident identity number or unified social credit code`);
      failed = true;
      continue;
    }
    io.out(`${id}\t${pseudonymise(key, id)}`);
  }
  return failed ? 1 : 0;
};
