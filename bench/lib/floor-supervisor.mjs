// The floor of restart latency on the machine at hand: a bare C loop that starts the run
// script with posix_spawn and waits for it with waitpid, as PID 1, with no supervision logic
// at all. What it takes from a kill to the run script's announcement is the kernel's share
// (the killed process's teardown, the signal, vfork and exec) and /bin/sh's own start; any
// supervisor pays that too. Compiled with the machine's C compiler when there is one.

import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { baseEnv } from './peers.mjs';

const SOURCE = `#include <spawn.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>
extern char **environ;
static void leave(int signal) { (void)signal; _exit(0); }
int main(int argc, char **argv) {
  if (argc != 2) return 100;
  signal(SIGTERM, leave); /* PID 1 has no default action for it */
  for (;;) {
    pid_t pid;
    char *args[] = { argv[1], 0 };
    if (posix_spawn(&pid, argv[1], 0, 0, args, environ) != 0) return 111;
    int status;
    while (waitpid(-1, &status, 0) != pid) {}
  }
}
`;

/** Builds the loop under `dir`: its peer (for lib/instance.mjs), or why it cannot be built. */
export function floorSupervisor(dir) {
  const source = path.join(dir, 'floor.c');
  const binary = path.join(dir, 'floor');
  fs.writeFileSync(source, SOURCE);
  try {
    execFileSync('cc', ['-O2', '-o', binary, source], { stdio: 'pipe' });
  } catch (error) {
    return { error: `no C compiler to build the floor loop (${error.code ?? error.message})` };
  }
  return {
    peer: {
      id: 'floor',
      argv: (layout) => [binary, path.join(layout.services, layout.names[0], 'run')],
      env: () => baseEnv(),
    },
  };
}
