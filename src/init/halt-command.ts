import { join } from 'node:path';

import { packageRoot } from '../util/package-root.js';

export type HaltScriptAction = 'halt' | 'poweroff' | 'reboot';

/** The signal each asks with when the control socket cannot be reached, as s6-overlay's PID 1 takes them. */
const FALLBACK_SIGNALS: Record<HaltScriptAction, string> = { halt: 'USR2', poweroff: 'USR1', reboot: 'INT' };

/**
 * The text of /run/s6/basedir/bin/halt (and poweroff, reboot, each its own action, which the
 * haltcode file tells): ask Steward through the control socket, so it works even when
 * S6_CMD_RECEIVE_SIGNALS hands signals to the CMD; a signal is the fallback when the socket
 * cannot be reached. In JavaScript where the image has no /bin/sh (a distroless one).
 */
export function haltCommand(hasShell: boolean): (stewardPid: number, exitCodeFile: string, action: HaltScriptAction) => string {
  const cli = join(packageRoot(), 'bin', 'steward');
  const header = (comment: string, stewardPid: number, exitCodeFile: string): string =>
    `${comment} Asks Steward (pid ${stewardPid}) to stop the container; the exit code is read from\n${comment} ${exitCodeFile}.\n`;
  if (!hasShell) {
    // As the sh one: Steward's CLI without the application's NODE_OPTIONS (this script's own
    // Node has them: nothing runs before Node applies them), 7 taken as done, SIGUSR2 else.
    return (stewardPid, exitCodeFile, action) =>
      [
        `#!${process.execPath}`,
        `${header('//', stewardPid, exitCodeFile).trimEnd()}`,
        '// In JavaScript: this image has no /bin/sh.',
        "process.once('SIGTERM', () => process.exit(0));",
        "const { spawnSync } = require('node:child_process');",
        `const { status, stderr } = spawnSync(process.execPath, [${JSON.stringify(cli)}, '${action}'], { stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, NODE_OPTIONS: '' } });`,
        'if (status === 0 || status === 7) process.exit(0);',
        `try { process.kill(${stewardPid}, 'SIG${FALLBACK_SIGNALS[action]}'); } catch { process.stderr.write(stderr ?? ''); process.exit(1); }`,
        '',
      ].join('\n');
  }
  // The shutdown ends with a TERM to every process: not a failure of this one, which asked for it.
  // 7 was the answer of older Stewards when the container was stopping already (finish scripts of
  // Frigate's call halt at every exit), which is what halt asks for: no signal then, and no line.
  // Steward's Node, not the application's: without its NODE_OPTIONS (an --inspect would fail it).
  // Where neither the socket nor the signal may be used (docker exec -u nobody), Steward's own
  // message says why and what to do, not kill's "Operation not permitted".
  // `2>&1 >/dev/null`, in that order: the CLI's stderr into $why, its stdout away.
  return (stewardPid, exitCodeFile, action) =>
    [
      '#!/bin/sh',
      `${header('#', stewardPid, exitCodeFile).trimEnd()}`,
      "trap '' TERM",
      `why=$(NODE_OPTIONS= "${process.execPath}" "${cli}" ${action} 2>&1 >/dev/null); status=$?`,
      '[ "$status" -eq 0 ] || [ "$status" -eq 7 ] && exit 0',
      `kill -${FALLBACK_SIGNALS[action]} ${stewardPid} 2>/dev/null && exit 0`,
      `printf '%s\\n' "$why" >&2`,
      'exit 1',
      '',
    ].join('\n');
}
