// Transform lines in-process and collect the rows by table, as objects keyed by column name.
import { CountryLookup } from '../../src/transform/geoip.js';
import { Modulestore } from '../../src/modulestore/display-names.js';
import { makeSource, SourceTransformer, type Reject } from '../../src/transform/source.js';
import { newStats, type RunStats } from '../../src/transform/stats.js';
import type { Row, RowWriter } from '../../src/schema/rows.js';

export type Rows = Record<string, Record<string, unknown>[]>;

let geo: CountryLookup | undefined;

export async function transform(
  lines: (string | object)[],
  opts: { modulestore?: Modulestore } = {},
): Promise<{ rows: Rows; stats: RunStats; rejects: Reject[]; warnings: string[] }> {
  geo ??= new CountryLookup();
  const rows: Rows = {};
  const rejects: Reject[] = [];
  const warnings: string[] = [];
  const writer: RowWriter = {
    startSource() {},
    write(row: Row) {
      const obj = Object.fromEntries(row.table.columns.map((c, i) => [c.name, row.values[i]]));
      (rows[row.table.name] ??= []).push(obj);
    },
    endSource() {},
    close() {},
  };
  const stats = newStats();
  const t = new SourceTransformer(makeSource('test.log'), {
    geo,
    modulestore: opts.modulestore ?? Modulestore.empty(),
    writer,
    stats,
    onReject: (r) => void rejects.push(r),
    onWarning: (_f, line, msg) => void warnings.push(`${line}: ${msg}`),
  });
  await t.start();
  let n = 0;
  for (const l of lines) await t.line({ lineNo: ++n, text: typeof l === 'string' ? l : JSON.stringify(l) });
  await t.finish();
  return { rows, stats, rejects, warnings };
}

/** A browser/server event with the usual top-level fields; override what the test is about. */
export function event(fields: Record<string, unknown>): Record<string, unknown> {
  return {
    username: 'ada',
    host: 'lms.example.edu',
    session: 'aa11bb22cc33dd44ee55ff6677889900',
    event_source: 'browser',
    ip: '171.64.10.20',
    agent: 'TestAgent/1.0',
    page: 'https://lms.example.edu/courses/Demo/CS101/Spring2014/courseware/x/y/',
    time: '2014-03-03T08:00:00.000001+00:00',
    ...fields,
  };
}
