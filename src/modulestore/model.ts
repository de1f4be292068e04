// The courses of a modulestore export, as one tree model whichever store they come from
// (docs/original.md#job-modulestore, docs/original.md#display-names):
//
//   - the old ("draft"/Mongo) store: one document per module, `_id {tag, org, course, category,
//     name, revision}`, settings in `metadata`, `definition {data, children: [uri…]}`; a course is
//     the module of category `course`, its id `org/course/run` (run = that module's name);
//   - the split store, as three collections: `active_versions` (one per course: org, course, run
//     and the structure of each branch), `structures` (the blocks of one version of a course:
//     `blocks: [{block_type, block_id, definition, fields {children: [[type, id]…], …}}]`) and
//     `definitions` (a block's content: a problem's `fields.data`, a course's grading policy). A
//     course is the structure of its `published-branch`, its id `course-v1:org+course+run`.
//
// Documents are told apart by their shape, not by the file or key they came in, so one NDJSON file
// may hold several collections. Only what the tables need is kept of each document.
import { isObject } from '../core/values.js';

/** One module (old store) or block (split store). */
export interface Block {
  /** Unique in its store: the old store's uri, the split store's `type+id`. */
  key: string;
  type: string;
  /** url_name (old store) or block_id (split store). */
  id: string;
  /** Settings: old `metadata`, split `fields` (children left out). */
  fields: Record<string, unknown>;
  /** Keys of the children, in course order. */
  children: string[];
  /** Content: a problem's text, a course's grading policy (split: filled from its definition). */
  content?: { data?: unknown; grading_policy?: unknown };
  /** Split store: the id of its definition document. */
  definitionId?: string;
  /** `i4x://org/course/category/name` or `block-v1:org+course+run+type@T+block@ID`. */
  uri: string;
  /** Old store: `draft` for a draft copy, null for the published one; split: null. */
  revision: string | null;
  /** When it was last changed: old `metadata.published_date`, split `edit_info.edited_on`. */
  edited?: unknown;
}

export interface Course {
  store: 'old' | 'split';
  /** The course id as the platform writes it (tracking logs' context.course_id, its own tables). */
  id: string;
  org: string;
  /** course number (`HRP258`), the transform's "short name". */
  number: string;
  run: string;
  root: Block;
  /** Blocks by key: the course's own (split), or the whole old store (shared by its courses). */
  blocks: ReadonlyMap<string, Block>;
}

/** A document that was read but could not be used: where (`file:line`) and why. */
export interface Problem {
  where: string;
  reason: string;
}

/** Categories whose rows the tables hold, and the containers the positions are counted in. */
export const PROBLEM = 'problem';
export const VIDEO_TYPES: ReadonlySet<string> = new Set(['video', 'videoalpha']);

/** Settings kept of a module: what CourseInfo, EdxProblem and EdxVideo read (and display names). */
const KEPT_FIELDS = [
  'display_name', 'start', 'end', 'enrollment_start', 'enrollment_end', 'enrollment_domain', 'invitation_only',
  'ispublic', 'minimum_grade_credit', 'visible_to_staff_only', 'weight', 'max_attempts', 'html5_sources',
  'youtube_id_1_0', 'published_date', 'grading_policy',
];

function keep(fields: unknown): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  if (!isObject(fields)) return out;
  for (const k of KEPT_FIELDS) if (fields[k] !== undefined) out[k] = fields[k];
  return out;
}

const str = (v: unknown): string => (typeof v === 'string' ? v : v === null || v === undefined ? '' : String(v));

/** Which collection a document belongs to, by its shape. */
export type DocumentKind = 'module' | 'active_version' | 'structure' | 'definition';

export function kindOf(doc: Record<string, unknown>): DocumentKind | undefined {
  if (isObject(doc._id) && typeof doc._id.category === 'string') return 'module';
  if (isObject(doc.versions)) return 'active_version';
  if (Array.isArray(doc.blocks) || isObject(doc.blocks)) return 'structure';
  if (typeof doc.block_type === 'string' && isObject(doc.fields)) return 'definition';
  return undefined;
}

/** Usage key of a split-store block, as new-style events name it. */
export const blockUsageKey = (org: string, number: string, run: string, type: string, id: string) =>
  `block-v1:${org}+${number}+${run}+type@${type}+block@${id}`;

interface ActiveVersion {
  org: string;
  number: string;
  run: string;
  published: string;
  where: string;
}

/**
 * Collects documents (add) and assembles the courses (courses). The split store's structures and
 * definitions hold every version ever saved: once the active versions are known (`complete`)
 * only the published structures and the definitions they use are kept.
 */
