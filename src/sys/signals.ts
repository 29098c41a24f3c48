import { constants } from 'node:os';

/** Signal names and numbers, normalised once at the boundary. */

const byNumber = new Map<number, NodeJS.Signals>();
for (const [name, number] of Object.entries(constants.signals)) {
  // SIGIOT and SIGPOLL share numbers with SIGABRT and SIGIO; keep the common name.
  if (!byNumber.has(number)) byNumber.set(number, name as NodeJS.Signals);
}

export function signalNumber(signal: NodeJS.Signals): number {
  return constants.signals[signal];
}

export function signalName(number: number): NodeJS.Signals | undefined {
  return byNumber.get(number);
}

/** Accepts "TERM", "SIGTERM", "sigterm" or "15"; returns undefined for anything else. */
export function parseSignal(text: string): NodeJS.Signals | undefined {
  const word = text.trim();
  if (/^\d+$/.test(word)) return signalName(Number(word));
  const upper = word.toUpperCase();
  const name = upper.startsWith('SIG') ? upper : `SIG${upper}`;
  return name in constants.signals ? (name as NodeJS.Signals) : undefined;
}

/** Sends a signal, treating "no such process" as already done. */
export function sendSignal(pid: number, signal: NodeJS.Signals): boolean {
  try {
    process.kill(pid, signal);
    return true;
  } catch (error) {
    // ESRCH: the process already exited; that is the outcome the caller wanted anyway.
    if ((error as NodeJS.ErrnoException).code === 'ESRCH') return false;
    throw error;
  }
}
