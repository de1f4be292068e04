// The load step of the pipeline (make load, and the load job of a backfill): every COMPLETE
// collection under a directory, `<out>/<key>.csv/` as the transform names them. A collection still
// being written is `<key>.csv.partial/` and is left alone, so the load may run while shards write.
// After a collection loaded (or LoadInfo had it already), the key's stamp gets its log's time, its
// reject report is kept as `<rejects>/<key>.jsonl`, and the collection is deleted; a collection whose
// load failed stays. A log that changed since it was loaded (mirror file newer than its stamp, or
// without a stamp than its LoadInfo time; or marked `.reload`) is loaded again over its old rows.
import { copyFile, mkdir, readdir, rename, rm, rmdir, stat, unlink, writeFile } from 'node:fs/promises';
import { dirname, join, relative } from 'node:path';
import type { Connection, RowDataPacket } from 'mysql2/promise';
import { readManifest, MANIFEST_SUFFIX } from '../csv/collection.js';
import { LoadInfo } from '../schema/tables.js';
import { qualifiedName } from '../schema/ddl.js';
import type { DatabaseNames } from '../schema/table.js';
import type { LoadTask } from './parallel.js';
import { copyTimes, mtimeOf, newerThan } from '../io/stamps.js';
import { noun, plural } from '../core/plural.js';

export interface CollectionDirOptions {
  /** Where the transform writes `<key>.csv/` collections. */
  out: string;
  /** The mirror the logs were transformed from (their times decide stamps and changed logs). */
  logRoot?: string;
  /** Where each loaded key gets a stamp file with its log's time. */
  stamps?: string;
  /** Where a loaded collection's non-empty rejects.jsonl is kept as `<key>.jsonl`. */
  rejects?: string;
  names: DatabaseNames;
  say: (msg: string) => void;
}

/** Complete collections under out (directories named *.csv holding a manifest), sorted. */
export async function completeCollections(out: string): Promise<string[]> {
  const found: string[] = [];
  async function walk(dir: string): Promise<void> {
    const entries = await readdir(dir, { withFileTypes: true }).catch(() => []);
    if (dir !== out && dir.endsWith('.csv') && entries.some((e) => e.isFile() && e.name.endsWith(MANIFEST_SUFFIX) && !e.name.startsWith('.'))) {
      found.push(dir);
      return;
    }
    for (const e of entries) if (e.isDirectory() && !e.name.endsWith('.partial')) await walk(join(dir, e.name));
  }
  await walk(out);
  return found.sort();
}

/** `<out>/<key>.csv` → `<key>`. */
export const keyOf = (out: string, collection: string) => relative(out, collection).replace(/\.csv$/, '');

/** When LoadInfo recorded this source last (ms), if it did. */
async function loadedAt(conn: Connection, names: DatabaseNames, loadInfoId: string): Promise<number | undefined> {
  try {
    const [rows] = await conn.query<RowDataPacket[]>(
      `SELECT DATE_FORMAT(load_date_time, '%Y-%m-%dT%H:%i:%s.%fZ') AS t FROM ${qualifiedName(LoadInfo, names)} WHERE load_info_id = ?`, [loadInfoId]);
    return rows.length ? Date.parse(String(rows[0].t)) : undefined;
  } catch {
    return undefined; // no warehouse yet: the loader says so
  }
}

/** Move a file, across file systems too. */
async function moveFile(from: string, to: string): Promise<void> {
  try {
    await rename(from, to);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EXDEV') throw e;
    await copyFile(from, to);
    await unlink(from);
  }
}

async function countLines(path: string): Promise<number> {
  const { createReadStream } = await import('node:fs');
  let n = 0;
  for await (const chunk of createReadStream(path) as AsyncIterable<Buffer>) for (let i = chunk.indexOf(10); i >= 0; i = chunk.indexOf(10, i + 1)) n++;
  return n;
}

/** After a collection loaded: stamp, keep the rejects, delete it (and the directories it leaves empty). */
async function afterLoad(o: CollectionDirOptions, collection: string): Promise<void> {
  const key = keyOf(o.out, collection);
  if (o.stamps) {
    const stamp = join(o.stamps, key);
    await mkdir(dirname(stamp), { recursive: true });
    await writeFile(stamp, '');
    if (o.logRoot) await copyTimes(join(o.logRoot, key), stamp).catch(() => undefined); // no log: the stamp has the load's time
  }
  if (o.rejects) {
    const kept = join(o.rejects, `${key}.jsonl`);
    const rejects = join(collection, 'rejects.jsonl');
    if (((await stat(rejects).catch(() => undefined))?.size ?? 0) > 0) {
      await mkdir(dirname(kept), { recursive: true });
      await moveFile(rejects, kept);
      const n = await countLines(kept);
      o.say(`${plural(n, 'line')} of ${key} ${noun(n, 'was', 'were')} rejected (file, line, reason, text): ${kept}`);
    } else {
      await rm(kept, { force: true });
    }
  }
  await rm(collection, { recursive: true, force: true });
  for (let d = dirname(collection); d.startsWith(o.out + '/'); d = dirname(d)) {
    if (!(await rmdir(d).then(() => true, () => false))) break;
  }
}

/** One task per complete collection of the directory. */
export async function collectionTasks(o: CollectionDirOptions): Promise<LoadTask[]> {
  const tasks: LoadTask[] = [];
  for (const collection of await completeCollections(o.out)) {
    const names = (await readdir(collection)).filter((n) => n.endsWith(MANIFEST_SUFFIX) && !n.startsWith('.')).sort();
    const sources = await Promise.all(names.map((n) => readManifest(join(collection, n))));
    const key = keyOf(o.out, collection);
    tasks.push({
      label: collection,
      sources,
      force: async (conn) => {
        if ((await stat(join(collection, '.reload')).catch(() => undefined)) !== undefined) return true;
        if (!o.logRoot) return false;
        const log = await mtimeOf(join(o.logRoot, key));
        if (log === undefined) return false;
        const stamp = o.stamps ? await mtimeOf(join(o.stamps, key)) : undefined;
        for (const s of sources) {
          const at = await loadedAt(conn, o.names, s.source.loadInfoId);
          if (at === undefined) continue;
          if (newerThan(log, stamp ?? at)) {
            o.say(`${key} changed since it was loaded: loaded again (its rows replace the old ones)`);
            return true;
          }
        }
        return false;
      },
      done: () => afterLoad(o, collection),
    });
  }
  return tasks;
}
