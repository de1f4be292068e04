// What a researcher pastes into edx-hash-lookup: a tracking-log string, a URL, an input id like
// `<hash>_2_1`, a usage key. The reference inside it is found by the forms Open edX writes:
// new-style usage keys (block-v1:ORG+NUM+RUN+type@T+block@ID), old-style locations
// (i4x://ORG/NUM/T/ID), else the first 32-hex-digit run (a module hash, as the original's
// lookupOpenEdxHash took it).
import { Modulestore, type ModuleInfo } from './display-names.js';

export interface Reference {
  /** The text of the reference as found in the input. */
  text: string;
  /** The display-name index's key for it. */
  key: string;
  /** The course short name (NUM) when the reference names it. */
  courseShortName?: string;
}

const BLOCK_V1 = /block-v1:([^+\s/?#&"']+)\+([^+\s/?#&"']+)\+([^+\s/?#&"']+)\+type@([^+\s/?#&"']+)\+block@([^+\s/?#&"']+)/;
const I4X = /i4x:(?:\/\/|;_;_)([^/\s;?#&"']+)(?:\/|;_)([^/\s;?#&"']+)(?:\/|;_)([^/\s;?#&"']+)(?:\/|;_)([^/\s?#&"'@]+)/;
const HASH = /[a-f0-9]{32}/;

/** The first reference in `text`, or undefined. */
export function findReference(text: string): Reference | undefined {
  const block = BLOCK_V1.exec(text);
  if (block) {
    const [whole, , num, , type, id] = block;
    return { text: whole, key: Modulestore.keyOfBlock(num, type, id), courseShortName: num };
  }
  const i4x = I4X.exec(text);
  if (i4x) {
    const [whole, , num, type, id] = i4x;
    return { text: whole, key: Modulestore.keyOfBlock(num, type, id), courseShortName: num };
  }
  const hash = HASH.exec(text);
  return hash ? { text: hash[0], key: hash[0] } : undefined;
}

export interface Resolved {
  reference: Reference;
  module: ModuleInfo;
  /** org/course/run of the block's course, '' when the export does not say. */
  course: string;
}

/** The module a reference names, with its course, or undefined when the export lacks it. */
export function resolveReference(store: Modulestore, ref: Reference): Resolved | undefined {
  const module = store.module(ref.key);
  if (!module) return undefined;
  return { reference: ref, module, course: store.courseOf(ref.key) ?? '' };
}
