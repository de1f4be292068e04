// For the course/country/forum refresh tests: throwaway databases for all four logical ones,
// running bin/edx-refresh against them, table snapshots, and the tables other jobs build that
// ours read (EdxPrivate.UserGrade, in its production layout of docs/original.md#job-usergrade).
import { join } from 'node:path';
import type { Connection } from 'mysql2/promise';
import { REPO, runTool, type ToolResult } from './tools.js';
import { testConnection, testServer, uniqueName } from './mariadb.js';

export const FIXTURES = join(REPO, 'test', 'fixtures', 'refresh-course');

export interface RefreshDbs {
  edx: string;
  priv: string;
  forum: string;
  /** --edx-db … --private-db … --forum-db … */
  args: string[];
}

/** Four throwaway database names (the tools create the databases), dropped when the test ends. */
export function refreshDatabases(t: { teardown(fn: () => Promise<void>): void }, prefix: string): RefreshDbs {
  const [edx, priv, forum] = ['e', 'p', 'f'].map((s) => uniqueName(`${prefix}${s}`));
  t.teardown(async () => {
    const c = await testConnection();
    await c.query(`DROP DATABASE IF EXISTS \`${edx}\`; DROP DATABASE IF EXISTS \`${priv}\`; DROP DATABASE IF EXISTS \`${forum}\``);
    await c.end();
  });
  return { edx, priv, forum, args: ['--edx-db', edx, '--private-db', priv, '--forum-db', forum] };
}

/** bin/edx-refresh on the test server, with these databases. */
export async function refresh(dbs: RefreshDbs, args: string[]): Promise<ToolResult> {
  const srv = await testServer();
  return runTool('edx-refresh', [...dbs.args, ...args], { env: srv.env });
}

/** Any other tool of ours on the test server. */
export async function tool(name: string, args: string[], input?: string): Promise<ToolResult> {
  const srv = await testServer();
  return runTool(name, args, { env: srv.env, input });
}

/** Every row of a table as arrays, in the given order; undefined when the table does not exist. */
export async function snapshot(c: Connection, db: string, table: string, orderBy: string): Promise<unknown[][] | undefined> {
  const [exists] = await c.query('SELECT COUNT(*) AS n FROM information_schema.TABLES WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ?', [db, table]);
  if (Number((exists as { n: number }[])[0].n) === 0) return undefined;
  const [rows] = await c.query({ sql: `SELECT * FROM \`${db}\`.\`${table}\` ORDER BY ${orderBy}`, rowsAsArray: true });
  return rows as unknown[][];
}

/** The tables of a database. */
export async function tablesOf(c: Connection, db: string): Promise<string[]> {
  const [rows] = await c.query('SELECT TABLE_NAME AS t FROM information_schema.TABLES WHERE TABLE_SCHEMA = ? ORDER BY 1', [db]);
  return (rows as { t: string }[]).map((r) => r.t);
}

/**
 * EdxPrivate.UserGrade as cronRefreshGrades.sh creates it (docs/original.md#job-usergrade), which the
 * usergrade job of the platform refresh builds; here it is made by hand, with these rows.
 */
export async function createUserGrade(
  c: Connection,
  priv: string,
  rows: { name: string; screenName: string; userId: number; anon: string; course?: string; grade?: number }[],
): Promise<void> {
  await c.query(`CREATE DATABASE IF NOT EXISTS \`${priv}\``);
  await c.query(`CREATE TABLE \`${priv}\`.\`UserGrade\` (
      name varchar(255) NOT NULL DEFAULT '', screen_name varchar(255) NOT NULL DEFAULT '', grade double NOT NULL DEFAULT 0,
      course_id varchar(255) NOT NULL DEFAULT '', distinction tinyint NOT NULL DEFAULT 0, status varchar(50) NOT NULL DEFAULT '',
      user_int_id int NOT NULL, anon_screen_name varchar(40) NOT NULL DEFAULT '',
      KEY GradesUIDIdx (user_int_id), KEY GradesAnonIdx (anon_screen_name))`);
  for (const r of rows) {
    await c.query(`INSERT INTO \`${priv}\`.\`UserGrade\` (name, screen_name, grade, course_id, status, user_int_id, anon_screen_name) VALUES (?, ?, ?, ?, 'downloadable', ?, ?)`,
      [r.name, r.screenName, r.grade ?? 0, r.course ?? '', r.userId, r.anon]);
  }
}
