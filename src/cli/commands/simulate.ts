import { CommandFailed, type Command } from '../io.ts';

/** Not built yet. */
export const simulate: Command = async () => {
  throw new CommandFailed('not implemented yet');
};
