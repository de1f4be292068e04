// A/B experiments and cohorts → ABExperiment (docs/original.md#experiments).
import { ABExperiment } from '../../schema/tables.js';
import { contextOf } from '../course.js';
import type { TrackEvent } from '../event.js';
import { int, isObject, text } from '../../core/values.js';

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

/** `xblock.partition_service.partition_<partition id>`: the key the LMS gives a learner's group. */
const PARTITION_TAG = /^xblock\.partition_service\.partition_(\d+)$/;

/**
 * The partition and group a course_user_tags object names. The 2014 reference's fixtures held
 * `{partition_id, group_id}`; the LMS writes `{"xblock.partition_service.partition_<id>": "<group>"}`,
 * read as docs/original.md#experiments reads an event's tags (partition_name := the first key, group_id := its value),
 * with the partition id the key carries.
 */
function tagGroup(tags: Record<string, unknown>): { partitionId: number; partitionName: string; groupId: number } {
  if ('group_id' in tags || 'partition_id' in tags) return { partitionId: int(tags.partition_id), partitionName: '', groupId: int(tags.group_id) };
  const key = Object.keys(tags).find((k) => PARTITION_TAG.test(k)) ?? Object.keys(tags)[0];
  const partition = PARTITION_TAG.exec(key);
  return { partitionId: partition ? Number(partition[1]) : -1, partitionName: key, groupId: int(tags[key]) };
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
  const group = tagGroup(tags);
  ev.addKeyedAux(ABExperiment, (r) =>
    // anon_screen_name stays '' as the reference wrote it; the main row (same _id) has it.
    r.set('event_type', ev.type)
      .set('group_id', group.groupId)
      .set('partition_id', group.partitionId)
      .set('partition_name', group.partitionName)
      .set('resource_display_name', text(module.display_name))
      .set('course_display_name', ev.currentCourseId ?? ''),
  );
}
