// Connection settings found the way the mysql client finds them (docs/connection.md), so that
// `mariadb` and our tools, run in one shell, reach the same server, and no password is ever on a
// command line. Lowest first: the MYSQL_* environment (MYSQL_HOST, MYSQL_TCP_PORT,
// MYSQL_UNIX_PORT, MYSQL_USER, MYSQL_PWD); then the option files (the usual ones, or the one named
// by --defaults-file or $EDX_PIPES_MY_CNF, then --defaults-extra-file; groups [client],
// [client-server], [client-mariadb], [mysql] and [edx-pipes]); then the command line.
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { homedir, userInfo } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import mysql from 'mysql2/promise';
import { ToolError, UsageError } from '../core/errors.js';
import { COLLATION } from '../schema/charset.js';
import { SQL_MODE } from '../schema/sql-escape.js';
import { OptionFileError, readOptionFiles } from './option-file.js';

/** The option groups the tools read, in no order of their own (a later line wins). */
export const OPTION_GROUPS = ['client', 'client-server', 'client-mariadb', 'mysql', 'edx-pipes'];

/** How the connection is encrypted and what is checked, by the client's names (--ssl-mode). */
export const SSL_MODES = ['DISABLED', 'PREFERRED', 'REQUIRED', 'VERIFY_CA', 'VERIFY_IDENTITY'] as const;
export type SslMode = (typeof SSL_MODES)[number];

export interface TlsSettings {
  mode: Exclude<SslMode, 'DISABLED'>;
  /** PEM text of the CA certificates (ssl-ca, ssl-capath), the client certificate and its key. */
  ca?: string[];
  cert?: string;
  key?: string;
  /** Where the CA came from, for messages. */
  caFrom?: string;
}

export interface ConnectionSettings {
  host: string;
  port: number;
  user: string;
  password?: string;
  /** The password is to be asked on the terminal (-p, or a bare `password` in an option file). */
  askPassword?: boolean;
  socketPath?: string;
  database?: string;
  tls?: TlsSettings;
  /** Where the settings came from, for messages (never includes the password). */
  source: string;
}

/** A setting as some source gives it: its value (undefined: the bare name) and where it was said. */
export interface Given {
  value: string | undefined;
  from: string;
}

/**
 * What the command line says, by the client's option names ('host', 'ssl-ca', ...; 'password'
 * with no value: ask). `from` of each is how it was written (e.g. '--port'): settings given on the
 * command line are usage errors when wrong.
 */
export interface ClientCommandLine {
  settings?: Map<string, Given>;
  defaultsFile?: string;
  defaultsExtraFile?: string;
  noDefaults?: boolean;
}

/** The option files the client reads when none is named, in its order. */
export function usualOptionFiles(env: NodeJS.ProcessEnv = process.env): string[] {
  const files = ['/etc/my.cnf', '/etc/mysql/my.cnf'];
  if (env.MYSQL_HOME) files.push(join(env.MYSQL_HOME, 'my.cnf'));
  files.push(join(env.HOME || homedir(), '.my.cnf'));
  return files;
}

/** Where a server's Unix socket usually is, when nothing names it. */
const DEFAULT_SOCKETS = ['/run/mysqld/mysqld.sock', '/var/run/mysqld/mysqld.sock', '/tmp/mysql.sock'];

const ENVIRONMENT: [variable: string, option: string][] = [
  ['MYSQL_HOST', 'host'], ['MYSQL_TCP_PORT', 'port'], ['MYSQL_UNIX_PORT', 'socket'], ['MYSQL_USER', 'user'], ['MYSQL_PWD', 'password'],
];

/** Options that are on or off, which files may also write skip-X, disable-X or enable-X. */
const FLAGS = new Set(['ssl', 'ssl-verify-server-cert']);

/** A setting wrong on the command line is a usage error; one from a file or the environment, a failure. */
const settingError = (from: string, message: string) =>
  from.startsWith('-') ? new UsageError(message) : new ToolError(message);

const truthy = (v: string | undefined) => v !== undefined && v !== '' && v !== '0';

/**
 * The settings of a connection: the environment, the option files and the command line, each
 * overriding the one before. A named option file that does not exist, a wrong value or an
 * unreadable certificate throws (UsageError when the command line said it). The password is not
 * asked here: `askPassword` says it is to be (the command line's business).
 */
