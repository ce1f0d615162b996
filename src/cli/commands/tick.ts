import { CommandFailed, type Command } from '../io.ts';

/** Not built yet. */
export const tick: Command = async () => {
  throw new CommandFailed('not implemented yet');
};
