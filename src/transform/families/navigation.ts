// Navigation and login events (docs/original.md#navigation; newer edx.ui.lms.*, edx.bookmark.*,
// edx.done.toggled mapped onto the same columns).
import type { TrackEvent } from '../event.js';
import { H, int, isObject, text } from '../../core/values.js';

/** seq_goto / seq_next / seq_prev: sequence id and the move. */
export function sequenceMove(ev: TrackEvent): void {
  const event = ev.event;
  if (!isObject(event)) return ev.warn(`${ev.type} event is not an object`);
  // change: the reference kept only the common columns when `id` was missing; the move is still there.
  if (!('id' in event)) ev.warn(`${ev.type} event has no id`);
  ev.main.set('sequence_id', text(event.id)).set('goto_from', int(event.old ?? 0)).set('goto_dest', int(event.new ?? 0));
  if ('id' in event) ev.setResourceDisplayName(ev.main, event.id);
}

/** /login_ajax: the reference hashed the e-mail into anon_screen_name (kept for compatibility). */
export function loginAjax(ev: TrackEvent): void {
  const emails = loginAjaxEmails(ev.event);
  if (emails !== undefined) ev.main.set('anon_screen_name', H(emails));
}

/** The posted e-mail(s) of a decoded /login_ajax event, several joined by '; ' (the text hashed). */
export function loginAjaxEmails(event: unknown): string | undefined {
  const post = isObject(event) && isObject(event.POST) ? event.POST : undefined;
  if (!post || post.email === undefined) return undefined;
  return Array.isArray(post.email) ? post.email.map(text).join('; ') : text(post.email);
}

/** edx.ui.lms.sequence.* / outline / link_clicked / jump_nav: where the learner went. */
export function lmsNavigation(ev: TrackEvent): void {
  const event = ev.event;
  if (!isObject(event)) return;
  const id = event.id ?? event.target_url ?? event.target_name;
  if (id !== undefined) ev.main.set('sequence_id', text(id));
  if ('current_tab' in event) ev.main.set('goto_from', int(event.current_tab));
  if ('target_tab' in event) ev.main.set('goto_dest', int(event.target_tab));
  if (typeof event.target_name === 'string') ev.main.set('resource_display_name', event.target_name);
  ev.setResourceDisplayName(ev.main, event.id ?? event.target_url);
}

/** edx.bookmark.*: the bookmarked component. */
export function bookmark(ev: TrackEvent): void {
  const event = ev.event;
  if (!isObject(event)) return;
  if ('component_usage_id' in event) ev.main.set('sequence_id', text(event.component_usage_id));
  if ('bookmark_id' in event) ev.main.set('submission_id', text(event.bookmark_id));
  if ('component_type' in event) ev.main.set('mode', text(event.component_type));
  ev.setResourceDisplayName(ev.main, event.component_usage_id);
}

/** edx.done.toggled: the new state in success (True/False). */
export function doneToggled(ev: TrackEvent): void {
  const event = ev.event;
  if (isObject(event) && 'done' in event) ev.main.set('success', event.done ? 'True' : 'False');
}
