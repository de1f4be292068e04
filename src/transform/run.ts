// A transform run over several sources: each is read line by line and handed to its own
// SourceTransformer (per-file state such as downtime), all writing to one RowWriter.
import { readLineBatches } from '../tracklog/read.js';
import { CountryLookup } from './geoip.js';
import { Modulestore } from './modulestore.js';
import type { RowWriter } from './rows.js';
import { makeSource, SourceTransformer, type Reject } from './source.js';
import { newStats, type RunStats } from './stats.js';

export interface RunOptions {
  inputs: string[];
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

export async function runTransform(opts: RunOptions): Promise<RunStats> {
  const started = process.hrtime.bigint();
  const stats = newStats();
  const geo = new CountryLookup(opts.geoipFile);
  const modulestore = opts.modulestoreFile ? Modulestore.fromFile(opts.modulestoreFile) : Modulestore.empty();
  let lastProgress = Date.now();
  for (const input of opts.inputs) {
    const source = makeSource(input, input === '-' && opts.stdinName ? opts.stdinName : undefined);
    const t = new SourceTransformer(source, { geo, modulestore, writer: opts.writer, stats, onReject: opts.onReject, onWarning: opts.onWarning });
    await t.start();
    try {
      let lineNo = 0;
      for await (const batch of readLineBatches(input)) {
        for (const text of batch) {
          const p = t.line({ lineNo: ++lineNo, text });
          if (p) await p;
        }
        if (opts.onProgress && Date.now() - lastProgress > 1000) {
          lastProgress = Date.now();
          opts.onProgress(stats);
        }
      }
    } catch (e) {
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
