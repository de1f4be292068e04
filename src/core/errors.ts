// The one error family of edx-pipes. A ToolError is meant for the person running a tool: the
// tool prints its message alone (no stack trace) and exits 1; a UsageError is a mistake in the
// command line and exits 2. Anything else is a bug and is printed with its stack.
export class ToolError extends Error {
  readonly exitCode: number = 1;
}

export class UsageError extends ToolError {
  override readonly exitCode: number = 2;
}
