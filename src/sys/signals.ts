import { constants } from 'node:os';

/** Signal names and numbers, normalised once at the boundary. */

const byNumber = new Map<number, NodeJS.Signals>();
for (const [name, number] of Object.entries(constants.signals)) {
  // SIGIOT and SIGPOLL share numbers with SIGABRT and SIGIO; keep the common name.
  if (!byNumber.has(number)) byNumber.set(number, name as NodeJS.Signals);
}

/** glibc's first real-time signal (the kernel's 32 and 33 are its own), and the last. */
const SIGRTMIN = 34;
const SIGRTMAX = 64;

/** A number, or one of the names terminationSignalName gives signals Node has none for. */
export function signalNumber(signal: NodeJS.Signals): number {
  const known = constants.signals[signal] as number | undefined;
  if (known !== undefined) return known;
  const realTime = /^SIGRT(MIN|MAX)(?:([+-])(\d+))?$/.exec(signal);
  if (realTime !== null) {
    const offset = Number(realTime[3] ?? 0) * (realTime[2] === '-' ? -1 : 1);
    return (realTime[1] === 'MIN' ? SIGRTMIN : SIGRTMAX) + offset;
  }
  return Number(/^SIG(\d+)$/.exec(signal)?.[1] ?? Number.NaN);
}

/**
 * The name of the signal that ended a process, real-time ones included, for which Node has no
 * names: SIGRTMIN+6 for 40, as bash's kill -l names them (SIG32 and SIG33, glibc's own). Only
 * ever reported, or turned back into its number (a finish script's second argument, 128 + N):
 * never sent by name.
 */
export function terminationSignalName(number: number): NodeJS.Signals {
  const known = byNumber.get(number);
  if (known !== undefined) return known;
  if (number < SIGRTMIN || number > SIGRTMAX) return `SIG${number}` as NodeJS.Signals;
  const fromMin = number - SIGRTMIN;
  const toMax = SIGRTMAX - number;
  const name = fromMin === 0 ? 'SIGRTMIN' : toMax === 0 ? 'SIGRTMAX' : fromMin <= 15 ? `SIGRTMIN+${fromMin}` : `SIGRTMAX-${toMax}`;
  return name as NodeJS.Signals;
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

/** What to do when the kernel refuses a signal to a process of the container. */
export const SIGNAL_PERMISSION_HINT =
  'Without the KILL capability Steward may signal only processes of its own user: keep CAP_KILL (Kubernetes: securityContext.capabilities.add: ["KILL"]; Docker: do not drop it, or --cap-add KILL), or run the service as the user Steward runs as';

/** What became of a signal: delivered, no such process, or not permitted (EPERM). */
export type SignalOutcome = 'sent' | 'gone' | 'refused';

/**
 * Sends a signal (0 checks only that it could be sent). EPERM is an outcome, not an error: a
 * container without the KILL capability may not signal a service running as another user,
 * and s6-supervise goes on as if its kill() had worked; PID 1 must not fall over it.
 */
export function trySignal(pid: number, signal: NodeJS.Signals | 0): SignalOutcome {
  try {
    process.kill(pid, signal);
    return 'sent';
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ESRCH') return 'gone';
    if (code === 'EPERM') return 'refused';
    throw error;
  }
}

let onRefused: ((pid: number, signal: NodeJS.Signals) => void) | undefined;

/** Who hears of a signal the kernel refused (one listener: PID 1 says it once per process). */
export function setSignalRefusedListener(listener: (pid: number, signal: NodeJS.Signals) => void): void {
  onRefused = listener;
}

/** Sends a signal; false when the process is gone (the outcome the caller wanted anyway) or may not be signalled. */
export function sendSignal(pid: number, signal: NodeJS.Signals): boolean {
  const outcome = trySignal(pid, signal);
  if (outcome === 'refused') onRefused?.(pid, signal);
  return outcome === 'sent';
}
