/**
 * Reports that come after the step they belong to has moved on: the looks at run scripts, made
 * once the boot's starts have settled, which neither the stage nor the CMD waits for. The
 * container's last lines wait for them, so that what they say is not lost to a quick stop (a
 * CMD that ends at once).
 */
export class LateReports {
  readonly #pending = new Set<Promise<unknown>>();

  /** Keeps `report` until it settles. */
  add(report: Promise<unknown>): void {
    this.#pending.add(report);
    report.then(
      () => this.#pending.delete(report),
      () => this.#pending.delete(report),
    );
  }

  /** Resolves once every report added so far, and any added meanwhile, has settled. */
  async settled(): Promise<void> {
    while (this.#pending.size > 0) await Promise.allSettled([...this.#pending]);
  }
}
