// What every tool shares: option parsing (Node's util.parseArgs, strict) with usage errors
// (exit 2), --help and --version, failure messages on stderr (exit 1), and writing to stdout
// with backpressure. Data goes to stdout only.
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { ToolError, UsageError } from '../core/errors.js';
import { inputError } from '../io/input.js';

export { ToolError, UsageError };
export { write, finish } from '../io/write.js';

export const EXIT_OK = 0;
export const EXIT_FAILURE = 1;
export const EXIT_USAGE = 2;

/** One option of a tool: a flag, or an option taking a value (once, unless `multiple`). */
export interface OptionDef {
  type: 'string' | 'boolean';
  short?: string;
  multiple?: boolean;
  /** A flag that must never be given a value (`--password=x`, `-px`): why, for the usage error. */
  refuseValue?: string;
}
export type OptionSpec = Record<string, OptionDef>;

/** The value an option has after parsing, from its definition (absent when not given). */
type ValueOf<D extends OptionDef> = D['type'] extends 'boolean' ? boolean : D['multiple'] extends true ? string[] : string;
export type OptionValues<S extends OptionSpec> = { [K in keyof S]?: ValueOf<S[K]> };

export interface ParsedArgs<S extends OptionSpec> {
  values: OptionValues<S>;
  /** Operands, as typed (a file called 007 stays '007'); everything after `--` is one. */
  positionals: string[];
}

/** Options every tool has. */
const COMMON_OPTIONS = {
  help: { type: 'boolean', short: 'h' },
  version: { type: 'boolean' },
} as const satisfies OptionSpec;
type CommonValues = OptionValues<typeof COMMON_OPTIONS>;

/** A value that looks like an option: taken for a forgotten value, as strict parseArgs does. */
const optionLike = (value: string) => value.length > 1 && value.startsWith('-');

/**
 * Parse argv strictly: an unknown option, an option's missing value (also `--csv --rows`: a value
 * starting with '-' must be written `--csv=-x`), a value given to a flag, and an option given
 * twice that is not `multiple` are usage errors, with a message of our own naming the option.
 */
export function parseCommandLine<S extends OptionSpec>(argv: string[], spec: S): ParsedArgs<S> & { values: CommonValues } {
  const options: OptionSpec = { ...COMMON_OPTIONS, ...spec };
  const config = { args: argv, options, allowPositionals: true, tokens: true } as const;
  refuseValues(argv, parseArgs({ ...config, strict: false }).tokens, options);
  let parsed;
  try {
    parsed = parseArgs({ ...config, strict: true });
  } catch (e) {
    if (!String((e as NodeJS.ErrnoException).code).startsWith('ERR_PARSE_ARGS')) throw e;
    throw new UsageError(explain(parseArgs({ ...config, strict: false }).tokens, options) ?? (e as Error).message);
  }
  const seen = new Set<string>();
  for (const token of parsed.tokens) {
    if (token.kind !== 'option' || options[token.name].type !== 'string' || options[token.name].multiple) continue;
    if (seen.has(token.name)) throw new UsageError(`--${token.name} given more than once`);
    seen.add(token.name);
  }
  return { values: parsed.values as OptionValues<S> & CommonValues, positionals: parsed.positionals };
}

/**
 * A flag whose value is refused, given one: `--password=x`, or `-px` (which parseArgs would read as
 * -p -x, so taken apart from what was typed). Checked before anything else: the value may be a secret.
 */
function refuseValues(argv: string[], tokens: ReturnType<typeof parseArgs>['tokens'], options: OptionSpec): void {
  for (const token of tokens ?? []) {
    if (token.kind !== 'option' || !Object.hasOwn(options, token.name)) continue;
    const why = options[token.name].refuseValue;
    if (why === undefined) continue;
    const typed = argv[token.index];
    if (token.inlineValue || (token.rawName.length === 2 && typed.startsWith(token.rawName) && typed !== token.rawName)) {
      throw new UsageError(`${token.rawName} with a value: ${why}`);
    }
  }
}

