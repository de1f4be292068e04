// A queue between one producer and one consumer that runs at its own pace: the producer pushes
// and never waits; the consumer iterates and waits for the next item.

/** An unbounded queue with one consumer; `close(error)` makes the consumer throw after the items. */
export class Channel<T> {
  private items: T[] = [];
  private wake?: () => void;
  private closed = false;
  private failure?: Error;

  push(item: T): void {
    this.items.push(item);
    this.notify();
  }

  close(failure?: Error): void {
    if (this.closed) return;
    this.closed = true;
    this.failure = failure;
    this.notify();
  }

  private notify(): void {
    const wake = this.wake;
    this.wake = undefined;
    wake?.();
  }

  /** Items in order; iterating again (after a break) continues where the last iteration stopped. */
  async *[Symbol.asyncIterator](): AsyncGenerator<T> {
    for (;;) {
      if (this.items.length) {
        yield this.items.shift()!;
        continue;
      }
      if (this.failure) throw this.failure;
      if (this.closed) return;
      await new Promise<void>((resolve) => (this.wake = resolve));
    }
  }
}
