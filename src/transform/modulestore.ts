// Display names from a modulestore export (transform.md §4.8, decisions.md §7): given by option,
// never fetched. Accepts a JSON array of records, {"all": [...]}, optionally after '#' comment
// lines, or NDJSON (one record per line, as mongoexport writes).
import { readFileSync } from 'node:fs';
import { isObject } from './values.js';

export interface ModuleInfo {
  org: string;
  courseShortName: string;
  category: string;
  name: string;
  displayName: string;
}

export class Modulestore {
  /** hash (or course short name, or course_category_name) → module */
  private byKey = new Map<string, ModuleInfo>();
  /** course short name → org/short/run */
  private canonical = new Map<string, string>();

  static empty(): Modulestore {
    return new Modulestore([]);
  }

  static fromFile(file: string): Modulestore {
    const text = readFileSync(file, 'utf8')
      .split('\n')
      .filter((l) => !l.trimStart().startsWith('#'))
      .join('\n')
      .trim();
    let records: unknown[];
    if (text.startsWith('[')) records = JSON.parse(text);
    else if (text.startsWith('{') && /^\{\s*"all"\s*:/.test(text)) records = JSON.parse(text).all;
    else records = text.split('\n').filter((l) => l.trim()).map((l) => JSON.parse(l));
    if (!Array.isArray(records)) throw new Error(`${file}: not a modulestore export (expected an array of records)`);
    return new Modulestore(records);
  }

  constructor(records: unknown[]) {
    for (const r of records) {
      if (!isObject(r) || !isObject(r._id) || !isObject(r.metadata)) continue;
      const id = r._id;
      const str = (v: unknown) => (typeof v === 'string' ? v : '');
      const info: ModuleInfo = {
        org: str(id.org),
        courseShortName: str(id.course),
        category: str(id.category),
        name: str(id.name),
        displayName: str(r.metadata.display_name),
      };
      let key: string;
      if (info.category === 'course') key = info.courseShortName;
      else if (/^[a-f0-9]{32}$/.test(info.name)) key = info.name;
      else key = `${info.courseShortName}_${info.category}_${info.name}`;
      this.byKey.set(key, info);
      if (info.category === 'course' && /^[A-Za-z]/.test(info.courseShortName)) {
        this.canonical.set(info.courseShortName, `${info.org}/${info.courseShortName}/${info.name}`);
      }
    }
  }

  get size(): number {
    return this.byKey.size;
  }

  displayName(hash: string): string | undefined {
    return this.byKey.get(hash)?.displayName;
  }

  /** org/course/run of the course a hash belongs to (courseDisplayFromHash), if known. */
  courseOf(hash: string): string | undefined {
    const info = this.byKey.get(hash);
    return info ? this.canonical.get(info.courseShortName) : undefined;
  }
}
