// NUL padding: logrotate's copytruncate empties a live log in place while its writer keeps its
// offset, so the writer's next line lands after as many NUL bytes as the file had, with no
// newline among them (docs/decisions.md §1). NULs are never part of an event: every reader of
// log lines drops them with these two functions, as bytes while reading and as text in a line.

/** The index of the first byte at or after i that is not NUL. */
export function skipNul(bytes: Buffer, i: number): number {
  while (i < bytes.length && bytes[i] === 0) i++;
  return i;
}

/** A log line as an event is read from it: without its NULs and the white space at its ends ('' for a blank line). */
export function withoutPadding(line: string): string {
  return (line.includes('\0') ? line.replace(/\0+/g, '') : line).trim();
}
