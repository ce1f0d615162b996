import { CommandFailed, type Command } from '../io.ts';

/** Not built yet. */
export const validate: Command = async () => {
  throw new CommandFailed('not implemented yet');
};

/** Not built yet. */
export const test: Command = async () => {
  throw new CommandFailed('not implemented yet');
};
