// Broken input of a refresh job: every document that could not be read or used is said on stderr
// with its file, line and reason (the first ones in full, then a count), and counted in the
// job's notes. Bad input is normal; losing it silently is not.
import { CappedReport } from '../io/capped-report.js';

export class BrokenInput {
  private readonly said: CappedReport;

  constructor(say: (msg: string) => void, private readonly what: string) {
    this.said = new CappedReport(say, { whenCapped: `more ${what} that cannot be used follow; only their count is said` });
  }

  get count(): number {
    return this.said.count;
  }

  /** One broken document: `where` is `file:line`. */
  report(where: string, reason: string): void {
    this.said.add(() => `${where}: ${reason}`);
  }

  /** The note for the job's result, if anything was broken. */
  notes(): string[] {
    if (this.count === 0) return [];
    return [`${this.count} ${this.what} left out, unreadable or unusable (${this.said.shown} listed above with file, line and reason)`];
  }
}
