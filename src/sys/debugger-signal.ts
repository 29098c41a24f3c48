/**
 * For Steward's commands other than PID 1 (execlineb, the s6 commands, the CLI): SIGUSR1 back
 * to its default action, which ends the process, as it ends skarnet's programs, rather than
 * open Node's debugger on a port, which is what Node does with it otherwise (an `s6-svc -1`
 * sent while execlineb waited for a `foreground` block opened one). The default action ends
 * the process at once, even in a blocking wait, and its parent sees it killed by SIGUSR1.
 * Listening and no longer listening does it: libuv takes the signal over from Node's debugger
 * and, once no listener is left, puts the default action back. A listener added later
 * (execline's trap) works as any other. A SIGUSR1 before Node runs this still opens the debugger.
 */
export function defaultDebuggerSignal(): void {
  const listener = (): void => undefined;
  process.on('SIGUSR1', listener);
  process.off('SIGUSR1', listener);
}
