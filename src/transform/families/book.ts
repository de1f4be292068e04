// book and textbook.pdf.* (docs/original.md#textbooks).
import type { TrackEvent } from '../event.js';
import { int, isObject, text } from '../../core/values.js';

export function book(ev: TrackEvent): void {
  const e = ev.event;
  if (!isObject(e)) return ev.warn(`${ev.type} event is not an object`);
  const m = ev.main;
  m.set('book_interaction_type', text(e.name ?? e.type));
  if ('chapter' in e) m.set('resource_display_name', text(e.chapter));
  if ('old' in e) m.set('goto_from', int(e.old));
  if ('new' in e) m.set('goto_dest', int(e.new));
  if (typeof e.page === 'number') m.set('goto_from', int(e.page)).set('goto_dest', int(e.page));
  for (const key of ['thumbnail_title', 'chapter_title', 'query']) if (key in e) m.set('sequence_id', text(e[key]));
  for (const key of ['direction', 'amount', 'caseSensitive']) if (key in e) m.set('mode', text(e[key]));
  if ('findprevious' in e) m.set('mode', e.findprevious ? 'previous' : 'next');
  if ('highlightAll' in e) m.set('mode', e.highlightAll ? 'do_highlight_all' : 'dont_highlight_all');
  // change: the reference stored the search query here; the search's status is what the column means.
  if ('status' in e) m.set('success', text(e.status));
}
