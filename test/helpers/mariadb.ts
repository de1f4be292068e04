// A real MariaDB/MySQL server for tests: EDX_PIPES_TEST_DB (mysql://user[:pass]@host:port,
// default mysql://root@127.0.0.1:3306). Never mocked. When nothing answers there, test/run-suite.sh
// (make test) starts one private server for the whole run and exports its address: not one per file.
import { randomBytes } from 'node:crypto';
import { createServer } from 'node:net';
import mysql, { type Connection, type ResultSetHeader } from 'mysql2/promise';

export interface TestServer {
  host: string;
  port: number;
  user: string;
  password?: string;
  /** Environment for our tools so that they reach this server (no password on any command line). */
  env: NodeJS.ProcessEnv;
}

let server: Promise<TestServer> | undefined;

function fromUrl(url: string): TestServer {
  const u = new URL(url);
  const s = {
    host: u.hostname || '127.0.0.1',
    port: Number(u.port || 3306),
    user: decodeURIComponent(u.username || 'root'),
    password: u.password ? decodeURIComponent(u.password) : undefined,
  };
  return { ...s, env: envFor(s) };
}

function envFor(s: { host: string; port: number; user: string; password?: string }): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    EDX_PIPES_NO_DEFAULTS: '1', // not the developer's ~/.my.cnf, nor /etc/mysql's
    MYSQL_HOST: s.host,
    MYSQL_TCP_PORT: String(s.port),
    MYSQL_USER: s.user,
  };
  delete env.EDX_PIPES_MY_CNF;
  if (s.password) env.MYSQL_PWD = s.password;
  else delete env.MYSQL_PWD;
  return env;
}

async function reachable(s: TestServer): Promise<boolean> {
  try {
    const c = await mysql.createConnection({ host: s.host, port: s.port, user: s.user, password: s.password, connectTimeout: 30_000 });
    await c.end();
    return true;
  } catch {
    return false;
  }
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      srv.close(() => (typeof addr === 'object' && addr ? resolve(addr.port) : reject(new Error('no port'))));
    });
  });
}

export function testServer(): Promise<TestServer> {
  server ??= (async () => {
    const s = fromUrl(process.env.EDX_PIPES_TEST_DB ?? 'mysql://root@127.0.0.1:3306');
    if (await reachable(s)) return s;
    throw new Error(`no MySQL/MariaDB server answers at ${s.host}:${s.port}: run the tests with test/run-suite.sh --db (make test), which starts one, or set EDX_PIPES_TEST_DB`);
  })();
  return server;
}

/** A connection as root-ish test user, several statements per query allowed. */
export async function testConnection(database?: string) {
  const s = await testServer();
  return mysql.createConnection({ host: s.host, port: s.port, user: s.user, password: s.password, database,
    multipleStatements: true, charset: 'utf8mb4_unicode_ci', dateStrings: true, timezone: 'Z' });
}

/**
 * Run a SQL script (edx-json2sql's output) on a connection, statements grouped under 4 MiB a query
 * (a query must stay under max_allowed_packet; literals never hold a raw newline, so `;\n` ends a
 * statement). Returns the warnings all statements produced.
 */
export async function runSqlScript(c: Connection, sql: string): Promise<number> {
  const statements = sql.split(/(?<=;)\n/);
  let warnings = 0;
  for (let i = 0; i < statements.length;) {
    let chunk = '';
    while (i < statements.length && (chunk === '' || chunk.length + statements[i].length < 4 << 20)) chunk += statements[i++] + '\n';
    if (chunk.trim() === '') continue;
    warnings += await queryWarnings(c, chunk);
  }
  return warnings;
}

/** runSqlScript on a connection of its own. */
export async function loadSqlScript(sql: string): Promise<number> {
  const c = await testConnection();
  try {
    return await runSqlScript(c, sql);
  } finally {
    await c.end();
  }
}

/** Run one query of one or more statements; the warnings they all produced. */
export async function queryWarnings(c: Connection, sql: string): Promise<number> {
  const [results] = await c.query({ sql, rowsAsArray: true });
  let warnings = 0;
  for (const r of Array.isArray(results) ? results : [results]) {
    if (r && typeof r === 'object' && 'warningStatus' in r) warnings += (r as ResultSetHeader).warningStatus;
  }
  return warnings;
}

/** A unique name for a throwaway database. */
export const uniqueName = (prefix: string) => `${prefix}_${process.pid}_${randomBytes(4).toString('hex')}`;

/** A pair of throwaway warehouse databases (names only; tools create them), dropped when the test ends. */
export function throwawayDatabases(t: { teardown(fn: () => Promise<void>): void }, prefix = 'edx_t'): { edx: string; priv: string } {
  const edx = uniqueName(prefix);
  const priv = uniqueName(`${prefix}p`);
  t.teardown(async () => {
    const c = await testConnection();
    await c.query(`DROP DATABASE IF EXISTS ${edx}; DROP DATABASE IF EXISTS ${priv}`);
    await c.end();
  });
  return { edx, priv };
}
