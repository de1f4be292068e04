// The server's sql_mode changes nothing (docs/decisions.md §10, issue 14 item 1). Hostile values (quotes,
// backslashes, NUL, Ctrl-Z, unicode, and a User-Agent built to end its string under
// NO_BACKSLASH_ESCAPES and drop a database) go through all three paths: the SQL script through the
// `mariadb` client, a CSV collection and the row stream through edx-csvload. Each path runs under
// every sql_mode below, set per session (the client's --init-command, on the test server) and
// globally (SET GLOBAL on a private mariadbd started here, so no other session is disturbed; the
// tools' own connections then start in that mode). Every load must give the tables of one
// reference load, and the victim database must still be there: no statement but ours ran.
import t, { type Test } from 'tap';
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mysql, { type Connection, type RowDataPacket } from 'mysql2/promise';
import { ALL_TABLES, EdxTrackEvent, LoadInfo } from '../src/schema/tables.js';
import type { DatabaseNames } from '../src/schema/table.js';
import { freePort, testServer, uniqueName, type TestServer } from './helpers/mariadb.js';
import { REPO, runTool, toolEnv } from './helpers/tools.js';

const MODES = ['NO_BACKSLASH_ESCAPES', 'ANSI_QUOTES', 'ANSI', 'ORACLE', 'TRADITIONAL', ''];
const CLIENT = ['/usr/bin/mariadb', '/usr/bin/mysql'].find(existsSync);
const tmp = mkdtempSync(join(tmpdir(), 'edx-sqlmode-'));
t.teardown(() => rmSync(tmp, { recursive: true, force: true }));

// ---------------------------------------------------------------------------------------------
// The hostile log.

const victim = uniqueName('victim');
const agentIndex = EdxTrackEvent.columns.findIndex((c) => c.name === 'agent');
/**
 * A User-Agent that, written as '…' with backslash escapes and read without them, ends its string
 * at its first quote, gives every later column of the tuple a literal of its type (62 in the
 * reference's table), closes the statement and drops a database; the rest of the line is a comment.
 */
const INJECTION =
  "'," +
  EdxTrackEvent.columns
    .slice(agentIndex + 1)
    // No quote can be written: '' for the quarter (a partition every table has) is SPACE(0).
    .map((c) => (c.name === 'quarter' ? 'SPACE(0)' : ['datetime', 'time'].includes(c.type.kind) ? 'NULL' : '0'))
    .join(',') +
  `); DROP DATABASE ${victim}; -- `;

const HOSTILE = [
  INJECTION,
  "'",
  "''",
  '\\',
  "\\'",
  "\\'; DROP DATABASE " + victim + '; -- ',
  '"',
  '"); DROP DATABASE ' + victim + '; -- ',
  '`',
  '\0 nul',
  'ctrl-z \x1a',
  '\\N',
  'emoji 😀🎓, CJK 中文, accents Ünïcödé',
  'mixed \0\r\n\t\\\'"\x1a`,😀',
];

function hostileLog(): string {
  const lines: string[] = [];
  HOSTILE.forEach((v, i) => {
    // Two quarters: one the tables are created with, one whose partition every load adds.
    const time = i % 2 ? `2014-03-03T10:00:${String(i).padStart(2, '0')}.000000+00:00` : `2033-05-01T10:00:${String(i).padStart(2, '0')}.000000+00:00`;
    lines.push(
      JSON.stringify({
        event_type: 'edx.forum.searched', event_source: 'server', username: v, session: v, ip: '10.0.0.1', agent: v,
        host: 'lms.example.org', page: v, time, event: { query: v, page: v, total_results: i },
        context: { course_id: 'course-v1:HostileU+H101+2026', org_id: 'HostileU', path: '/search', user_id: 7 },
      }),
    );
  });
  return lines.join('\n') + '\n';
}

const log = join(tmp, 'tracking.log-20260302');
writeFileSync(log, hostileLog());

// ---------------------------------------------------------------------------------------------
// Servers, tools and digests.

const open = (s: TestServer) => mysql.createConnection({ host: s.host, port: s.port, user: s.user, password: s.password, charset: 'utf8mb4_unicode_ci', dateStrings: true });

