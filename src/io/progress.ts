// When long work says how far it got: at most once per interval, so that a night's log shows
// progress without filling up with it.

/** A clock for progress lines: true at most once every `ms` milliseconds (first after `ms`). */
export function progressClock(ms = 30_000): () => boolean {
  let last = Date.now();
  return () => {
    const now = Date.now();
    if (now - last < ms) return false;
    last = now;
    return true;
  };
}

/**
 * A live progress line on a terminal: `show` now, then every `ms` milliseconds until the returned
 * stop is called. It ticks even while no byte arrives (a stalled download still shows what is in
 * progress), and does not keep the process alive.
 */
export function progressTicker(ms: number, show: () => void): () => void {
  show();
  const timer = setInterval(show, ms);
  timer.unref();
  return () => clearInterval(timer);
}