export class ModulestoreModel {
  /** Old store: published modules by uri, and draft copies of modules never published. */
  private readonly oldBlocks = new Map<string, Block>();
  private readonly oldDrafts = new Map<string, Block>();
  private readonly oldCourses: { block: Block; org: string; number: string }[] = [];
  private readonly active: ActiveVersion[] = [];
  private readonly wantedStructures = new Set<string>();
  private readonly structures = new Map<string, Record<string, unknown>>();
  private readonly wantedDefinitions = new Set<string>();
  private readonly definitions = new Map<string, Record<string, unknown>>();
  private activeComplete = false;
  private structuresComplete = false;
  /** Documents that could not be used. */
  readonly problems: Problem[] = [];
  /** Split-store active versions without a published branch (libraries, never published). */
  unpublished = 0;

  /** All active versions have been added: later structures are kept only if published. */
  endOfActiveVersions(): void {
    this.activeComplete = true;
    for (const id of [...this.structures.keys()]) if (!this.wantedStructures.has(id)) this.structures.delete(id);
  }

  /** All structures have been added: later definitions are kept only if a kept block uses them. */
  endOfStructures(): void {
    this.structuresComplete = true;
    for (const id of [...this.definitions.keys()]) if (!this.wantedDefinitions.has(id)) this.definitions.delete(id);
  }

  /** Add one document; `where` (`file:line`) names it in problems. */
  add(doc: Record<string, unknown>, where: string): void {
    const kind = kindOf(doc);
    if (kind === 'module') this.addModule(doc, where);
    else if (kind === 'active_version') this.addActiveVersion(doc, where);
    else if (kind === 'structure') this.addStructure(doc, where);
    else if (kind === 'definition') this.addDefinition(doc, where);
    else {
      this.problems.push({ where, reason: 'not a modulestore document (neither an old-style module nor a split-store active version, structure or definition)' });
    }
  }

  private addModule(doc: Record<string, unknown>, where: string): void {
    const id = doc._id as Record<string, unknown>;
    const [tag, org, number, type, name] = [str(id.tag) || 'i4x', str(id.org), str(id.course), str(id.category), str(id.name)];
    if (!org || !number || !type || !name) {
      this.problems.push({ where, reason: '_id lacks org, course, category or name' });
      return;
    }
    const definition = isObject(doc.definition) ? doc.definition : {};
    const children = Array.isArray(definition.children) ? definition.children.filter((c): c is string => typeof c === 'string') : [];
    const metadata = keep(doc.metadata);
    const data = definition.data;
    const block: Block = {
      key: `${tag}://${org}/${number}/${type}/${name}`,
      type,
      id: name,
      fields: metadata,
      children,
      uri: `${tag}://${org}/${number}/${type}/${name}`,
      revision: typeof id.revision === 'string' ? id.revision : null,
      edited: metadata.published_date,
    };
    if (type === PROBLEM) block.content = { data: isObject(data) && 'data' in data ? data.data : data };
    else if (type === 'course') {
      const policy = isObject(data) && data.grading_policy !== undefined ? data.grading_policy : metadata.grading_policy;
      block.content = { grading_policy: policy };
    } else if (children.length === 0 && !VIDEO_TYPES.has(type)) {
      return; // a leaf the tables do not hold (html, about, …): nothing of it is needed
    }
    if (block.revision === null) {
      if (this.oldBlocks.has(block.key)) this.problems.push({ where, reason: `${block.key} appears twice; the first is kept` });
      else this.oldBlocks.set(block.key, block);
      this.oldDrafts.delete(block.key);
      if (type === 'course') this.oldCourses.push({ block, org, number });
    } else if (!this.oldBlocks.has(block.key) && !this.oldDrafts.has(block.key)) {
      this.oldDrafts.set(block.key, block);
    }
  }

  private addActiveVersion(doc: Record<string, unknown>, where: string): void {
    const versions = doc.versions as Record<string, unknown>;
    const [org, number, run] = [str(doc.org), str(doc.course), str(doc.run)];
    const published = versions['published-branch'];
    if (published === undefined) {
      this.unpublished++;
      return;
    }
    if (!org || !number || !run || typeof published !== 'string') {
      this.problems.push({ where, reason: 'active version lacks org, course, run or a published-branch id' });
      return;
    }
    this.active.push({ org, number, run, published, where });
    this.wantedStructures.add(published);
  }

  private addStructure(doc: Record<string, unknown>, where: string): void {
    const id = str(doc._id);
    if (!id) {
      this.problems.push({ where, reason: 'structure without an _id' });
      return;
    }
    if (this.activeComplete && !this.wantedStructures.has(id)) return; // an older or draft version
    this.structures.set(id, { ...doc, where });
    for (const b of blockList(doc.blocks)) {
      if ((b.block_type === PROBLEM || b.block_type === 'course') && typeof b.definition === 'string') this.wantedDefinitions.add(b.definition);
    }
  }