/** A private mariadbd in a temporary directory (its global sql_mode is ours to change), or why not. */
async function privateServer(t: Test): Promise<TestServer | string> {
  const binary = ['/usr/sbin/mariadbd', '/usr/bin/mariadbd'].find(existsSync);
  const installer = ['/usr/bin/mariadb-install-db', '/usr/bin/mysql_install_db'].find(existsSync);
  if (!binary || !installer) return 'no mariadbd and mariadb-install-db to start a private server with';
  const dir = join(tmp, 'server');
  mkdirSync(dir);
  try {
    execFileSync(installer, ['--no-defaults', `--datadir=${dir}/data`, '--auth-root-authentication-method=normal', '--user=root'], { stdio: 'ignore' });
  } catch (e) {
    return `mariadb-install-db failed: ${(e as Error).message}`;
  }
  const port = await freePort();
  const child: ChildProcess = spawn(binary, ['--no-defaults', `--datadir=${dir}/data`, `--port=${port}`, '--bind-address=127.0.0.1',
    `--socket=${dir}/sock`, `--pid-file=${dir}/pid`, '--user=root', '--local-infile=1'], { stdio: 'ignore' });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  t.teardown(async () => {
    child.kill('SIGTERM');
    await exited;
  });
  const s: TestServer = { host: '127.0.0.1', port, user: 'root', env: { ...process.env, EDX_PIPES_NO_DEFAULTS: '1', MYSQL_HOST: '127.0.0.1', MYSQL_TCP_PORT: String(port), MYSQL_USER: 'root' } };
  delete s.env.MYSQL_PWD;
  // Wait until it answers (or dies): a condition, not a fixed time.
  let dead = false;
  void exited.then(() => (dead = true));
  for (let i = 0; i < 600 && !dead; i++) {
    try {
      await (await open(s)).end();
      return s;
    } catch {
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  return dead ? 'the private mariadbd exited at start' : 'the private mariadbd did not answer within a minute';
}

/** The SQL script through the mariadb client; `init` runs first in its session (--init-command). */
function client(s: TestServer, script: string, init?: string): Promise<{ code: number | null; stderr: string }> {
  return new Promise((resolve, reject) => {
    // The password, if any, travels in the environment (MYSQL_PWD), never on the command line.
    const args = ['--no-defaults', '-h', s.host, '-P', String(s.port), '-u', s.user, '--default-character-set=utf8mb4'];
    if (init !== undefined) args.push(`--init-command=${init}`);
    const p = spawn(CLIENT!, args, { env: toolEnv(s.env), stdio: ['pipe', 'ignore', 'pipe'] });
    let stderr = '';
    p.stderr!.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    p.on('error', reject);
    p.on('close', (code) => resolve({ code, stderr }));
    p.stdin!.end(script);
  });
}

/** `edx-json2sql LOG --rows | edx-csvload ARGS`. */
function rowStream(s: TestServer, args: string[]): Promise<{ code: number | null; stderr: string }> {
  return new Promise((resolve, reject) => {
    const q = (x: string) => `'${x.replace(/'/g, `'\\''`)}'`;
    const bin = (tool: string) => q(join(REPO, 'bin', tool));
    const cmd = `${bin('edx-json2sql')} --quiet ${q(log)} --rows | ${bin('edx-csvload')} --quiet ${args.map(q).join(' ')}`;
    const p = spawn('/usr/bin/env', ['-u', 'NODE_OPTIONS', 'bash', '-o', 'pipefail', '-c', cmd], { env: toolEnv(s.env) });
    let stderr = '';
    p.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    p.stdout.resume();
    p.on('error', reject);
    p.on('close', (code) => resolve({ code, stderr }));
  });
}

/** Every table's rows (LoadInfo without the time of the load), as sorted text: equal tables, equal text. */
async function contents(c: Connection, names: DatabaseNames): Promise<Record<string, string[]>> {
  await c.query("SET SESSION sql_mode = ''"); // our reading must not depend on the server's mode either
  const out: Record<string, string[]> = {};
  for (const table of ALL_TABLES) {
    const cols = table.columns.filter((col) => !(table === LoadInfo && col.name === 'load_date_time'));
    const [rows] = await c.query<RowDataPacket[]>({
      sql: `SELECT ${cols.map((col) => `\`${col.name}\``).join(', ')} FROM \`${names[table.database]}\`.\`${table.name}\``,
      rowsAsArray: true,
    });
    out[table.name] = rows.map((r) => JSON.stringify(r)).sort();
  }
  return out;
}

const databaseExists = async (c: Connection, db: string) =>
  ((await c.query<RowDataPacket[]>('SELECT COUNT(*) AS n FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = ?', [db]))[0][0].n as number) > 0;

/** Fresh warehouse names, dropped at the end (a private server goes whole). */
function warehouse(t: Test, s: TestServer, prefix: string): { names: DatabaseNames; args: string[] } {
  const names = { Edx: uniqueName(`${prefix}_edx`), EdxPrivate: uniqueName(`${prefix}_priv`) };
  if (s !== shared) return { names, args: ['--edx-db', names.Edx, '--private-db', names.EdxPrivate] };
  t.teardown(async () => {
    const c = await open(s);
    await c.query(`DROP DATABASE IF EXISTS \`${names.Edx}\``);
    await c.query(`DROP DATABASE IF EXISTS \`${names.EdxPrivate}\``);
    await c.end();
  });
  return { names, args: ['--edx-db', names.Edx, '--private-db', names.EdxPrivate] };
}

// ---------------------------------------------------------------------------------------------

const shared = await testServer();
const admin = await open(shared);
t.teardown(() => admin.end());

t.equal(INJECTION.split(',').length - 1, EdxTrackEvent.columns.length - 1 - agentIndex, 'the injection gives every column after agent a literal');

/** The reference: the collection, loaded by edx-csvload on the test server as it is. */
const ref = warehouse(t, shared, 'sqlm_ref');
let reference: Record<string, string[]> = {};
t.test('the reference load', async (t) => {
  const csvDir = join(tmp, 'csv');
  const tr = await runTool('edx-json2sql', ['--quiet', '--csv', csvDir, ...ref.args, log]);
  t.equal(tr.code, 0, 'edx-json2sql --csv', { stderr: tr.stderr });
  const init = await runTool('edx-csvload', ['--quiet', '--init', ...ref.args], { env: shared.env });
  t.equal(init.code, 0, 'reference: --init', { stderr: init.stderr });
  const load = await runTool('edx-csvload', ['--quiet', ...ref.args, csvDir], { env: shared.env });
  t.equal(load.code, 0, 'reference: the collection loads', { stderr: load.stderr });
  reference = await contents(admin, ref.names);
  t.equal(reference.EdxTrackEvent.length, HOSTILE.length, 'the reference holds one event per hostile value');
  t.ok(reference.EdxTrackEvent.some((r) => r.includes('DROP DATABASE')), 'the injection is stored as a value');
});

/** The SQL script of each warehouse (database names are part of its text). */
async function script(args: string[]): Promise<string> {
  const tr = await runTool('edx-json2sql', ['--quiet', ...args, log]);
  if (tr.code !== 0) throw new Error(`edx-json2sql failed: ${tr.stderr}`);
  return tr.stdout;
}

t.test('per session: the SQL script through the mariadb client under each sql_mode', { skip: CLIENT ? false : 'no mariadb/mysql client installed' }, async (t) => {
  await admin.query(`CREATE DATABASE \`${victim}\``);
  t.teardown(() => admin.query(`DROP DATABASE IF EXISTS \`${victim}\``));
  for (const mode of MODES) {
    const w = warehouse(t, shared, 'sqlm_s');
    const r = await client(shared, await script(w.args), `SET SESSION sql_mode='${mode}'`);
    t.equal(r.code, 0, `'${mode}': the script loads`, { stderr: r.stderr });
    t.ok(await databaseExists(admin, victim), `'${mode}': the victim database is still there`);
    t.same(await contents(admin, w.names), reference, `'${mode}': the tables are the reference's`);
  }
  // The issue's own command: the mode added to the session's.
  const w = warehouse(t, shared, 'sqlm_s');
  const r = await client(shared, await script(w.args), "SET SESSION sql_mode=CONCAT(@@sql_mode,',NO_BACKSLASH_ESCAPES')");
  t.equal(r.code, 0, 'CONCAT(@@sql_mode, NO_BACKSLASH_ESCAPES): the script loads', { stderr: r.stderr });
  t.ok(await databaseExists(admin, victim), 'the victim database is still there');
  t.same(await contents(admin, w.names), reference, 'the tables are the reference\'s');
});

t.test('globally, on a private server: all three paths under each sql_mode', async (t) => {
  const s = await privateServer(t);
  if (typeof s === 'string') {
    t.comment(`skipped: the global sql_mode is changed only on a private server, and ${s}`);
    return;
  }
  const c = await open(s);
  t.teardown(() => c.end());
  await c.query(`CREATE DATABASE \`${victim}\``);
  for (const mode of MODES) {
    await c.query(`SET GLOBAL sql_mode = '${mode}'`); // new sessions (the tools', the client's) start in it
    const [[{ m }]] = await c.query<RowDataPacket[]>('SELECT @@GLOBAL.sql_mode AS m');
    t.comment(`global sql_mode '${mode}' reads as '${m}'`);

    if (CLIENT) {
      const a = warehouse(t, s, 'sqlm_g');
      const r = await client(s, await script(a.args));
      t.equal(r.code, 0, `'${mode}': the SQL script loads`, { stderr: r.stderr });
      t.same(await contents(c, a.names), reference, `'${mode}': SQL script: the tables are the reference's`);
    }

    const b = warehouse(t, s, 'sqlm_g');
    const init = await runTool('edx-csvload', ['--quiet', '--init', ...b.args], { env: s.env });
    t.equal(init.code, 0, `'${mode}': edx-csvload --init`, { stderr: init.stderr });
    const dir = join(tmp, `csv-${mode || 'empty'}`);
    const tr = await runTool('edx-json2sql', ['--quiet', '--csv', dir, ...b.args, log]);
    t.equal(tr.code, 0, `'${mode}': edx-json2sql --csv`, { stderr: tr.stderr });
    const load = await runTool('edx-csvload', ['--quiet', ...b.args, dir], { env: s.env });
    t.equal(load.code, 0, `'${mode}': the collection loads`, { stderr: load.stderr });
    t.same(await contents(c, b.names), reference, `'${mode}': collection: the tables are the reference's`);

    const d = warehouse(t, s, 'sqlm_g');
    const init2 = await runTool('edx-csvload', ['--quiet', '--init', ...d.args], { env: s.env });
    t.equal(init2.code, 0, `'${mode}': edx-csvload --init`, { stderr: init2.stderr });
    const piped = await rowStream(s, d.args);
    t.equal(piped.code, 0, `'${mode}': the row stream loads`, { stderr: piped.stderr });
    t.same(await contents(c, d.names), reference, `'${mode}': row stream: the tables are the reference's`);

    t.ok(await databaseExists(c, victim), `'${mode}': the victim database is still there`);
  }
});
