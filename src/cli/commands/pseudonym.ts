import { CommandFailed, type Command } from '../io.ts';

/** Not built yet. */
export const pseudonym: Command = async () => {
  throw new CommandFailed('not implemented yet');
};