  private addDefinition(doc: Record<string, unknown>, where: string): void {
    const id = str(doc._id);
    if (!id) {
      this.problems.push({ where, reason: 'definition without an _id' });
      return;
    }
    if (this.structuresComplete && !this.wantedDefinitions.has(id)) return;
    if (doc.block_type !== PROBLEM && doc.block_type !== 'course') return; // nothing else is read from definitions
    this.definitions.set(id, doc);
  }

  private assembled?: Course[];

  /** The courses, old store first then split store, each in the order of the export (once all is added). */
  courses(): Course[] {
    this.assembled ??= this.assemble();
    return this.assembled;
  }

  private assemble(): Course[] {
    const out: Course[] = [];
    // Draft copies of modules that were never published still get rows (as the original's did).
    for (const [key, draft] of this.oldDrafts) if (!this.oldBlocks.has(key)) this.oldBlocks.set(key, draft);
    this.oldDrafts.clear();
    for (const c of this.oldCourses) {
      out.push({ store: 'old', id: `${c.org}/${c.number}/${c.block.id}`, org: c.org, number: c.number, run: c.block.id, root: c.block, blocks: this.oldBlocks });
    }
    for (const a of this.active) {
      const structure = this.structures.get(a.published);
      if (!structure) {
        this.problems.push({ where: a.where, reason: `course-v1:${a.org}+${a.number}+${a.run}: its published structure ${a.published} is not in the export` });
        continue;
      }
      const course = this.splitCourse(a, structure);
      if (course) out.push(course);
    }
    return out;
  }

  /** Old-store modules of a category that no course reaches, for rows without positions. */
  oldModules(): Iterable<Block> {
    return this.oldBlocks.values();
  }

  private splitCourse(a: ActiveVersion, structure: Record<string, unknown>): Course | undefined {
    const blocks = new Map<string, Block>();
    const where = String(structure.where);
    for (const b of blockList(structure.blocks)) {
      const type = str(b.block_type);
      const id = str(b.block_id);
      if (!type || !id) {
        this.problems.push({ where, reason: `course-v1:${a.org}+${a.number}+${a.run}: a block without block_type or block_id` });
        continue;
      }
      const fields = isObject(b.fields) ? b.fields : {};
      const children = Array.isArray(fields.children)
        ? fields.children.filter((c): c is [string, string] => Array.isArray(c) && c.length === 2).map(([t, i]) => `${t}+${i}`)
        : [];
      const editInfo = isObject(b.edit_info) ? b.edit_info : {};
      const block: Block = {
        key: `${type}+${id}`,
        type,
        id,
        fields: keep(fields),
        children,
        definitionId: typeof b.definition === 'string' ? b.definition : undefined,
        uri: blockUsageKey(a.org, a.number, a.run, type, id),
        revision: null,
        edited: editInfo.edited_on,
      };
      if (type === PROBLEM || type === 'course') {
        const definition = block.definitionId !== undefined ? this.definitions.get(block.definitionId) : undefined;
        const content = definition && isObject(definition.fields) ? definition.fields : {};
        block.content = type === PROBLEM ? { data: content.data } : { grading_policy: content.grading_policy ?? fields.grading_policy };
      }
      blocks.set(block.key, block);
    }
    const rootRef = structure.root;
    const rootKey = Array.isArray(rootRef) && rootRef.length === 2 ? `${rootRef[0]}+${rootRef[1]}` : undefined;
    const root = rootKey !== undefined ? blocks.get(rootKey) : [...blocks.values()].find((b) => b.type === 'course');
    if (!root || root.type !== 'course') {
      this.problems.push({ where, reason: `course-v1:${a.org}+${a.number}+${a.run}: its structure has no course block at its root` });
      return undefined;
    }
    return { store: 'split', id: `course-v1:${a.org}+${a.number}+${a.run}`, org: a.org, number: a.number, run: a.run, root, blocks };
  }
}

/** A structure's blocks: a list (schema 2 and later) or an object keyed by block (older exports). */
function blockList(blocks: unknown): Record<string, unknown>[] {
  if (Array.isArray(blocks)) return blocks.filter(isObject);
  if (isObject(blocks)) {
    return Object.entries(blocks).filter((e): e is [string, Record<string, unknown>] => isObject(e[1])).map(([key, b]) => {
      if (typeof b.block_type === 'string' && typeof b.block_id === 'string') return b;
      // Schema 1 keyed blocks by id and called the type `category`.
      return { ...b, block_type: b.block_type ?? b.category, block_id: b.block_id ?? key };
    });
  }
  return [];
}