export function connectionSettings(cmd: ClientCommandLine = {}, env: NodeJS.ProcessEnv = process.env): ConnectionSettings & { warnings: string[] } {
  // The files: none with --no-defaults; else the one named (only it), else the usual ones (unless
  // EDX_PIPES_NO_DEFAULTS, which tests set); then the extra one.
  const named = cmd.defaultsFile ?? (env.EDX_PIPES_MY_CNF || undefined);
  const files: { path: string; required: boolean; named?: string }[] = [];
  if (!cmd.noDefaults) {
    if (named !== undefined) files.push({ path: named, required: true, named: cmd.defaultsFile !== undefined ? '--defaults-file' : '$EDX_PIPES_MY_CNF' });
    else if (!truthy(env.EDX_PIPES_NO_DEFAULTS)) for (const path of usualOptionFiles(env)) files.push({ path, required: false });
    if (cmd.defaultsExtraFile !== undefined) files.push({ path: cmd.defaultsExtraFile, required: true, named: '--defaults-extra-file' });
  }
  let read;
  try {
    read = readOptionFiles(files, OPTION_GROUPS);
  } catch (e) {
    if (e instanceof OptionFileError) throw new ToolError(e.message);
    throw e;
  }
  const fromFiles = new Map<string, Given>();
  for (const [name, { value, file }] of read.options) {
    const flag = /^(skip|disable|enable)-(.+)$/.exec(name);
    if (flag && FLAGS.has(flag[2])) fromFiles.set(flag[2], { value: flag[1] === 'enable' ? '1' : '0', from: file });
    else fromFiles.set(name, { value, from: file });
  }
  const fromEnv = new Map<string, Given>();
  for (const [variable, option] of ENVIRONMENT) {
    const v = env[variable];
    // An empty MYSQL_PWD is an empty password; an empty MYSQL_HOST says nothing.
    if (v !== undefined && (v !== '' || option === 'password')) fromEnv.set(option, { value: v, from: variable });
  }
  const used = new Set<string>();
  const pick = (name: string): Given | undefined => {
    const g = cmd.settings?.get(name) ?? fromFiles.get(name) ?? fromEnv.get(name);
    if (g) used.add(g.from.startsWith('-') ? 'command line' : g.from);
    return g;
  };
  const text = (name: string): string | undefined => pick(name)?.value;

  const portGiven = pick('port');
  let port = 3306;
  if (portGiven?.value !== undefined) {
    port = Number(portGiven.value);
    if (!/^\d+$/.test(portGiven.value) || port < 1 || port > 65535) {
      throw settingError(portGiven.from, `port ${JSON.stringify(portGiven.value)} (from ${portGiven.from}) is not a port number`);
    }
  }
  const protocolGiven = pick('protocol');
  const protocol = protocolGiven?.value?.toLowerCase();
  if (protocolGiven && protocol !== 'tcp' && protocol !== 'socket') {
    const why = protocol === 'pipe' || protocol === 'memory'
      ? 'named pipes and shared memory are Windows-only; use tcp or socket'
      : 'use tcp or socket';
    throw settingError(protocolGiven.from, `protocol ${JSON.stringify(protocolGiven.value ?? '')} (from ${protocolGiven.from}): ${why}`);
  }
  const host = text('host') || 'localhost';
  // As the client: the host 'localhost' means the Unix socket unless --protocol tcp says otherwise;
  // any other host is TCP unless --protocol socket. A socket that nothing names is looked for where
  // servers put it; with none there, localhost is reached over TCP.
  let socketPath: string | undefined;
  if (protocol === 'socket' || (protocol === undefined && host === 'localhost')) {
    socketPath = text('socket') || DEFAULT_SOCKETS.find((p) => existsSync(p));
    if (socketPath === undefined && protocol === 'socket') {
      throw settingError(protocolGiven!.from, `protocol socket (from ${protocolGiven!.from}) but no socket is named (--socket, socket=, MYSQL_UNIX_PORT) and none is at ${DEFAULT_SOCKETS.join(', ')}`);
    }
  }
  const passwordGiven = pick('password');
  const settings: ConnectionSettings & { warnings: string[] } = {
    host,
    port,
    user: text('user') || loginName(),
    password: passwordGiven?.value,
    askPassword: passwordGiven !== undefined && passwordGiven.value === undefined,
    socketPath,
    database: text('database') || undefined,
    tls: tlsSettings(pick),
    source: '',
    warnings: read.warnings,
  };
  // Said in the order of precedence: the command line, the files as read, the environment.
  const rank = (from: string) => from === 'command line' ? -1 : read.files.includes(from) ? read.files.indexOf(from) : read.files.length + ENVIRONMENT.findIndex(([v]) => v === from);
  settings.source = used.size ? [...used].sort((a, b) => rank(a) - rank(b)).join(', ') : 'defaults';
  return settings;
}

