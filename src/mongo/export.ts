// Either form of a MongoDB export, chosen by the file's name: mongodump's BSON or mongoexport's JSON.
import { readJsonRecords, type BrokenRecord, type JsonRecord } from './json-records.js';

/** The documents of an export file: mongodump's BSON (`.bson`, `.bson.gz`), else JSON as above. */
export async function* readExportRecords(path: string, onBroken: (b: BrokenRecord) => void): AsyncGenerator<JsonRecord> {
  if (/\.bson(\.gz)?$/i.test(path)) {
    const { readBsonRecords } = await import('./bson-records.js'); // bson is loaded only for BSON
    yield* readBsonRecords(path, onBroken);
  } else {
    yield* readJsonRecords(path, onBroken);
  }
}
