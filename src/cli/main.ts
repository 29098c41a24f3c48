import { errorMessage, StewardError } from '../errors.js';
import { nearest } from '../util/nearest.js';
import { VERSION } from '../version.js';
import { checkCommand } from './commands/check.js';
import { graphCommand } from './commands/graph.js';
import { haltCommands } from './commands/halt.js';
import { installCommand } from './commands/install.js';
import { readyCommand } from './commands/ready.js';
import { onceCommand, restartCommand, startCommand, stopCommand } from './commands/lifecycle.js';
import { signalCommand } from './commands/signal.js';
import { statusCommand } from './commands/status.js';
import { waitCommand } from './commands/wait.js';
import type { Command } from './command.js';
import { EXIT, exitCodeFor } from './exit-codes.js';
import { outputFailed, writeErr, writeOut } from './output.js';

const commands: readonly Command[] = [
  statusCommand,
  startCommand,
  stopCommand,
  restartCommand,
  onceCommand,
  signalCommand,
  waitCommand,
  readyCommand,
  graphCommand,
  ...haltCommands,
  checkCommand,
  installCommand,
];

function usage(): string {
  const lines = [
    `steward ${VERSION}: container init and process supervisor`,
    '',
    'Usage: steward <command> [options]',
    '',
    'Commands:',
    // A usage longer than the column gets its summary on the next line, under the others'.
    ...commands.map((command) => (command.usage.length <= 34 ? `  ${command.usage.padEnd(34)} ${command.summary}` : `  ${command.usage}\n  ${''.padEnd(34)} ${command.summary}`)),
    '',
    'Options:',
    '  --help, -h                         show this help',
    '  --version, -V                      print the version',
    '',
    'The container entrypoint is steward-init (link it as /init).',
  ];
  return `${lines.join('\n')}\n`;
}

async function main(argv: readonly string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    writeOut(usage());
    return name === undefined ? 2 : 0;
  }
  if (name === '--version' || name === '-V') {
    writeOut(`${VERSION}\n`);
    return 0;
  }
  const command = commands.find((candidate) => candidate.name === name);
  if (command === undefined) {
    const suggestion = nearest(name, commands.map((candidate) => candidate.name));
    writeErr(`steward: unknown command ${JSON.stringify(name)}${suggestion === undefined ? '' : `; did you mean ${suggestion}?`}${suggestion === undefined ? '.' : ''} Run steward --help for the list\n`);
    return EXIT.usage;
  }
  if (rest.includes('--help') || rest.includes('-h')) {
    writeOut(`Usage: steward ${command.usage}\n\n${command.help}\n`);
    return 0;
  }
  return command.run(rest);
}

main(process.argv.slice(2)).then(
  (code) => {
    const failure = outputFailed();
    if (failure !== undefined && code === 0) {
      writeErr(`steward: cannot write the output: ${failure}\n`);
      process.exitCode = EXIT.failed;
      return;
    }
    process.exitCode = code;
  },
  (error: unknown) => {
    const message = errorMessage(error);
    // Most messages already name the command ("steward halt: ..."); the others get the program's name.
    writeErr(message.startsWith('steward ') ? `${message}\n` : `steward: ${message}\n`);
    process.exitCode = error instanceof StewardError ? exitCodeFor(error.code) : EXIT.failed;
  },
);
