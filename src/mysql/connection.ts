// Connection settings the way the mysql client finds them, so no password ever goes on a
// command line: an option file (`--defaults-file FILE`, else $EDX_PIPES_MY_CNF, else ~/.my.cnf;
// sections [client], [mysql] and [edx-pipes], later ones win) and then the environment
// (MYSQL_HOST, MYSQL_TCP_PORT, MYSQL_UNIX_PORT, MYSQL_USER, MYSQL_PWD), which overrides the file.
import { readFileSync, existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import mysql from 'mysql2/promise';
import { ToolError } from '../core/errors.js';
import { COLLATION } from '../schema/charset.js';
import { SQL_MODE } from '../schema/sql-escape.js';

export interface ConnectionSettings {
  host: string;
  port: number;
  user: string;
  password?: string;
  socketPath?: string;
  database?: string;
  /** Where the settings came from, for messages (never includes the password). */
  source: string;
}

const SECTIONS = new Set(['client', 'mysql', 'edx-pipes']);

/** Parse the [client]/[mysql]/[edx-pipes] sections of a MySQL option file. */
export function parseOptionFile(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  let inSection = false;
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trim();
    if (!line || line.startsWith('#') || line.startsWith(';')) continue;
    const section = /^\[([^\]]+)\]$/.exec(line);
    if (section) {
      inSection = SECTIONS.has(section[1].trim().toLowerCase());
      continue;
    }
    if (!inSection) continue;
    const kv = /^([A-Za-z0-9_-]+)\s*(?:=\s*(.*))?$/.exec(line);
    if (!kv) continue;
    let value = (kv[2] ?? '').trim();
    if (/^(['"]).*\1$/.test(value)) value = value.slice(1, -1);
    out[kv[1].toLowerCase().replace(/-/g, '_')] = value;
  }
  return out;
}

export function connectionSettings(opts: { defaultsFile?: string; env?: NodeJS.ProcessEnv } = {}): ConnectionSettings {
  const env = opts.env ?? process.env;
  const file = opts.defaultsFile ?? env.EDX_PIPES_MY_CNF ?? join(homedir(), '.my.cnf');
  let fromFile: Record<string, string> = {};
  let source = 'defaults';
  if (opts.defaultsFile && !existsSync(opts.defaultsFile)) {
    throw new Error(`option file not found: ${opts.defaultsFile}`);
  }
  if (existsSync(file)) {
    fromFile = parseOptionFile(readFileSync(file, 'utf8'));
    source = file;
  }
  const pick = (envName: string, key: string) => env[envName] ?? fromFile[key];
  if (env.MYSQL_HOST || env.MYSQL_TCP_PORT || env.MYSQL_USER || env.MYSQL_PWD) source += ' + environment';
  const port = Number(pick('MYSQL_TCP_PORT', 'port') ?? 3306);
  return {
    host: pick('MYSQL_HOST', 'host') ?? '127.0.0.1',
    port: Number.isFinite(port) ? port : 3306,
    user: pick('MYSQL_USER', 'user') ?? 'root',
    password: pick('MYSQL_PWD', 'password'),
    socketPath: pick('MYSQL_UNIX_PORT', 'socket'),
    database: fromFile.database,
    source,
  };
}

/**
 * LOAD DATA LOCAL is ours alone: a server may answer any statement with a request for a local file
 * of its choosing (a malicious or compromised one asks for /etc/passwd). A statement of ours offers
 * exactly one file, the name it wrote; a request for any other name gets an empty file and the
 * statement fails with this message. No connection of ours ever opens a path the server names.
 */
export function offeredFile(name: string, open: () => Readable): (requested: string) => Readable {
  return (requested) => (requested === name ? open() : refusedFile(requested));
}

/** The stream mysql2 gets for a file we did not offer: it fails before a byte, so mysql2 sends an empty file. */
function refusedFile(requested: string): Readable {
  const stream = new Readable({ read() {} });
  const message = `the server asked for the local file ${JSON.stringify(requested)}, which this client did not offer: refused`;
  // A ToolError with a code: every tool prints it as a message, one line, exit 1.
  process.nextTick(() => stream.destroy(Object.assign(new ToolError(message), { code: 'EDX_LOCAL_FILE_REFUSED' })));
  return stream;
}

/**
 * Open a connection: utf8mb4, UTC, several statements per query off, and the session's sql_mode
 * ours (schema/sql-escape.ts: our SQL text reads the same whatever the server's modes).
 */
export async function connect(settings: ConnectionSettings, extra: Partial<mysql.ConnectionOptions> = {}) {
  const conn = await mysql.createConnection({
    host: settings.host,
    port: settings.port,
    user: settings.user,
    password: settings.password,
    socketPath: settings.socketPath,
    database: settings.database,
    charset: COLLATION,
    timezone: 'Z',
    dateStrings: true,
    supportBigNumbers: true,
    // A statement without a file of its own offers none (see offeredFile).
    infileStreamFactory: (requested: string) => refusedFile(requested),
    ...extra,
  });
  try {
    await conn.query(`SET SESSION sql_mode = '${SQL_MODE}'`);
  } catch (e) {
    await conn.end().catch(() => undefined);
    throw e;
  }
  return conn;
}

/**
 * The connection a tool works on: settings found as above, failures (an option file that is not
 * there, a server that does not answer) said as one line naming where it tried.
 */
export async function connectTool(opts: { defaultsFile?: string }, extra: Partial<mysql.ConnectionOptions> = {}) {
  let settings: ConnectionSettings;
  try {
    settings = connectionSettings({ defaultsFile: opts.defaultsFile });
  } catch (e) {
    throw new ToolError((e as Error).message);
  }
  try {
    return await connect(settings, extra);
  } catch (e) {
    throw new ToolError(`cannot connect to ${describeSettings(settings)}: ${(e as Error).message}`);
  }
}

/** Describe the settings for a message: user@host:port (source), never the password. */
export const describeSettings = (s: ConnectionSettings) =>
  `${s.user}@${s.socketPath ? s.socketPath : `${s.host}:${s.port}`} (from ${s.source})`;
