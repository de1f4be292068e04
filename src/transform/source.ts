// The transform of one source (input file): every line becomes rows or a reject
// (docs/decisions.md §8), with the common columns of docs/tables.md#edxtrackevent, the downtime/heartbeat rule of docs/decisions.md §6, and
// dispatch to the event-family handlers (docs/original.md#handlers).
import { EdxTrackEvent, EventIp, LoadInfo } from '../schema/tables.js';
import { fitRow } from '../schema/fit.js';
import { quarterOf } from '../schema/quarters.js';
import type { InputLine } from '../io/input.js';
import { withoutPadding } from '../io/nul-padding.js';
import { decodeLine, rescueFromRecord, rescueOrReject } from '../tracklog/decode.js';
import { parseEventTime, formatGap, type EventTime } from '../tracklog/time.js';
import { courseColumns } from './course.js';
import { dispatch } from './dispatch.js';
import { TrackEvent, type MainRow } from './event.js';
import type { CountryLookup } from './geoip.js';
import { eventIds, type EventIds } from './ids.js';
import type { Modulestore } from '../modulestore/display-names.js';
import { RowBuilder } from './row.js';
import type { RowWriter, Source } from '../schema/rows.js';
import { countType, type RunStats } from './stats.js';
import { payloadRow } from './payload.js';
import { H, anonScreenName, sanitize } from '../core/values.js';
import { LastSeen } from './last-seen.js';
import { OutputError } from '../core/errors.js';
import { withoutPersonalUrls, withoutPersonalValues } from './personal.js';

export interface Reject {
  file: string;
  line: number;
  reason: string;
  raw: string;
}

export interface TransformOptions {
  geo: CountryLookup;
  modulestore: Modulestore;
  writer: RowWriter;
  stats: RunStats;
  onReject: (r: Reject) => void | Promise<void>;
  /** Per-line handler warnings (missing fields etc.), for --verbose. */
  onWarning?: (file: string, line: number, message: string) => void;
}

/** A gap above this many seconds marks downtime (and lets a heartbeat through), as the reference. */
const DOWNTIME_SECONDS = 360;
/** downtime(): the gap is short; a heartbeat here is noise. */
const FILTERED = Symbol('filtered');

/**
 * Types the reference rewrote and finished without a handler or downtime step (docs/original.md#common-columns):
 * the stored type, or undefined for every other type.
 */
function finishedType(eventType: string): string | undefined {
  if (eventType.length >= 6 && eventType.startsWith('/') && eventType.endsWith('/about')) return 'about';
  if (eventType.startsWith('/password_reset_confirm')) return 'password_reset_confirm';
  if (eventType === '/networking/') return 'networking';
  return undefined;
}

/** LoadInfo.load_file for a path as given (docs/tables.md#loadinfo), or a URL as it is. */
export function loadFileOf(name: string): string {
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(name)) return name;
  if (name === '-') return 'stdin';
  return `file://${name}`;
}

export function makeSource(name: string, loadFile = loadFileOf(name)): Source {
  return { name, loadFile, loadInfoId: H(loadFile) };
}

export class SourceTransformer {
  /** ip → time (µs) of its last event in this source (docs/decisions.md §6). */
  private lastSeen = new LastSeen();
  private counts: Record<string, number> = {};
  private rawLine = '';
  /** The last line counted as rescued (so that a failure after it does not count it twice). */
  private rescuedLine = 0;

  constructor(readonly source: Source, private readonly opts: TransformOptions) {}

  async start(): Promise<void> {
    this.opts.stats.sources++;
    await this.opts.writer.startSource(this.source);
    // load_date_time is left NULL: it is the time of the load, set by whoever loads (the SQL
    // script or edx-csvload), so that the transform's output is the same every run.
    const info = new RowBuilder(LoadInfo).set('load_info_id', this.source.loadInfoId).set('load_file', this.source.loadFile);
    info.set('load_date_time', null);
    await this.write(info);
  }

  async finish(): Promise<void> {
    await this.opts.writer.endSource(this.source, { rows: { ...this.counts } });
  }

  private write(row: RowBuilder): Promise<void> | void {
    const table = row.table;
    this.counts[table.name] = (this.counts[table.name] ?? 0) + 1;
    this.opts.stats.rows[table.name]++;
    return this.opts.writer.write({ table, values: fitRow(table, row.values, this.opts.stats.fit) });
  }

