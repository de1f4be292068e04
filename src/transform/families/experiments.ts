// A/B experiments and cohorts → ABExperiment (transform.md §6.2 #38, §7.7).
import { ABExperiment } from '../../schema/tables.js';
import { contextOf } from '../course.js';
import type { TrackEvent } from '../event.js';
import { int, isObject, text } from '../values.js';

export function abExperiment(ev: TrackEvent): void {
  const e = isObject(ev.event) ? ev.event : {};
  const ctx = contextOf(ev.record);
  const module = ctx && isObject(ctx.module) ? ctx.module : {};
  let childModule = '';
  let resource = text(module.display_name);
  if (ev.type.endsWith('child_render')) {
    childModule = text(e['child-id'] ?? e.child_id);
    resource = ev.displayNameOf(childModule) ?? resource;
  }
  ev.addKeyedAux(ABExperiment, (r) => {
    r.set('event_type', ev.type)
      .set('anon_screen_name', ev.anon)
      .set('group_id', int(e.group_id))
      .set('group_name', text(e.group_name))
      .set('partition_id', int(e.partition_id ?? e.user_partition_id))
      .set('partition_name', text(e.partition_name ?? e.user_partition_name))
      .set('child_module_id', childModule)
      .set('resource_display_name', resource)
      .set('cohort_id', int(e.cohort_id))
      .set('cohort_name', text(e.cohort_name))
      .set('course_display_name', ev.currentCourseId ?? '');
    const tags = isObject(e.context) ? e.context.course_user_tags : undefined;
    if (!ev.type.endsWith('assigned_user_to_partition') && isObject(tags) && Object.keys(tags).length > 0) {
      const [key, value] = Object.entries(tags)[0];
      r.set('partition_name', key).set('group_id', int(value));
    }
  });
}

/**
 * Any other event whose context carries a non-empty course_user_tags (the learner is in an
 * experiment group): an ABExperiment row with the group and partition, as the reference era did.
 */
export function experimentTags(ev: TrackEvent): void {
  const ctx = contextOf(ev.record);
  const tags = ctx?.course_user_tags;
  if (!isObject(tags) || Object.keys(tags).length === 0) return;
  const module = ctx && isObject(ctx.module) ? ctx.module : {};
  ev.addKeyedAux(ABExperiment, (r) =>
    // anon_screen_name stays '' as the reference wrote it; the main row (same _id) has it.
    r.set('event_type', ev.type)
      .set('group_id', int(tags.group_id))
      .set('partition_id', int(tags.partition_id))
      .set('resource_display_name', text(module.display_name))
      .set('course_display_name', ev.currentCourseId ?? ''),
  );
}
