import { CommandFailed, type Command } from '../io.ts';

/** Not built yet. */
export const evaluate: Command = async () => {
  throw new CommandFailed('not implemented yet');
};