  line(input: InputLine): Promise<void> | void {
    this.opts.stats.lines++;
    try {
      return this.decodedLine(input);
    } catch (e) {
      if (e instanceof OutputError) throw e; // the output failed, not this line
      // Odd values can still break a handler (a value nested thousands deep overflows the stack
      // when made text; an object whose key is `toString`): that line, not the file, is lost to
      // it. Rows are only written once a line is done, so none of this one has been.
      return this.afterError(input, e as Error);
    }
  }

  /**
   * A line the transform failed on: a rescue row of the fields the record shows at its top level
   * with its event, else without it (the event may be what failed), else of the fields its text
   * shows; or a reject. The context, where most failures come from, is never part of a rescue.
   */
  private afterError({ lineNo, text }: InputLine, error: Error): Promise<void> | void {
    const stats = this.opts.stats;
    const reason = `transform failed: ${error.message}`;
    this.opts.onWarning?.(this.source.name, lineNo, reason);
    const decoded = decodeLine(text);
    const record = decoded.kind === 'record' || decoded.kind === 'rescued' ? decoded.record : undefined;
    const attempts = [
      () => record && rescueFromRecord(record, reason, true),
      () => record && rescueFromRecord(record, reason),
      () => rescueOrReject(text, reason),
    ];
    for (const attempt of attempts) {
      const rescue = attempt();
      if (rescue?.kind !== 'rescued') continue;
      try {
        const p = this.event(rescue.record, text, lineNo, text);
        if (this.rescuedLine !== lineNo) stats.rescued++;
        return p;
      } catch {
        // that rescue row failed too: the next, else the reject report has the line
      }
    }
    stats.rejected++;
    return this.opts.onReject({ file: this.source.name, line: lineNo, reason, raw: text });
  }

  /**
   * The last line of a plain file with no newline after it: the file may still be written, so the
   * line may be half of one (docs/decisions.md §8). Whole JSON is a complete line (its id is the one the
   * line has once its newline is written); anything that would need a repair or a rescue goes to
   * the reject report as incomplete, since a row made from the cut text would have an id of its
   * own and stay beside the complete line's forever.
   */
  unterminatedLine(input: InputLine): Promise<void> | void {
    const decoded = decodeLine(input.text);
    if (decoded.kind === 'record' && !decoded.repaired) return this.line(input);
    if (decoded.kind === 'skip') return this.line(input);
    this.opts.stats.lines++;
    this.opts.stats.rejected++;
    return this.opts.onReject({
      file: this.source.name,
      line: input.lineNo,
      reason: 'incomplete last line (no newline at the end: the file may still be written); it is read once complete, by a rerun or from the rotated copy',
      raw: input.text,
    });
  }

  private decodedLine({ lineNo, text }: InputLine): Promise<void> | void {
    const stats = this.opts.stats;
    const decoded = decodeLine(text);
    switch (decoded.kind) {
      case 'skip':
        stats.filtered[decoded.reason]++;
        return;
      case 'reject':
        stats.rejected++;
        return this.opts.onReject({ file: this.source.name, line: lineNo, reason: decoded.reason, raw: text });
      case 'rescued':
        stats.rescued++;
        this.rescuedLine = lineNo;
        return this.event(decoded.record, text, lineNo, text);
      case 'record':
        if (decoded.repaired) {
          stats.rescued++;
          this.rescuedLine = lineNo;
        }
        return this.event(decoded.record, text, lineNo, decoded.repaired ? text : undefined);
    }
  }

