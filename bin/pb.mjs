#!/usr/bin/env node
// Entry point of the `pb` command: registers the TypeScript loader, then runs the CLI.
import { register } from 'tsx/esm/api';

register();
// A command prints its own results: the engine's log lines (a rejected event is a WARN line, and is
// also in the command's output) only when asked for with POWERTOOLS_LOG_LEVEL.
process.env.POWERTOOLS_LOG_LEVEL ??= 'ERROR';
const { main } = await import('../src/cli/main.ts');
process.exitCode = await main(process.argv.slice(2), undefined, { lockPrototype: true });
