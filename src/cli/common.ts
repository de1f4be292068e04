// What every tool shares: option parsing with usage errors (exit 2), --help, failure messages
// on stderr (exit 1), and writing to stdout with backpressure. Data goes to stdout only.
import minimist from 'minimist';

export const EXIT_OK = 0;
export const EXIT_FAILURE = 1;
export const EXIT_USAGE = 2;

import { ToolError, UsageError } from '../core/errors.js';
export { ToolError, UsageError };

export interface OptionSpec {
  string?: string[];
  boolean?: string[];
  alias?: Record<string, string>;
  default?: Record<string, unknown>;
  /** String options that may be given more than once (minimist then makes an array). */
  multi?: string[];
}

export type ParsedArgs = minimist.ParsedArgs;

/** Parse argv; unknown options are a usage error. */
export function parseArgs(argv: string[], spec: OptionSpec): ParsedArgs {
  const known = new Set<string>(['help', 'h', ...(spec.string ?? []), ...(spec.boolean ?? [])]);
  for (const [a, b] of Object.entries(spec.alias ?? {})) known.add(a).add(b);
  const args = minimist(argv, {
    string: spec.string,
    boolean: ['help', ...(spec.boolean ?? [])],
    alias: { h: 'help', ...spec.alias },
    default: spec.default as Record<string, string | boolean>,
    unknown: (arg) => {
      if (arg.startsWith('-') && arg !== '-') {
        const name = arg.replace(/^-+/, '').split('=')[0];
        if (!known.has(name)) throw new UsageError(`unknown option ${arg}`);
      }
      return true;
    },
  });
  for (const name of spec.string ?? []) {
    if (Array.isArray(args[name]) && !spec.multi?.includes(name)) {
      throw new UsageError(`--${name} given more than once`);
    }
  }
  return args;
}

/**
 * Run a tool's body with the shared conventions: --help prints the usage on stdout (exit 0), a
 * UsageError prints the message and usage on stderr (exit 2), a ToolError prints `tool: message`
 * (exit 1), anything else prints the stack (exit 1).
 */
export async function runTool(
  tool: string,
  usage: string,
  argv: string[],
  spec: OptionSpec,
  body: (args: ParsedArgs) => Promise<number | void>,
): Promise<number> {
  let args: ParsedArgs;
  try {
    args = parseArgs(argv, spec);
  } catch (e) {
    process.stderr.write(`${tool}: ${(e as Error).message}\n\n${usage}`);
    return EXIT_USAGE;
  }
  if (args.help) {
    process.stdout.write(usage);
    return EXIT_OK;
  }
  try {
    return (await body(args)) ?? EXIT_OK;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'EPIPE') return EXIT_OK; // reader went away (| head)
    if (e instanceof UsageError) {
      process.stderr.write(`${tool}: ${e.message}\n\n${usage}`);
      return EXIT_USAGE;
    }
    if (e instanceof ToolError) {
      process.stderr.write(`${tool}: ${e.message}\n`);
      return EXIT_FAILURE;
    }
    if ((e as NodeJS.ErrnoException).code === 'EPIPE') return EXIT_OK; // reader went away (| head)
    process.stderr.write(`${tool}: ${(e as Error).stack ?? e}\n`);
    return EXIT_FAILURE;
  }
}

export { write, finish } from '../io/write.js';

/** A number option, or a usage error. */
export function numberOption(args: ParsedArgs, name: string, fallback: number): number {
  const v = args[name];
  if (v === undefined || v === '') return fallback;
  const n = Number(v);
  if (!Number.isFinite(n)) throw new UsageError(`--${name} takes a number, not '${v}'`);
  return n;
}

/** Database names from --edx-db / --private-db. */
export function databaseNames(args: ParsedArgs): { Edx: string; EdxPrivate: string } {
  return {
    Edx: databaseName(args, 'edx-db', 'Edx'),
    EdxPrivate: databaseName(args, 'private-db', 'EdxPrivate'),
  };
}

/** A database name from option `--<option>`, or `fallback`; a usage error unless a plain name. */
export function databaseName(args: ParsedArgs, option: string, fallback: string): string {
  const v = String(args[option] || fallback);
  if (!/^[A-Za-z0-9_$]{1,64}$/.test(v)) throw new UsageError(`--${option}: '${v}' is not a plain database name`);
  return v;
}

/** Messages on stderr, prefixed by the tool name. */
export const say = (tool: string, msg: string) => process.stderr.write(`${tool}: ${msg}\n`);
