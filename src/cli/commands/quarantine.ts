import { CommandFailed, type Command } from '../io.ts';

/** Not built yet. */
export const list: Command = async () => {
  throw new CommandFailed('not implemented yet');
};

/** Not built yet. */
export const replay: Command = async () => {
  throw new CommandFailed('not implemented yet');
};
