// Many bad lines or documents in one input: the first ones are said in full, the rest only
// counted, so that a broken input cannot drown stderr and what was left unsaid is still known.

/** How many are said one by one before only counting. */
export const SAID_IN_FULL = 20;

export class CappedReport {
  /** How many were reported, said or not. */
  count = 0;

  constructor(
    private readonly say: (msg: string) => void,
    private readonly opts: { limit?: number; /** said once, when the first one goes unsaid */ whenCapped?: string } = {},
  ) {}

  private get limit(): number {
    return this.opts.limit ?? SAID_IN_FULL;
  }

  /** One more: its message (made only when it is said) is said while under the limit. */
  add(message: () => string): void {
    this.count++;
    if (this.count <= this.limit) this.say(message());
    else if (this.count === this.limit + 1 && this.opts.whenCapped !== undefined) this.say(this.opts.whenCapped);
  }

  /** How many were said in full. */
  get shown(): number {
    return Math.min(this.count, this.limit);
  }

  /** How many were only counted. */
  get unsaid(): number {
    return this.count - this.shown;
  }
}
