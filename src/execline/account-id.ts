/**
 * The largest uid or gid: they are 32-bit unsigned numbers, and the largest of those,
 * 4294967295, is (uid_t)-1, which setresuid (and setpriv) read as "leave it as it is".
 */
export const MAX_ACCOUNT_ID = 4_294_967_294;

/**
 * A uid or gid written as a number, or undefined when it is not one: more digits than a uid
 * holds are refused, as s6's do, rather than wrapped round (4294967296 became 0, and the
 * program ran as root where a privilege drop was asked for).
 */
export function parseAccountId(text: string): number | undefined {
  if (!/^\d+$/.test(text)) return undefined;
  const id = Number(text);
  return id <= MAX_ACCOUNT_ID ? id : undefined;
}
