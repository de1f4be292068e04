// Display names from a modulestore export (docs/original.md#display-names, docs/decisions.md §14): given by option,
// never fetched. Accepts what `edx-refresh --modulestore` reads (modulestore/read.ts): a JSON
// array of records, {"all": [...]}, optionally after '#' comment lines, or NDJSON (one record
// per line, as mongoexport writes), of the old store; and the split store modern Open edX uses
// (its active_versions, structures and definitions, in one file or a directory), whose blocks
// the original's importer did not know (docs/original.md#bug-14).
import { kindOf, type Course } from './model.js';
import { ExportError, readModulestoreSync } from './read.js';
import { isObject } from '../core/values.js';

export interface ModuleInfo {
  org: string;
  courseShortName: string;
  category: string;
  name: string;
  displayName: string;
  /** The block's course id, when the export says it (split store). */
  courseId?: string;
}

export class Modulestore {
  /** hash (or course short name, or course_category_name) → module */
  private byKey = new Map<string, ModuleInfo>();
  /** course short name → org/short/run */
  private canonical = new Map<string, string>();

  static empty(): Modulestore {
    return new Modulestore([]);
  }

  /** The display names of an export (a file, or a directory of collection exports). */
  static fromFile(file: string): Modulestore {
    const oldStore: unknown[] = [];
    const broken: string[] = [];
    const model = readModulestoreSync(
      file,
      (f, b) => broken.push(`${f}:${b.line}: ${b.reason}`),
      (doc) => {
        const kind = kindOf(doc);
        if (kind === undefined || kind === 'module') oldStore.push(doc);
      },
    );
    // A name map with holes would leave rows without their names, silently: refuse it.
    if (broken.length) throw new ExportError(`modulestore export: ${broken[0]}${broken.length > 1 ? ` (and ${broken.length - 1} more broken documents)` : ''}`);
    const store = new Modulestore(oldStore);
    for (const course of model.courses()) if (course.store === 'split') store.addSplitCourse(course);
    return store;
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
      this.byKey.set(this.keyOf(info), info);
      if (info.category === 'course' && /^[A-Za-z]/.test(info.courseShortName)) {
        this.canonical.set(info.courseShortName, `${info.org}/${info.courseShortName}/${info.name}`);
      }
    }
  }

  /** The blocks of a split-store course, keyed by the same rule as the old store's modules. */
  private addSplitCourse(course: Course): void {
    for (const block of course.blocks.values()) {
      const info: ModuleInfo = {
        org: course.org,
        courseShortName: course.number,
        category: block.type,
        name: block.id,
        displayName: typeof block.fields.display_name === 'string' ? block.fields.display_name : '',
        courseId: course.id,
      };
      this.byKey.set(this.keyOf(info), info);
    }
  }

  private keyOf(info: ModuleInfo): string {
    return Modulestore.keyOfBlock(info.courseShortName, info.category, info.name);
  }

  get size(): number {
    return this.byKey.size;
  }

  /** The module a lookup key names (a hash, a course short name, or course_category_name). */
  module(key: string): ModuleInfo | undefined {
    return this.byKey.get(key);
  }

  /** The lookup key of a block named by its course short name, category and block name. */
  static keyOfBlock(courseShortName: string, category: string, name: string): string {
    if (category === 'course') return courseShortName;
    if (/^[a-f0-9]{32}$/.test(name)) return name;
    return `${courseShortName}_${category}_${name}`;
  }

  displayName(hash: string): string | undefined {
    return this.byKey.get(hash)?.displayName;
  }

  /** org/course/run of the course a hash belongs to (courseDisplayFromHash), if known. */
  courseOf(hash: string): string | undefined {
    const info = this.byKey.get(hash);
    return info ? (info.courseId ?? this.canonical.get(info.courseShortName)) : undefined;
  }
}
