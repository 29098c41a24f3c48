/** "1 error", "2 errors": a count with its noun, for the lines people read. */
export function counted(count: number, singular: string, plural = `${singular}s`): string {
  return `${count} ${count === 1 ? singular : plural}`;
}
