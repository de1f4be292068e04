// The one error family of edx-pipes. A ToolError is meant for the person running a tool: the
// tool prints its message alone (no stack trace) and exits 1; a UsageError is a mistake in the
// command line and exits 2. Anything else is a bug and is printed with its stack.
export class ToolError extends Error {
  readonly exitCode: number = 1;
}

export class UsageError extends ToolError {
  override readonly exitCode: number = 2;
}

/**
 * Writing an output failed (a full disk, a closed pipe): the run stops at once, with one line
 * naming the output; no input line is blamed for it. `code` keeps the system's code (EPIPE: the
 * reader went away, which ends a tool quietly).
 */
export class OutputError extends ToolError {
  readonly code: string | undefined;
  constructor(what: string, cause: Error) {
    const code = (cause as NodeJS.ErrnoException).code;
    super(`writing ${what}: ${cause.message}`);
    this.code = code;
  }
}
