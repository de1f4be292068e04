// One event (one input line) while it is transformed: its record, its decoded `event`, the
// common main row, and the rows it emits. Handlers (families/*.ts) work on this.
import type { ColumnOf, TableDef } from '../schema/table.js';
import { EdxTrackEvent } from '../schema/tables.js';
import type { EventIds } from './ids.js';
import type { Modulestore } from '../modulestore/display-names.js';
import { RowBuilder } from './row.js';
import { firstHash, isObject, sanitize } from '../core/values.js';
import { decodeEventField, type DecodedEvent } from './decode-event.js';

/** A row of EdxTrackEvent being built. */
export type MainRow = RowBuilder<ColumnOf<typeof EdxTrackEvent>>;

export class TrackEvent {
  /** Rows of other tables, in the order handlers made them. */
  readonly aux: RowBuilder[] = [];
  /** Main rows; when a handler emits none, the common row is emitted once. */
  readonly mainRows: MainRow[] = [];
  readonly warnings: string[] = [];
  private decoded?: DecodedEvent;
  /** The decoded event as handlers see it: reads of its top-level keys are noted (EventPayload). */
  private watched?: unknown;
  /** Top-level keys of the event a handler read (so stored); every key once it was listed whole. */
  readonly readKeys = new Set<string>();
  /** A handler read all of the event (listed its keys, or it is not an object and was read). */
  readAll = false;
  private firstMainId?: string;
  /** Rows made so far per auxiliary table (most events make none, so made when needed). */
  private auxCounters?: Map<string, number>;

  constructor(
    readonly record: Record<string, unknown>,
    /** The type the event is dispatched on (event_type, or `name` for mobile events). */
    readonly type: string,
    readonly main: MainRow,
    readonly ids: EventIds,
    readonly modulestore: Modulestore,
    /** Course id handlers use for Answer.course_id etc. (docs/original.md#course-columns). */
    public currentCourseId: string | null,
    /** The main row's anon_screen_name. */
    readonly anon: string,
    /** The line as read (for the order of keys where JSON parsing loses it). */
    readonly rawLine: string,
  ) {}

  /** Id of the first main row: EventIp, ABExperiment and OpenAssessment rows are keyed by it. */
  get mainId(): string {
    return (this.firstMainId ??= this.ids.rowId('EdxTrackEvent', 0));
  }

  /**
   * The `event` field decoded as the reference era did (docs/original.md#the-event-field), once, for handlers: the
   * keys they read are noted, so that what no column took goes to EventPayload (issue 16.2).
   * Code that only looks (the course finder) uses decodedEvent.value.
   */
  get event(): unknown {
    const value = this.decodedEvent.value;
    if (!isObject(value)) {
      this.readAll = true;
      return value;
    }
    const note = (key: string | symbol) => {
      if (typeof key === 'string') this.readKeys.add(key);
    };
    return (this.watched ??= new Proxy(value, {
      get: (target, key, receiver) => (note(key), Reflect.get(target, key, receiver)),
      has: (target, key) => (note(key), Reflect.has(target, key)),
      ownKeys: (target) => ((this.readAll = true), Reflect.ownKeys(target)),
    }));
  }

  get decodedEvent(): DecodedEvent {
    this.decoded ??= decodeEventField(this.record.event);
    return this.decoded;
  }

  /**
   * After the handler, when it emitted no main row: the common row itself is the event's one
   * main row (no copy; nothing changes it any more).
   */
  emitCommon(): void {
    this.main.set('_id', this.mainId);
    this.mainRows.push(this.main);
  }

  /** Emit a main row (a copy of `row`, default the common row) and return the copy. */
  emitMain(row: MainRow = this.main): MainRow {
    const copy = row.clone();
    copy.set('_id', this.mainRows.length === 0 ? this.mainId : this.ids.rowId(EdxTrackEvent.name, this.mainRows.length));
    this.mainRows.push(copy);
    return copy;
  }

  /** Add a row to an auxiliary table; its first column gets a derived id, which is returned. */
  addAux<N extends string>(table: TableDef<N>, fill: (row: RowBuilder<N>) => void): string {
    this.auxCounters ??= new Map();
    const n = this.auxCounters.get(table.name) ?? 0;
    this.auxCounters.set(table.name, n + 1);
    const row = new RowBuilder(table);
    const id = this.ids.rowId(table.name, n);
    row.set(table.columns[0].name, id);
    fill(row);
    this.aux.push(row);
    return id;
  }

  /** Add a row keyed by the first main row's _id (ABExperiment, OpenAssessment). */
  addKeyedAux<N extends string>(table: TableDef<N>, fill: (row: RowBuilder<N>) => void): void {
    const row = new RowBuilder(table);
    row.set(table.columns[0].name, this.mainId);
    fill(row);
    this.aux.push(row);
  }

  /** Display name of the first modulestore hash in `s`, sanitized, if known and non-empty. */
  displayNameOf(s: unknown): string | undefined {
    if (this.modulestore.size === 0) return undefined; // none given: no names to find
    const hash = firstHash(s);
    if (!hash) return undefined;
    const name = this.modulestore.displayName(hash);
    return name ? sanitize(name) : undefined;
  }

  /** The reference's setResourceDisplayName: only changes the column when a name is found. */
  setResourceDisplayName(row: MainRow, s: unknown): void {
    const name = this.displayNameOf(s);
    if (name !== undefined) row.set('resource_display_name', name);
  }

  warn(message: string): void {
    this.warnings.push(message);
  }
}