/** The user the client connects as by default: the login name. */
function loginName(): string {
  try {
    return userInfo().username;
  } catch {
    return 'root';
  }
}

/** An on/off setting: the bare name, 1/0, ON/OFF, TRUE/FALSE. */
function flagValue(g: Given | undefined, name: string): boolean | undefined {
  if (g === undefined) return undefined;
  if (g.value === undefined) return true;
  const v = g.value.toLowerCase();
  if (['1', 'on', 'true', 'yes'].includes(v)) return true;
  if (['0', 'off', 'false', 'no'].includes(v)) return false;
  throw settingError(g.from, `${name}=${JSON.stringify(g.value)} (from ${g.from}): not on or off (1/0, ON/OFF, TRUE/FALSE)`);
}

/**
 * TLS as the settings ask (docs/connection.md): --ssl-mode if given (--ssl-verify-server-cert
 * raises it to VERIFY_IDENTITY); else as MariaDB's client: ssl-verify-server-cert verifies the
 * certificate and the host name, a CA (ssl-ca, ssl-capath) verifies the certificate, --ssl or a
 * client certificate encrypts without verifying, and nothing, or --skip-ssl, is no TLS.
 */
function tlsSettings(pick: (name: string) => Given | undefined): TlsSettings | undefined {
  const modeGiven = pick('ssl-mode');
  let mode: SslMode | undefined;
  if (modeGiven) {
    const m = (modeGiven.value ?? '').toUpperCase();
    if (!(SSL_MODES as readonly string[]).includes(m)) {
      throw settingError(modeGiven.from, `ssl-mode ${JSON.stringify(modeGiven.value ?? '')} (from ${modeGiven.from}): one of ${SSL_MODES.join(', ')}`);
    }
    mode = m as SslMode;
  }
  const ssl = flagValue(pick('ssl'), 'ssl');
  const verifyGiven = pick('ssl-verify-server-cert');
  const verify = flagValue(verifyGiven, 'ssl-verify-server-cert');
  const caGiven = pick('ssl-ca');
  const capathGiven = pick('ssl-capath');
  const certGiven = pick('ssl-cert');
  const keyGiven = pick('ssl-key');
  if (mode === undefined) {
    if (ssl === false) mode = 'DISABLED';
    else if (verify) mode = 'VERIFY_IDENTITY';
    else if (caGiven?.value || capathGiven?.value) mode = 'VERIFY_CA';
    else if (ssl || certGiven?.value) mode = 'REQUIRED';
    else mode = 'DISABLED';
  } else if (verify) {
    if (mode === 'DISABLED') throw settingError(verifyGiven!.from, `ssl-verify-server-cert (from ${verifyGiven!.from}) with ssl-mode DISABLED (from ${modeGiven!.from})`);
    mode = 'VERIFY_IDENTITY';
  }
  if (mode === 'DISABLED') return undefined;
  const pem = (g: Given | undefined, name: string): string | undefined => {
    if (g?.value === undefined || g.value === '') return undefined;
    try {
      return readFileSync(g.value, 'utf8');
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      throw settingError(g.from, `${name} ${g.value} (from ${g.from}): ${code === 'ENOENT' ? 'no such file' : (e as Error).message}`);
    }
  };
  const ca: string[] = [];
  const caText = pem(caGiven, 'ssl-ca');
  if (caText !== undefined) ca.push(caText);
  if (capathGiven?.value) {
    let names: string[];
    try {
      names = readdirSync(capathGiven.value).sort();
    } catch (e) {
      throw settingError(capathGiven.from, `ssl-capath ${capathGiven.value} (from ${capathGiven.from}): ${(e as Error).message}`);
    }
    for (const n of names) {
      const t = pem({ value: join(capathGiven.value, n), from: capathGiven.from }, 'ssl-capath');
      if (t?.includes('BEGIN CERTIFICATE')) ca.push(t);
    }
  }
  const cert = pem(certGiven, 'ssl-cert');
  const key = pem(keyGiven, 'ssl-key');
  if ((cert === undefined) !== (key === undefined)) {
    const g = (cert === undefined ? keyGiven : certGiven)!;
    throw settingError(g.from, `${cert === undefined ? 'ssl-key' : 'ssl-cert'} (from ${g.from}) needs ${cert === undefined ? 'ssl-cert' : 'ssl-key'} too`);
  }
  const caFrom = caGiven?.value ? `ssl-ca ${caGiven.value}` : capathGiven?.value ? `ssl-capath ${capathGiven.value}` : undefined;
  return { mode, ca: ca.length ? ca : undefined, cert, key, caFrom };
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

/** mysql2's `ssl` option for the TLS settings. */
function sslOption(tls: TlsSettings): Exclude<mysql.ConnectionOptions['ssl'], string | undefined> {
  const verify = tls.mode === 'VERIFY_CA' || tls.mode === 'VERIFY_IDENTITY';
  return { ca: tls.ca, cert: tls.cert, key: tls.key, rejectUnauthorized: verify, verifyIdentity: tls.mode === 'VERIFY_IDENTITY' };
}

/**
 * Open a connection: utf8mb4, UTC, several statements per query off, and the session's sql_mode
 * ours (schema/sql-escape.ts: our SQL text reads the same whatever the server's modes). TLS as the
 * settings say; PREFERRED goes on without it when the server has none.
 */
export async function connect(settings: ConnectionSettings, extra: Partial<mysql.ConnectionOptions> = {}) {
  const options: mysql.ConnectionOptions = {
    host: settings.host,
    port: settings.port,
    user: settings.user,
    password: settings.password,
    socketPath: settings.socketPath,
    database: settings.database,
    ssl: settings.tls ? sslOption(settings.tls) : undefined,
    charset: COLLATION,
    timezone: 'Z',
    dateStrings: true,
    supportBigNumbers: true,
    // A statement without a file of its own offers none (see offeredFile).
    infileStreamFactory: (requested: string) => refusedFile(requested),
    ...extra,
  };
  let conn;
  try {
    conn = await mysql.createConnection(options);
  } catch (e) {
    if (settings.tls?.mode !== 'PREFERRED' || (e as { code?: string }).code !== 'HANDSHAKE_NO_SSL_SUPPORT') throw e;
    conn = await mysql.createConnection({ ...options, ssl: undefined });
  }
  try {
    await conn.query(`SET SESSION sql_mode = '${SQL_MODE}'`);
  } catch (e) {
    await conn.end().catch(() => undefined);
    throw e;
  }
  return conn;
}

/** Why a connection failed, in one line; a failed TLS handshake (mysql2 says HANDSHAKE_SSL_ERROR) says with what it checked. */
export function connectFailure(settings: ConnectionSettings, e: unknown): string {
  const message = ((e as Error).message ?? String(e)).split('\n')[0];
  const tls = settings.tls;
  const why = tls && (e as { code?: string }).code === 'HANDSHAKE_SSL_ERROR'
    ? `TLS handshake failed: ${message}${tls.mode.startsWith('VERIFY') ? ` (the server's certificate checked against ${tls.caFrom ?? "the system's CAs"})` : ''}`
    : message;
  return `cannot connect to ${describeSettings(settings)}: ${why}`;
}

/** A connection for a tool: a failure is one line (a ToolError) naming where it tried and why. */
export async function connectTool(settings: ConnectionSettings, extra: Partial<mysql.ConnectionOptions> = {}) {
  try {
    return await connect(settings, extra);
  } catch (e) {
    throw new ToolError(connectFailure(settings, e));
  }
}

/** Describe the settings for a message: user@host:port (where from), never the password. */
export const describeSettings = (s: ConnectionSettings) =>
  `${s.user}@${s.socketPath ? s.socketPath : `${s.host}:${s.port}`}${s.tls ? ` with TLS (${s.tls.mode})` : ''} (from ${s.source})`;
