// Broken input of a refresh job: every document that could not be read or used is said on stderr
// with its file, line and reason (the first ones in full, then a count), and counted in the
// job's notes. Bad input is normal; losing it silently is not.

/** How many broken documents are said one by one before only counting. */
const SAID_IN_FULL = 20;

export class BrokenInput {
  count = 0;

  constructor(
    private readonly say: (msg: string) => void,
    private readonly what: string,
  ) {}

  /** One broken document: `where` is `file:line`. */
  report(where: string, reason: string): void {
    this.count++;
    if (this.count <= SAID_IN_FULL) this.say(`${where}: ${reason}`);
    else if (this.count === SAID_IN_FULL + 1) this.say(`more ${this.what} that cannot be used follow; only their count is said`);
  }

  /** The note for the job's result, if anything was broken. */
  notes(): string[] {
    if (this.count === 0) return [];
    const shown = Math.min(this.count, SAID_IN_FULL);
    return [`${this.count} ${this.what} left out, unreadable or unusable (${shown} listed above with file, line and reason)`];
  }
}
