// `edx-csvload --init`: the databases, every table (with its indexes and initial partitions), the
// forum key and the stored routines. Idempotent: tables are created only when missing, routines are
// replaced. Replacing a warehouse that has tables needs `replace` (and is announced).
import type { Connection, RowDataPacket } from 'mysql2/promise';
import { createAllTables, createDatabases, dropAllTables } from '../schema/ddl.js';
import { ALL_TABLES } from '../schema/tables.js';
import type { DatabaseNames } from '../schema/table.js';
import { keysTable, ROUTINES, routineStatements } from '../schema/routines.js';
import { neededDatabase, PLATFORM_VIEWS, RESEARCH_ROUTINES } from '../schema/research.js';
import { plural } from '../core/plural.js';

/** What --init creates: the original's routines and views, and the research views. */
const INIT_ROUTINES = [...ROUTINES, ...RESEARCH_ROUTINES];

export class InitError extends Error {}

export interface InitOptions {
  /** The warehouse's databases, and edxprod's, which routines over the platform copy name. */
  names: DatabaseNames;
  replace?: boolean;
  /** The forum passphrase (file content without trailing newlines); undefined: leave the key alone. */
  forumPassphrase?: string;
  dryRun?: boolean;
  say: (msg: string) => void;
}

/** Our tables that already exist, with their approximate row counts. */
async function existingTables(conn: Connection, names: DatabaseNames): Promise<{ name: string; rows: number }[]> {
  const [rows] = await conn.query<RowDataPacket[]>(
    'SELECT TABLE_SCHEMA AS db, TABLE_NAME AS t, TABLE_ROWS AS n FROM information_schema.TABLES WHERE TABLE_SCHEMA IN (?, ?)',
    [names.Edx, names.EdxPrivate],
  );
  const ours = new Set(ALL_TABLES.map((t) => `${names[t.database]}.${t.name}`));
  return rows.map((r) => ({ name: `${r.db}.${r.t}`, rows: Number(r.n ?? 0) })).filter((r) => ours.has(r.name));
}

export async function initWarehouse(conn: Connection, opts: InitOptions): Promise<void> {
  const { names, say } = opts;
  const existing = await existingTables(conn, names);
  const statements: string[] = [];
  if (existing.length && opts.replace) {
    say(
      `replacing the existing warehouse ${names.Edx}/${names.EdxPrivate}: dropping ${plural(existing.length, 'table')} ` +
        `(about ${plural(existing.reduce((a, t) => a + t.rows, 0), 'row')}) and creating them empty`,
    );
    statements.push(...dropAllTables(true, names));
  } else if (existing.length) {
    say(`${existing.length} of ${ALL_TABLES.length} tables ${existing.length === 1 ? 'exists' : 'exist'} already and ${existing.length === 1 ? 'is' : 'are'} kept (use --replace to drop and recreate them)`);
  }
  statements.push(...createDatabases(names), ...createAllTables(names), keysTable(names));
  for (const r of INIT_ROUTINES) statements.push(...routineStatements(r, names));

  let key: string | undefined;
  if (opts.forumPassphrase !== undefined) {
    if (!opts.forumPassphrase) throw new InitError('the forum passphrase file is empty');
    // The passphrase travels as a bound parameter, never as SQL text.
    const [rows] = await conn.query<RowDataPacket[]>('SELECT SHA2(?, 224) AS k', [opts.forumPassphrase]);
    key = String(rows[0].k);
  }

  if (opts.dryRun) {
    say(`dry run: would run ${plural(statements.length, 'statement')}: create ${names.Edx} and ${names.EdxPrivate} if missing, ` +
      `${ALL_TABLES.length} tables if missing, ${INIT_ROUTINES.length} routines and views` +
      (key ? ', and set the forum key' : ''));
    return;
  }
  for (const sql of statements) await conn.query(sql);

  const keys = `\`${names.EdxPrivate}\`.\`Keys\``;
  if (key !== undefined) {
    const [rows] = await conn.query<RowDataPacket[]>(`SELECT forumKey FROM ${keys}`);
    const current = rows.map((r) => String(r.forumKey));
    if (current.length === 1 && current[0] === key) {
      say('forum key unchanged');
    } else {
      if (current.some((k) => k !== '') && !opts.replace) {
        throw new InitError(
          `${keys} holds a different forum key; changing it changes every forum uid. Use --replace to change it`,
        );
      }
      if (current.length) say('replacing the forum key');
      await conn.query('START TRANSACTION');
      await conn.query(`DELETE FROM ${keys}`);
      await conn.query(`INSERT INTO ${keys} (forumKey) VALUES (?)`, [key]);
      await conn.query('COMMIT');
      if (!current.length) say('forum key set');
    }
  } else {
    const [rows] = await conn.query<RowDataPacket[]>(`SELECT COUNT(*) AS n FROM ${keys} WHERE forumKey <> ''`);
    if (!Number(rows[0].n)) say('no forum key yet (--forum-key-file FILE sets it); idInt2Forum returns NULL until then');
  }
  const platform = await createPlatformViews(conn, names);
  say(`${names.Edx} and ${names.EdxPrivate} are ready: ${ALL_TABLES.length} tables, ${INIT_ROUTINES.length} routines and views` +
    (platform.made.length ? `, and the views ${platform.made.join(', ')}` : ''));
}

/**
 * The views over the refresh's tables whose tables exist now (made or replaced), and those
 * still waiting for a table (edx-refresh makes them after its jobs; --init when they exist).
 */
export async function createPlatformViews(conn: Connection, names: DatabaseNames): Promise<{ made: string[]; waiting: string[] }> {
  const made: string[] = [];
  const waiting: string[] = [];
  for (const view of PLATFORM_VIEWS) {
    let ready = true;
    for (const [db, table] of view.needs) {
      const [rows] = await conn.query<RowDataPacket[]>(
        'SELECT 1 FROM information_schema.TABLES WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ?', [neededDatabase(db, names), table]);
      if (rows.length === 0) ready = false;
    }
    if (!ready) {
      waiting.push(view.name);
      continue;
    }
    for (const sql of routineStatements(view, names)) await conn.query(sql);
    made.push(view.name);
  }
  return { made, waiting };
}
