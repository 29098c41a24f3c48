import type { Command } from './command.js';
import { childCommands } from './commands/children.js';
import { descriptorCommands } from './commands/descriptors.js';
import { dispatchCommands } from './commands/dispatch.js';
import { testCommands } from './commands/eltest.js';
import { environmentCommands } from './commands/environment.js';
import { flowCommands } from './commands/flow.js';
import { getoptCommands } from './commands/getopt.js';
import { identityCommands } from './commands/identity.js';
import { inputCommands } from './commands/input.js';
import { limitCommands } from './commands/limits.js';
import { lockCommands } from './commands/lock.js';
import { lookupCommands } from './commands/lookup.js';
import { loopCommands } from './commands/loops.js';
import { positionalCommands } from './commands/positionals.js';
import { processCommands } from './commands/process.js';
import { runblockCommands } from './commands/runblock.js';

/** Every command the interpreter runs itself, by name. */
export const BUILTIN_COMMANDS: ReadonlyMap<string, Command> = new Map([
  ...flowCommands, ...environmentCommands, ...processCommands, ...identityCommands, ...lockCommands, ...limitCommands, ...testCommands,
  ...loopCommands, ...inputCommands, ...positionalCommands, ...lookupCommands, ...childCommands, ...dispatchCommands,
  ...getoptCommands, ...runblockCommands, ...descriptorCommands,
]);
