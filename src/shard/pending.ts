// The logs of a local mirror still to transform and load (docs/pipeline.md, "what done means"):
// those LoadInfo does not record, and those whose mirror file changed since they were loaded (the
// object was replaced and pulled again). What `make transform` asks before it makes its targets.
import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { RowDataPacket } from 'mysql2/promise';
import { ToolError } from '../core/errors.js';
import { LoadInfo } from '../schema/tables.js';
import { qualifiedName } from '../schema/ddl.js';
import type { DatabaseNames } from '../schema/table.js';
import { LoadedFiles } from '../s3/list.js';
import { connect, type ConnectionSettings } from '../mysql/connection.js';
import { mtimeOf, newerThan } from '../io/stamps.js';

export interface PendingOptions {
  /** The mirror's root; keys are paths below it. */
  root: string;
  /** Which files are tracking logs (searched in the key). */
  pattern: RegExp;
  /** Where the load step stamps each loaded key with its log's time (optional). */
  stamps?: string;
  names: DatabaseNames;
  settings: ConnectionSettings;
  /** A dry run takes no log as loaded when LoadInfo cannot be read, instead of failing. */
  dryRun?: boolean;
  say: (msg: string) => void;
}

export interface PendingLog {
  key: string;
  /** Loaded before, but the mirror file is newer than that load: its load replaces the old rows. */
  changed: boolean;
}

/** Regular files under root matching the pattern, as sorted keys; links are followed (as find -L). */
export async function mirrorKeys(root: string, pattern: RegExp): Promise<string[]> {
  const keys: string[] = [];
  const seen = new Set<string>();
  async function walk(dir: string, prefix: string): Promise<void> {
    const real = await stat(dir).catch(() => undefined);
    if (!real?.isDirectory()) return;
    // A link back up the tree would loop: each directory once.
    const id = `${real.dev}:${real.ino}`;
    if (seen.has(id)) return;
    seen.add(id);
    for (const name of (await readdir(dir)).sort()) {
      const path = join(dir, name);
      const s = await stat(path).catch(() => undefined);
      if (!s) continue;
      const key = prefix + name;
      if (s.isDirectory()) await walk(path, key + '/');
      else if (s.isFile() && name.endsWith('.gz') && pattern.test(key)) keys.push(key);
    }
  }
  await walk(root, '');
  return keys.sort();
}

/** load_file → its latest load time (ms), or an empty map when the warehouse does not exist yet. */
async function loadTimes(o: PendingOptions): Promise<Map<string, number>> {
  const table = qualifiedName(LoadInfo, o.names);
  const times = new Map<string, number>();
  try {
    const conn = await connect(o.settings);
    try {
      const [rows] = await conn.query<RowDataPacket[]>(
        `SELECT load_file, DATE_FORMAT(load_date_time, '%Y-%m-%dT%H:%i:%s.%fZ') AS t FROM ${table}`,
      );
      for (const r of rows) {
        const t = Date.parse(String(r.t));
        const f = String(r.load_file);
        if (!((times.get(f) ?? -Infinity) >= t)) times.set(f, t);
      }
    } finally {
      await conn.end().catch(() => undefined);
    }
  } catch (e) {
    const code = (e as { code?: string }).code;
    if (code === 'ER_NO_SUCH_TABLE' || code === 'ER_BAD_DB_ERROR') o.say(`${table} does not exist yet: no log is loaded`);
    else if (o.dryRun) o.say(`cannot read ${table} (${(e as Error).message}); the dry run takes no log as loaded`);
    else throw new ToolError(`cannot read ${table}, so cannot tell which logs are loaded: ${(e as Error).message}`);
  }
  return times;
}

/**
 * The logs under root not loaded yet or changed since their load, sorted by key. Changed: newer
 * than the key's stamp, or without a stamp newer than its LoadInfo time.
 */
export async function pendingLogs(o: PendingOptions): Promise<PendingLog[]> {
  const keys = await mirrorKeys(o.root, o.pattern);
  if (!keys.length) return [];
  const times = await loadTimes(o);
  const loaded = new LoadedFiles([...times.keys()]).among(keys, o.root);
  const out: PendingLog[] = [];
  for (const key of keys) {
    const file = loaded.get(key);
    if (file === undefined) {
      out.push({ key, changed: false });
      continue;
    }
    const since = (o.stamps ? await mtimeOf(join(o.stamps, key)) : undefined) ?? times.get(file)!;
    const log = await mtimeOf(join(o.root, key));
    if (log !== undefined && newerThan(log, since)) out.push({ key, changed: true });
  }
  return out;
}
