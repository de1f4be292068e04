// A transform run over several sources: each is read line by line and handed to its own
// SourceTransformer (per-file state such as downtime), all writing to one RowWriter.
import { hash } from 'node:crypto';
import { readLineBatches } from '../io/input.js';
import { progressClock } from '../io/progress.js';
import { withoutPadding } from '../io/nul-padding.js';
import { CountryLookup } from './geoip.js';
import { Modulestore } from '../modulestore/display-names.js';
import type { RowWriter } from '../schema/rows.js';
import { makeSource, SourceTransformer, type Reject } from './source.js';
import { newStats, type RunStats } from './stats.js';
import { OutputError } from '../core/errors.js';

export interface RunOptions {
  /** Paths ('-': stdin), read one after the other; a stream of them (--files-from) is read as it comes. */
  inputs: Iterable<string> | AsyncIterable<string>;
  /** Asked just before an input is opened: false leaves it out (the caller said why). */
  accept?: (input: string) => boolean;
  writer: RowWriter;
  geoipFile?: string;
  modulestoreFile?: string;
  /** LoadInfo.load_file for stdin (e.g. the S3 URL the bytes came from). */
  stdinName?: string;
  onReject: (r: Reject) => void | Promise<void>;
  onWarning?: (file: string, line: number, message: string) => void;
  /** A source that could not be read to its end; `kept`: what of it stays loaded, when anything does. */
  onSourceError: (name: string, error: Error, kept?: string) => void;
  /** Called about once a second with the stats so far (progress). */
  onProgress?: (stats: RunStats) => void;
}

/** Events and the tracking events dropped as noise (heartbeats, pings) so far. */
const trackingCount = (s: RunStats) => s.events + s.filtered.heartbeat + s.filtered.ping;

/** A source whose lines hold no tracking event at all. */
export class NotATrackingLog extends Error {
  constructor(lines: number) {
    super(`not a tracking log: none of its ${lines} ${lines === 1 ? 'line is a tracking event' : 'lines is a tracking event'}`);
  }
}

/** A line that is more than white space and NULs. */
const isEventLine = (line: string) => withoutPadding(line) !== '';

/**
 * LoadInfo.load_file of stdin given no --source-name: `stdin:` and the SHA-1 of its first line
 * (NULs and white space at the ends left out). Two different logs piped in are two sources, and
 * the same log piped in twice is one: with a single name 'stdin' the second day of a
 * `zcat day | edx-json2sql --rows | edx-csvload` was taken for the first and skipped.
 */
export function stdinLoadFile(firstLines: readonly string[]): string {
  const line = firstLines.find(isEventLine);
  return line === undefined ? 'stdin:empty' : `stdin:${hash('sha1', withoutPadding(line), 'hex').slice(0, 16)}`;
}

export async function runTransform(opts: RunOptions): Promise<RunStats> {
  const started = process.hrtime.bigint();
  const stats = newStats();
  const geo = new CountryLookup(opts.geoipFile);
  const modulestore = opts.modulestoreFile ? Modulestore.fromFile(opts.modulestoreFile) : Modulestore.empty();
  const due = progressClock(1000);
  for await (const input of opts.inputs) {
    if (opts.accept && !opts.accept(input)) continue;
    let unterminated: string | undefined;
    const batches = readLineBatches(input, { onUnterminated: (text) => void (unterminated = text) });
    // Unnamed stdin is named by its first line, so the first lines are read before the source starts.
    let first: string[] = [];
    let firstError: unknown;
    let loadFile = input === '-' ? opts.stdinName : undefined;
    if (input === '-' && loadFile === undefined) {
      try {
        for (let r = await batches.next(); !r.done; r = await batches.next()) {
          first = first.concat(r.value);
          if (r.value.some(isEventLine)) break;
        }
      } catch (e) {
        firstError = e;
      }
      loadFile = stdinLoadFile(first);
    }
    const source = makeSource(input, loadFile);
    const t = new SourceTransformer(source, { geo, modulestore, writer: opts.writer, stats, onReject: opts.onReject, onWarning: opts.onWarning });
    await t.start();
    const before = trackingCount(stats);
    const linesBefore = stats.lines - stats.filtered.blank - stats.filtered.comment;
    try {
      if (firstError !== undefined) throw firstError;
      let lineNo = 0;
      const transform = async (batch: string[]) => {
        for (const text of batch) {
          const p = t.line({ lineNo: ++lineNo, text });
          if (p) await p;
        }
        if (opts.onProgress && due()) opts.onProgress(stats);
      };
      if (first.length > 0) await transform(first);
      for await (const batch of batches) await transform(batch);
      if (unterminated !== undefined) await t.unterminatedLine({ lineNo: ++lineNo, text: unterminated });
      // Lines, and not one tracking event among them: a picture, a CSV, the wrong file. Its
      // rejects are reported, and it is not recorded as loaded.
      const lines = stats.lines - stats.filtered.blank - stats.filtered.comment - linesBefore;
      if (lines > 0 && trackingCount(stats) === before) throw new NotATrackingLog(lines);
    } catch (e) {
      if (e instanceof OutputError) {
        // The output failed (a full disk): stop the whole run, blaming no line; what was written
        // of this source is withdrawn where the writer can.
        await Promise.resolve(opts.writer.abortSource?.(source, e)).catch(() => undefined);
        throw e;
      }
      const kept = await opts.writer.abortSource?.(source, e as Error);
      opts.onSourceError(input, e as Error, kept || undefined);
      continue;
    }
    await t.finish();
  }
  await opts.writer.close();
  stats.seconds = Number(process.hrtime.bigint() - started) / 1e9;
  return stats;
}
