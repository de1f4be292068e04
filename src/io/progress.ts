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
