// EventPayload (issue 16.2): what an event's payload held that no column took. Handlers read the
// top-level keys they store (TrackEvent notes the reads); the keys left with a value go, as JSON,
// to one EventPayload row keyed by the event's first main row, personal values replaced as in
// badly_formatted (personal.ts, docs/decisions.md §15). Nothing a payload held is dropped without a trace.
import { EventPayload } from '../schema/tables.js';
import { cutBytes } from '../schema/fit.js';
import { isObject } from '../core/values.js';
import type { TrackEvent } from './event.js';
import { RowBuilder } from './row.js';
import { contextOf } from './course.js';
import { REDACTED, withoutPersonalValues } from './personal.js';

/** The most a payload keeps: a TEXT column. */
export const PAYLOAD_MAX_BYTES = 65535;

/** A value that says nothing: null, '', {} or []. */
const isEmpty = (v: unknown) =>
  v === null || v === undefined || v === '' || (Array.isArray(v) && v.length === 0) || (isObject(v) && Object.keys(v).length === 0);

/** Keys named like a person's username or e-mail at any depth (`target_username`, `requesting_user_email`, …). */
const PERSONAL_SUFFIX = /(?:^|_)(?:username|email|e_mail|full_name|password)$/i;
/** Settings whose old and new values are personal (edx.user.settings.changed and friends). */
const PERSONAL_SETTING = /^(?:name|email|username|year_of_birth|mailing_address|gender|level_of_education|goals|country|phone_number|bio|date_joined|city|state)$/;

/** A copy of the payload with personal values replaced, before it is made text (the text scrub follows). */
function scrubbed(v: unknown, depth = 0): unknown {
  if (depth > 50) return REDACTED; // no payload is that deep; a crafted one stops here
  if (Array.isArray(v)) return v.map((x) => scrubbed(x, depth + 1));
  if (!isObject(v)) return v;
  const personalSetting = typeof v.setting === 'string' && PERSONAL_SETTING.test(v.setting);
  const out: Record<string, unknown> = {};
  for (const [k, x] of Object.entries(v)) {
    out[k] = PERSONAL_SUFFIX.test(k) || (personalSetting && (k === 'old' || k === 'new')) ? REDACTED : scrubbed(x, depth + 1);
  }
  return out;
}

/**
 * Keys the common columns hold already: the user (anon_screen_name) and the course when it is the
 * row's course_id.
 */
function heldByCommonColumns(ev: TrackEvent, key: string, v: unknown): boolean {
  if (key === 'user_id' || key === 'username') return true;
  return (key === 'course_id' || key === 'course_key' || key === 'course') && v === ev.main.get('course_id');
}

/**
 * What of the event no handler read: its unread keys with a value, or the whole unread event;
 * undefined when nothing. Events without a context (the reference era, before 2013-11) keep the
 * reference's output exactly, as their course columns do (conformance): none.
 */
export function payloadLeft(ev: TrackEvent): unknown {
  const decoded = ev.decodedEvent;
  // An undecodable event is kept whole in badly_formatted already.
  if (decoded.problem || ev.readAll || !contextOf(ev.record)) return undefined;
  const value = decoded.value;
  if (!isObject(value)) return isEmpty(value) ? undefined : value;
  let left: Record<string, unknown> | undefined;
  for (const [k, v] of Object.entries(value)) {
    if (ev.readKeys.has(k) || isEmpty(v) || heldByCommonColumns(ev, k, v)) continue;
    (left ??= {})[k] = v;
  }
  return left;
}

/**
 * The event's EventPayload row when its payload has fields no column took. It is written after the
 * event's main rows (as EventIp): the SQL script commits all pending rows before the first main row
 * of a new quarter adds its partition, and a payload row written before its main row would then be
 * committed without it if the file fails later.
 */
export function payloadRow(ev: TrackEvent, onCut: () => void): RowBuilder | undefined {
  const left = payloadLeft(ev);
  if (left === undefined) return undefined;
  const json = withoutPersonalValues(JSON.stringify(scrubbed(left)));
  const bytes = Buffer.byteLength(json, 'utf8');
  const cut = bytes > PAYLOAD_MAX_BYTES;
  if (cut) onCut();
  return new RowBuilder(EventPayload)
    .set('event_table_id', ev.mainId)
    // The main row's type: sanitized, with any personal part of a URL type already replaced.
    .set('event_type', ev.main.get('event_type'))
    .set('payload', cut ? cutBytes(json, PAYLOAD_MAX_BYTES) : json)
    .set('payload_bytes', bytes)
    .set('cut', cut ? 1 : 0);
}
