// Video and transcript events (docs/original.md#video). Mobile events name the same actions
// edx.video.* (docs/decisions.md §1); the dispatch table maps both names here.
import type { TrackEvent } from '../event.js';
import { isObject, pystr, text } from '../../core/values.js';

function videoEvent(ev: TrackEvent): Record<string, unknown> | undefined {
  const event = ev.event;
  if (!isObject(event)) {
    ev.warn(`${ev.type} event is not an object`);
    return undefined;
  }
  return event;
}

/** play/pause/stop/load (and complete): Python str() of each field, `None` when absent (reference). */
export function videoPlayback(ev: TrackEvent): void {
  const e = videoEvent(ev);
  if (!e) return;
  ev.main
    .set('video_id', pystr(e.id))
    .set('video_code', pystr(e.code))
    .set('video_current_time', pystr(e.currentTime ?? e.current_time))
    .set('video_speed', pystr(e.speed));
  ev.setResourceDisplayName(ev.main, e.id);
}

export function videoSeek(ev: TrackEvent): void {
  const e = videoEvent(ev);
  if (!e) return;
  ev.main
    .set('video_id', text(e.id))
    .set('video_code', text(e.code))
    .set('video_old_time', pystr(e.old_time))
    .set('video_new_time', pystr(e.new_time))
    .set('video_seek_type', text(e.type));
  ev.setResourceDisplayName(ev.main, e.id);
}

export function videoSpeedChange(ev: TrackEvent): void {
  const e = videoEvent(ev);
  if (!e) return;
  ev.main
    .set('video_id', text(e.id))
    .set('video_code', text(e.code))
    .set('video_current_time', pystr(e.currentTime ?? e.current_time))
    .set('video_old_speed', pystr(e.old_speed))
    .set('video_new_speed', pystr(e.new_speed));
  ev.setResourceDisplayName(ev.main, e.id);
}

export function videoFullscreen(ev: TrackEvent): void {
  const e = videoEvent(ev);
  if (!e) return;
  ev.main.set('video_id', text(e.id)).set('video_code', text(e.code)).set('video_current_time', pystr(e.currentTime ?? e.current_time));
  ev.setResourceDisplayName(ev.main, e.id);
}

/** show/hide transcript, closed captions and language menus: the transcript columns. */
export function transcript(ev: TrackEvent): void {
  const e = videoEvent(ev);
  if (!e) return;
  ev.main.set('transcript_id', text(e.id)).set('transcript_code', text(e.code));
  if ('currentTime' in e || 'current_time' in e) ev.main.set('video_current_time', pystr(e.currentTime ?? e.current_time));
}