  private event(record: Record<string, unknown>, rawLine: string, lineNo: number, badlyFormatted?: string): Promise<void> | void {
    const { stats, geo, modulestore } = this.opts;
    this.rawLine = rawLine;
    // The type: event_type, else (mobile events, or an empty event_type) the event's name.
    const eventTypeRaw = typeof record.event_type === 'string' && record.event_type !== '' ? record.event_type : typeof record.name === 'string' ? record.name : '';
    const eventType = sanitize(eventTypeRaw);
    const time = parseEventTime(record.time);
    const ip = typeof record.ip === 'string' ? record.ip : '';

    // The noise filter first (docs/decisions.md §6): a filtered ping or heartbeat still moves its
    // IP's last-seen time, but needs none of the columns below (a fifth of a busy day's lines).
    // A broken line is never taken for noise: cut short, `"event_type": "/…` reads as a ping, and
    // its raw text would be stored nowhere.
    const finishedAs = finishedType(eventType);
    let downtimeFor: string | null = null;
    if (finishedAs === undefined) {
      const gap = this.downtime(ip, time);
      if (gap === FILTERED && eventType.endsWith('/heartbeat') && badlyFormatted === undefined) {
        stats.filtered.heartbeat++;
        return;
      }
      if (eventType === '/' && badlyFormatted === undefined) {
        stats.filtered.ping++;
        return;
      }
      if (gap !== FILTERED) downtimeFor = gap;
    }

    const ids = eventIds(withoutPadding(rawLine), time ? time.micros / 1000 : 0);
    const page = sanitize(record.page);
    const anon = 'username' in record && record.username !== null && record.username !== undefined ? anonScreenName(record.username) : '';

    const main = new RowBuilder(EdxTrackEvent);
    main
      .set('event_id', ids.eventId)
      .set('agent', sanitize(record.agent))
      .set('event_source', sanitize(record.event_source))
      .set('event_type', finishedAs ?? eventType)
      .set('ip_country', geo.country(ip))
      .set('page', page)
      .set('session', sanitize(record.session))
      .set('time', time ? time.utc : null)
      .set('quarter', time ? quarterOf(time.year, time.month) : '')
      .set('anon_screen_name', anon)
      .set('load_info_fk', this.source.loadInfoId)
      .set('downtime_for', downtimeFor);

    let ev: TrackEvent | undefined;
    const decodeEvent = () => (ev ??= this.trackEvent(record, eventTypeRaw, main, ids, null, anon)).decodedEvent.value;
    const course = courseColumns(record, eventType, page, decodeEvent, modulestore);
    main.set('course_id', course.courseId).set('course_display_name', course.courseDisplayName).set('organization', course.organization);
    if (course.moduleDisplayName) main.set('resource_display_name', course.moduleDisplayName);
    ev ??= this.trackEvent(record, eventTypeRaw, main, ids, course.currentCourseId, anon);
    ev.currentCourseId = course.currentCourseId;

    let payload: RowBuilder | undefined;
    if (finishedAs === undefined) {
      const handled = dispatch(ev);
      if (!handled) stats.unknownTypes++;
      payload = payloadRow(ev, () => stats.payloadsCut++);
      if (payload) stats.payloadKept++;
      countType(stats, ev.type, handled, payload !== undefined);
      const decodedEvent = ev.decodedEvent;
      if (decodedEvent.problem && typeof record.event === 'string') {
        stats.undecodableEvents++;
        badlyFormatted ??= record.event;
        ev.warn(decodedEvent.problem);
      }
    }
    if (ev.mainRows.length === 0) ev.emitCommon();
    for (const row of ev.mainRows) withoutPersonalUrls(row);
    if (badlyFormatted !== undefined) {
      // Public text: the line's username, IP and form fields stay in the private tables (docs/decisions.md §15).
      const kept = withoutPersonalValues(badlyFormatted);
      for (const row of ev.mainRows) row.set('badly_formatted', kept);
    }

    if (this.opts.onWarning) for (const w of ev.warnings) this.opts.onWarning(this.source.name, lineNo, w);
    stats.events++;
    // The event is done: its list of aux rows becomes the list of all its rows, in write order.
    const rows = ev.aux;
    for (const row of ev.mainRows) rows.push(row);
    if (payload) rows.push(payload);
    rows.push(new RowBuilder(EventIp).set('event_table_id', ev.mainId).set('event_ip', ip));
    return this.writeAll(rows);
  }

  /**
   * The gap since this IP's previous event in the source (docs/decisions.md §6), as downtime_for:
   * `0:00:00` for its first, the gap when above 360 s (or negative: out of order), null without
   * a time; FILTERED when the gap is short (the column stays NULL, and a heartbeat is dropped).
   */
  private downtime(ip: string, time: EventTime | undefined): string | null | typeof FILTERED {
    if (!time) return null;
    const previous = this.lastSeen.swap(ip, time.micros);
    if (previous === undefined) return '0:00:00';
    const gap = time.micros - previous;
    if (gap > DOWNTIME_SECONDS * 1e6 || gap < 0) return formatGap(gap);
    return FILTERED;
  }

  /** Write rows in order, waiting only when the writer asks to (backpressure). */
  private writeAll(rows: readonly RowBuilder[], from = 0): Promise<void> | void {
    for (let i = from; i < rows.length; i++) {
      const p = this.write(rows[i]);
      if (p) return p.then(() => this.writeAll(rows, i + 1));
    }
  }

  private trackEvent(record: Record<string, unknown>, type: string, main: MainRow, ids: EventIds, course: string | null, anon: string) {
    return new TrackEvent(record, type, main, ids, this.opts.modulestore, course, anon, this.rawLine);
  }
}
