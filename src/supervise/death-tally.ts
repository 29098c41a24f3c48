/**
 * The last deaths of a service's run process, as s6-supervise keeps them in
 * supervise/death_tally: for s6-svdt, s6-svdt-clear and s6-permafailon, which read them to
 * tell a crash loop in a finish script. Bounded by max-death-tally (0 keeps none).
 */
export interface Death {
  /** When it died, epoch milliseconds. */
  readonly at: number;
  /** The exit code, or null when a signal killed it. */
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
}

export class DeathTally {
  #deaths: Death[] = [];

  constructor(private readonly keep: number) {}

  record(death: Death): void {
    if (this.keep === 0) return;
    this.#deaths.push(death);
    if (this.#deaths.length > this.keep) this.#deaths.splice(0, this.#deaths.length - this.keep);
  }

  /** Oldest first. */
  get entries(): readonly Death[] {
    return this.#deaths;
  }

  clear(): void {
    this.#deaths = [];
  }
}
