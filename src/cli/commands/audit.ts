import { CommandFailed, type Command } from '../io.ts';

/** Not built yet. */
export const verify: Command = async () => {
  throw new CommandFailed('not implemented yet');
};