/** Why strict parsing refused the command line, in our words (the first offending option). */
function explain(tokens: ReturnType<typeof parseArgs>['tokens'], options: OptionSpec): string | undefined {
  for (const token of tokens ?? []) {
    if (token.kind !== 'option') continue;
    const def = Object.hasOwn(options, token.name) ? options[token.name] : undefined;
    const given = token.rawName;
    if (def === undefined) return `unknown option ${given}`;
    if (def.type === 'boolean') {
      if (token.value !== undefined) return `${given} takes no value`;
    } else if (token.value === undefined) {
      return `${given} needs a value`;
    } else if (!token.inlineValue && optionLike(token.value)) {
      return `${given} needs a value, not the option ${token.value} (a value starting with '-' is written ${given}=VALUE)`;
    }
  }
  return undefined;
}

/** This package's version, from package.json (dist/cli and src/cli are both two levels down). */
export function packageVersion(): string {
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version?: string };
  return pkg.version ?? 'unknown';
}

/** The one line and the pointer to --help that a usage error prints (not the whole help). */
export const usageMessage = (tool: string, message: string) =>
  `${tool}: ${message}\nTry '${tool} --help' for more information.\n`;

/**
 * Run a tool's body with the shared conventions: --help prints the usage on stdout (exit 0),
 * --version the tool and package version; a UsageError prints one line and a pointer to --help on
 * stderr (exit 2); another ToolError prints `tool: message` (its exit code); EPIPE (the reader of
 * stdout went away, as with | head) ends quietly; anything else is a bug: its stack (exit 1).
 */
export async function runTool<S extends OptionSpec>(
  tool: string,
  usage: string,
  argv: string[],
  spec: S,
  body: (args: ParsedArgs<S>) => Promise<number | void>,
): Promise<number> {
  try {
    const args = parseCommandLine(argv, spec);
    if (args.values.help) {
      process.stdout.write(usage);
      return EXIT_OK;
    }
    if (args.values.version) {
      process.stdout.write(`${tool} ${packageVersion()}\n`);
      return EXIT_OK;
    }
    return (await body(args)) ?? EXIT_OK;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'EPIPE') return EXIT_OK; // reader went away (| head)
    if (e instanceof UsageError) {
      process.stderr.write(usageMessage(tool, e.message));
      return e.exitCode;
    }
    if (e instanceof ToolError) {
      process.stderr.write(`${tool}: ${e.message}\n`);
      return e.exitCode;
    }
    const sys = e as NodeJS.ErrnoException;
    // A file the user named that the system refused (a path we did not check first): one line.
    if (sys.code !== undefined && sys.path !== undefined) {
      process.stderr.write(`${tool}: ${inputError(sys.path, sys).message}\n`);
      return EXIT_FAILURE;
    }
    process.stderr.write(`${tool}: ${(e as Error).stack ?? e}\n`);
    return EXIT_FAILURE;
  }
}

/** A number option's value, or `fallback` when not given; a usage error unless a number. */
export function numberOption(value: string | undefined, name: string, fallback: number): number {
  if (value === undefined || value === '') return fallback;
  const n = Number(value);
  if (!Number.isFinite(n)) throw new UsageError(`--${name} takes a number, not '${value}'`);
  return n;
}

/** The database-name options of the tools that name the warehouse's two databases. */
export const DATABASE_OPTIONS = {
  'edx-db': { type: 'string' },
  'private-db': { type: 'string' },
} as const satisfies OptionSpec;

/** Database names from --edx-db / --private-db. */
export function databaseNames(values: { 'edx-db'?: string; 'private-db'?: string }): { Edx: string; EdxPrivate: string } {
  return {
    Edx: databaseName(values['edx-db'], 'edx-db', 'Edx'),
    EdxPrivate: databaseName(values['private-db'], 'private-db', 'EdxPrivate'),
  };
}

/** A database name given as option `--<option>`, or `fallback`; a usage error unless a plain name. */
export function databaseName(value: string | undefined, option: string, fallback: string): string {
  const name = value || fallback;
  if (!/^[A-Za-z0-9_$]{1,64}$/.test(name)) throw new UsageError(`--${option}: '${name}' is not a plain database name`);
  return name;
}

/** Messages on stderr, prefixed by the tool name. */
export const say = (tool: string, msg: string) => process.stderr.write(`${tool}: ${msg}\n`);
