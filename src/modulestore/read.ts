// Reading a modulestore export into the model (model.ts): one file, or a directory of collection
// exports (docs/refresh-course.md "Modulestore input").
//
//   - a file: JSON array, {"all": […]}, an object of collections or NDJSON, plain or gzip; any mix
//     of old-store modules and split-store documents (kept whole until the end: fine for a few
//     courses, memory grows with the file);
//   - a directory: one file per collection as mongoexport or mongodump writes them, e.g.
//     modulestore.active_versions.json (or .bson), modulestore.structures.json,
//     modulestore.definitions.json and modulestore.json (the old store). They are read in that order, so only the published
//     structures and the definitions they use are kept: the size of the whole store's history
//     does not matter.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { parseJsonRecords, type BrokenRecord } from '../mongo/json-records.js';
import { readExportRecords } from '../mongo/export.js';
import { parseBsonRecords } from '../mongo/bson-records.js';
import { progressClock } from '../io/progress.js';
import { ToolError } from '../core/errors.js';
import { readFailure } from '../io/input.js';
import { ModulestoreModel } from './model.js';

/** A file a modulestore directory holds, and where in the reading order it comes. */
interface CollectionFile {
  path: string;
  /** 0 active versions, 1 structures, 2 definitions, 3 anything else (old store, mixed). */
  order: number;
}

/** An export that cannot be read: the user's input, said plainly (path and reason), never a stack. */
export class ExportError extends ToolError {}

/** Files of a collection: mongoexport's JSON, or mongodump's BSON (plain or gzip). */
const JSON_FILE = /\.(json|jsonl|ndjson|bson)(\.gz)?$/i;
const BSON_FILE = /\.bson(\.gz)?$/i;

function collectionOrder(name: string): number {
  if (/active_versions/i.test(name)) return 0;
  if (/structures/i.test(name)) return 1;
  if (/definitions/i.test(name)) return 2;
  return 3;
}

/** The export files of a path: the file itself, or a directory's JSON files in reading order. */
export function exportFiles(path: string): { files: CollectionFile[]; ignored: string[] } {
  let st;
  try {
    st = statSync(path);
  } catch (e) {
    throw new ExportError(`cannot read the modulestore export ${path}: ${readFailure(e)}`);
  }
  if (!st.isDirectory()) {
    return { files: [{ path, order: 3 }], ignored: [] };
  }
  const names = readdirSync(path).sort();
  // mongodump writes <collection>.metadata.json (its indexes) beside each .bson: no documents.
  const json = names.filter((n) => JSON_FILE.test(n) && !/\.metadata\.json$/i.test(n));
  if (json.length === 0) throw new ExportError(`${path}: no .json or .bson export in the directory`);
  const files = json.map((n) => ({ path: join(path, n), order: collectionOrder(n) })).sort((a, b) => a.order - b.order);
  return { files, ignored: names.filter((n) => !json.includes(n)) };
}

/**
 * Read a modulestore export into a model; broken documents go to `onBroken` as they are met,
 * and a long read says how far it got through `progress`.
 */
export async function readModulestore(
  path: string,
  onBroken: (where: string, b: BrokenRecord) => void,
  progress: (file: string, documents: number) => void = () => undefined,
): Promise<{ model: ModulestoreModel; ignored: string[]; documents: number }> {
  const { files, ignored } = exportFiles(path);
  const due = progressClock();
  const model = new ModulestoreModel();
  let documents = 0;
  const hasOrder = (o: number) => files.some((f) => f.order === o);
  for (let order = 0; order <= 3; order++) {
    for (const f of files.filter((x) => x.order === order)) {
      try {
        for await (const r of readExportRecords(f.path, (b) => onBroken(f.path, b))) {
          documents++;
          model.add(r.value, `${f.path}:${r.line}`);
          if ((documents & 0x3ff) === 0 && due()) progress(f.path, documents);
        }
      } catch (e) {
        throw new ExportError(`cannot read ${f.path}: ${readFailure(e)}`);
      }
    }
    // Only a directory's own collection files tell where a collection ends.
    if (order === 0 && hasOrder(0)) model.endOfActiveVersions();
    if (order === 1 && hasOrder(0) && hasOrder(1)) model.endOfStructures();
  }
  return { model, ignored, documents };
}

/**
 * The same, synchronously (edx-json2sql reads its --modulestore before the first line);
 * `onDocument` sees every document first.
 */
export function readModulestoreSync(
  path: string,
  onBroken: (where: string, b: BrokenRecord) => void,
  onDocument: (doc: Record<string, unknown>) => void = () => undefined,
): ModulestoreModel {
  const { files } = exportFiles(path);
  const model = new ModulestoreModel();
  const hasOrder = (o: number) => files.some((f) => f.order === o);
  for (let order = 0; order <= 3; order++) {
    for (const f of files.filter((x) => x.order === order)) {
      let records;
      try {
        const raw = readFileSync(f.path);
        const bytes = raw[0] === 0x1f && raw[1] === 0x8b ? gunzipSync(raw) : raw;
        const onBrokenHere = (b: BrokenRecord) => onBroken(f.path, b);
        records = BSON_FILE.test(f.path) ? parseBsonRecords(bytes, onBrokenHere) : parseJsonRecords(bytes.toString('utf8'), onBrokenHere);
      } catch (e) {
        throw new ExportError(`cannot read ${f.path}: ${readFailure(e)}`);
      }
      for (const r of records) {
        onDocument(r.value);
        model.add(r.value, `${f.path}:${r.line}`);
      }
    }
    if (order === 0 && hasOrder(0)) model.endOfActiveVersions();
    if (order === 1 && hasOrder(0) && hasOrder(1)) model.endOfStructures();
  }
  return model;
}
