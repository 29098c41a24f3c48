import { realpathSync } from 'node:fs';
import { basename } from 'node:path';

import { errorMessage } from '../../errors.js';
import { execlineb, EXECLINEB_USAGE, execlineProgram } from '../../execline/main.js';
import { EXECLINE_PROGRAMS, OVERLAY_CHAIN_PROGRAMS, S6_CHAIN_PROGRAMS } from '../../model/program-names.js';
import { S6_EXIT } from './call.js';
import { permafailon, PERMAFAILON_USAGE, s6svdt, s6svdtClear, SVDT_CLEAR_USAGE, SVDT_USAGE } from './deaths.js';
import { UsageError } from './getopt.js';
import { s6rc, USAGE as RC_USAGE } from './rc.js';
import { s6svc, USAGE as SVC_USAGE } from './svc.js';
import { s6svok, USAGE as SVOK_USAGE } from './svok.js';
import { s6svscanctl, USAGE as SVSCANCTL_USAGE } from './svscanctl.js';
import { s6svstat, USAGE as SVSTAT_USAGE } from './svstat.js';
import { s6svwait, USAGE as SVWAIT_USAGE } from './svwait.js';
import { maximumTime, MAXIMUMTIME_USAGE, withRetries, WITH_RETRIES_USAGE } from './time-limit.js';
import { writeErr } from '../output.js';

/**
 * The s6 commands images call, as one entry point chosen by the name it is run as
 * (/command/s6-svc is a link to it), each a client of Steward's control socket.
 */
const tools: Record<string, { run: (args: readonly string[]) => Promise<number>; usage: string }> = {
  's6-svc': { run: s6svc, usage: SVC_USAGE },
  's6-svstat': { run: (args) => s6svstat(args), usage: SVSTAT_USAGE },
  's6-svwait': { run: s6svwait, usage: SVWAIT_USAGE },
  's6-svok': { run: s6svok, usage: SVOK_USAGE },
  's6-svscanctl': { run: s6svscanctl, usage: SVSCANCTL_USAGE },
  's6-rc': { run: s6rc, usage: RC_USAGE },
  's6-svdt': { run: s6svdt, usage: SVDT_USAGE },
  's6-svdt-clear': { run: s6svdtClear, usage: SVDT_CLEAR_USAGE },
  's6-permafailon': {
    async run(args) {
      const decision = await permafailon(args);
      return 'exit' in decision ? decision.exit : execlineProgram('exec', ['--', ...decision.prog], selfCommand());
    },
    usage: PERMAFAILON_USAGE,
  },
  // Linked in /command under their names: a time limit to the millisecond whatever `timeout` the image has.
  's6-maximumtime': { run: maximumTime, usage: MAXIMUMTIME_USAGE },
  'with-retries': { run: withRetries, usage: WITH_RETRIES_USAGE },
  // Not a client: an interpreter for execline scripts, for images without s6-overlay's.
  execlineb: { run: (args) => Promise.resolve(execlineb(args, selfCommand())), usage: EXECLINEB_USAGE },
  // execline's chain-loading commands run as programs; s6-setuidgid is the shell command's
  // fallback when the image has no setpriv, su-exec or gosu.
  // redirfd is a shell command in /command; with -n or -b (non-blocking opens of fifos, which
  // a shell cannot do) it hands over to this one.
  ...Object.fromEntries(
    [...EXECLINE_PROGRAMS, ...S6_CHAIN_PROGRAMS, ...OVERLAY_CHAIN_PROGRAMS, 's6-setuidgid', 'redirfd'].map((name) => [name, { run: (args: readonly string[]) => Promise.resolve(execlineProgram(name, args, selfCommand())), usage: `${name} ... prog...` }]),
  ),
};

/** How to run execlineb again, for a block that needs a process of its own: this file, by its own name. */
function selfCommand(): string[] {
  let script = process.argv[1] ?? '';
  try {
    script = realpathSync(script);
  } catch {
    // Run by a path that is gone: as it was called.
  }
  return basename(script) === 'execlineb' ? [process.execPath, script] : [process.execPath, script, 'execlineb'];
}

async function main(): Promise<number> {
  const name = basename(process.argv[1] ?? '');
  const tool = tools[name] ?? (name === 's6-tool' ? tools[process.argv[2] ?? ''] : undefined);
  const args = tools[name] === undefined ? process.argv.slice(3) : process.argv.slice(2);
  if (tool === undefined) {
    writeErr(`s6-tool: run me as one of ${Object.keys(tools).join(', ')} (a link), or as: s6-tool s6-svc ARGS\n`);
    return S6_EXIT.usage;
  }
  const prog = tools[name] === undefined ? (process.argv[2] ?? '') : name;
  try {
    return await tool.run(args);
  } catch (error) {
    if (error instanceof UsageError) {
      writeErr(`${prog}: usage: ${tool.usage}\n${prog}: ${errorMessage(error)}\n`);
      return S6_EXIT.usage;
    }
    writeErr(`${prog}: fatal: ${errorMessage(error)}\n`);
    return S6_EXIT.system;
  }
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    writeErr(`s6: fatal: ${errorMessage(error)}\n`);
    process.exitCode = S6_EXIT.system;
  },
);
