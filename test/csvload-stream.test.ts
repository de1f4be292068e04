// The row stream: RowStreamWriter → edx-csvload on stdin, per-source commits, truncated streams.
import t from 'tap';
import { PassThrough } from 'node:stream';
import { readRowStream } from '../src/csv/rowstream-reader.js';
import { STREAM_HEADER } from '../src/csv/rowstream-format.js';
import { TABLES } from '../src/schema/tables.js';
import { testConnection } from './helpers/mariadb.js';
import { CSVLOAD, makeRows, makeSource, run, streamOf, throwawayWarehouse, writeSources, tableDigest } from './csvload-helpers.js';
import { CsvCollectionWriter } from '../src/csv/collection.js';
import { readFileSync } from 'node:fs';
import { tempDir } from './helpers/tmp.js';

const a = makeSource('/logs/app1/tracking.log-20140101.gz');
const b = makeSource('/logs/app2/tracking.log-20140101.gz');
const rowsA = makeRows(a, { count: 120, start: new Date('2014-01-01T00:00:00Z') });
const rowsB = makeRows(b, { count: 80, start: new Date('2014-11-30T23:59:00Z'), stepMs: 30e3 });

t.test('the reader gets back each source with its files and counts', async (t) => {
  const bytes = await streamOf([{ source: a, rows: rowsA }, { source: b, rows: rowsB }]);
  t.ok(bytes.toString().startsWith(STREAM_HEADER + '\n'));
  const input = new PassThrough();
  // Small chunks: lines are cut across chunk boundaries.
  for (let i = 0; i < bytes.length; i += 777) input.write(bytes.subarray(i, i + 777));
  input.end();
  const got: { name: string; files: Record<string, number>; quarters: string[] }[] = [];
  // Tiny segments: each table's rows come in several pieces, in stream order.
  for await (const s of readRowStream(input, { segmentBytes: 2000 })) {
    const files: Record<string, number> = {};
    const announced: string[] = [];
    let segments = 0;
    for await (const ev of s.events) {
      if (ev.kind === 'quarter') announced.push(ev.quarter);
      else if (ev.kind === 'segment') {
        segments++;
        files[ev.segment.table.name] = (files[ev.segment.table.name] ?? 0) + readFileSync(ev.segment.path, 'utf8').split('\n').length - 1;
        t.equal(ev.segment.rows, readFileSync(ev.segment.path, 'utf8').split('\n').length - 1, 'a segment holds the rows it says');
        s.release(ev.segment);
      } else {
        t.same(ev.rows, files, 'the end counts are the rows of the segments');
        got.push({ name: s.source.name, files, quarters: ev.quarters });
      }
    }
    t.ok(segments > 4, 'more than one segment per table');
    t.same(announced, got.at(-1)!.quarters, 'quarters are announced in the stream');
    await s.cleanup();
  }
  t.same(got, [
    { name: a.name, files: { Answer: 24, EventIp: 120, LoadInfo: 1, EdxTrackEvent: 120 }, quarters: ['winter2014'] },
    { name: b.name, files: { Answer: 16, EventIp: 80, LoadInfo: 1, EdxTrackEvent: 80 }, quarters: ['fall2014'] },
  ]);
});

t.test('a stream cut short or garbled is refused', async (t) => {
  const bytes = await streamOf([{ source: a, rows: rowsA }]);
  const read = async (b: Buffer) => {
    const input = new PassThrough();
    input.end(b);
    const names: string[] = [];
    for await (const s of readRowStream(input, { spool: false })) names.push(s.source.name);
    return names;
  };
  t.same(await read(bytes), [a.name]);
  await t.rejects(read(bytes.subarray(0, bytes.length - 200)), /ended inside source|middle of a line/);
  const lines = bytes.toString().split('\n');
  await t.rejects(read(Buffer.from(lines.filter((_, i) => i !== 5).join('\n'))), /rows in the stream, the writer counted/);
  await t.rejects(read(Buffer.from('EdxTrackEvent,"x"\n')), /not a row stream/);
  await t.rejects(read(Buffer.from(`${STREAM_HEADER}\nNoSuchTable,1\n`)), /row outside a source/);
  // The last line says the writer finished: without it, a stream cut between sources is refused
  // (after its whole sources), unless it is of version 1, which had no such line.
  const text = bytes.toString();
  t.match(text, /\n#done \{"sources":1\}\n$/);
  const withoutDone = text.replace(/#done .*\n$/, '');
  await t.rejects(read(Buffer.from(withoutDone)), /ended after 1 whole source without its #done line/);
  t.same(await read(Buffer.from(withoutDone.replace(STREAM_HEADER, '#edx-pipes-rows/1'))), [a.name], 'a version 1 stream needs none');
  await t.rejects(read(Buffer.from(text.replace('#done {"sources":1}', '#done {"sources":2}'))), /#done says 2 sources, the stream held 1/);

  // A byte changed inside a row that still reads as CSV, with every count right: the checksum
  // of the source's bytes (version 3) refuses it; a version 2 stream had none to check.
  const row = lines.findIndex((l) => l.startsWith('EdxTrackEvent,'));
  const garbled = [...lines];
  garbled[row] = lines[row].replace(/"([a-z])/, (_, c: string) => `"${c === 'x' ? 'y' : 'x'}`);
  t.not(garbled[row], lines[row], 'a letter of the row changed');
  await t.rejects(read(Buffer.from(garbled.join('\n'))), /source \/logs\/app1\/tracking.log-20140101.gz: its bytes differ from what the writer wrote \(CRC-32 \d+, the writer's \d+\): the stream was garbled/);
  const quoteLost = [...lines];
  quoteLost[row] = lines[row].replace(',"', ',');
  await t.rejects(read(Buffer.from(quoteLost.join('\n'))), /the stream was garbled/, 'a lost opening quote too');
  t.same(await read(Buffer.from(garbled.join('\n').replace(STREAM_HEADER, '#edx-pipes-rows/2'))), [a.name], 'a version 2 stream has no checksum to check');
  // The checksum is over the bytes, whatever the chunks: a stream read a few bytes at a time agrees.
  const input = new PassThrough();
  for (let i = 0; i < bytes.length; i += 13) input.write(bytes.subarray(i, i + 13));
  input.end();
  const names: string[] = [];
  for await (const s of readRowStream(input, { spool: false })) names.push(s.source.name);
  t.same(names, [a.name], 'read in 13-byte chunks, the checksum agrees');
});

t.test('streams one after another (xargs runs the writer again) read as one; one cut fails only its source', async (t) => {
  const one = await streamOf([{ source: a, rows: rowsA }]);
  const two = await streamOf([{ source: b, rows: rowsB }]);
  /** The sources read whole, and each failed one with its error; then the reader's own error. */
  const read = async (bytes: Buffer) => {
    const input = new PassThrough();
    input.end(bytes);
    const whole: string[] = [];
    const failed: string[] = [];
    try {
      for await (const s of readRowStream(input, { spool: false })) {
        try {
          for await (const ev of s.events) if (ev.kind === 'end') whole.push(s.source.name);
        } catch (e) {
          failed.push(`${s.source.name}: ${(e as Error).message}`);
        }
      }
    } catch (e) {
      return { whole, failed, error: (e as Error).message };
    }
    return { whole, failed, error: undefined };
  };
  t.same(await read(Buffer.concat([one, two, one])), { whole: [a.name, b.name, a.name], failed: [], error: undefined }, 'whole streams, each with its #done');
  // Cut inside its source, at a line's end and in the middle of a line (the next header glued to it).
  const lines = one.toString().split('\n');
  const atLine = Buffer.from(lines.slice(0, 6).join('\n') + '\n');
  for (const cut of [atLine, one.subarray(0, atLine.length + 7)]) {
    const r = await read(Buffer.concat([two, cut, two]));
    t.same(r.whole, [b.name, b.name], 'the sources of the whole streams are read');
    t.match(r.failed, [new RegExp(`^${a.name}: row stream line \\d+: (the stream ended inside source ${a.name} .*another stream began|source ${a.name} has no #end line before the next source)`)]);
    t.equal(r.error, r.failed[0].slice(a.name.length + 2), 'and the reader fails at the end, saying that only');
  }
  // Cut between sources (no #done): what it held is read, and that something may be missing is said.
  const noDone = Buffer.from(one.toString().replace(/#done .*\n$/, ''));
  const r = await read(Buffer.concat([noDone, two]));
  t.same(r.whole, [a.name, b.name]);
  t.match(r.error, /a stream ended after 1 whole source without its #done line and another began/);
  // Anything but a stream's start after #done is still refused.
  t.match((await read(Buffer.concat([one, Buffer.from('#source {}\n')]))).error, /a line after #done that does not start another stream/);
});

t.test('edx-csvload loads a row stream from stdin, like the same collection', async (t) => {
  const wh = await throwawayWarehouse('csvs');
  t.teardown(wh.drop);
  t.equal((await run(CSVLOAD, ['--init', ...wh.args])).code, 0);
  const bytes = await streamOf([{ source: a, rows: rowsA }, { source: b, rows: rowsB }]);
  const r = await run(CSVLOAD, wh.args, { input: bytes });
  t.equal(r.code, 0, r.stderr);
  t.match(r.stderr, /2 loaded, 0 skipped, 0 failed/);
  t.equal((await tableDigest(wh.names.Edx, TABLES.EdxTrackEvent)).rows, 200);

  // The same rows through a collection into another warehouse give the same tables.
  const other = await throwawayWarehouse('csvs2');
  t.teardown(other.drop);
  t.equal((await run(CSVLOAD, ['--init', ...other.args])).code, 0);
  const dir = tempDir('csvs', t);
  await writeSources(new CsvCollectionWriter({ dir, names: other.names }), [{ source: a, rows: rowsA }, { source: b, rows: rowsB }]);
  t.equal((await run(CSVLOAD, [...other.args, dir])).code, 0);
  for (const table of [TABLES.EdxTrackEvent, TABLES.Answer]) {
    t.same(await tableDigest(other.names.Edx, table), await tableDigest(wh.names.Edx, table), `${table.name} identical`);
  }
  t.same(await tableDigest(other.names.EdxPrivate, TABLES.EventIp), await tableDigest(wh.names.EdxPrivate, TABLES.EventIp));

  // Again: both skipped.
  const again = await run(CSVLOAD, wh.args, { input: bytes });
  t.equal(again.code, 0, again.stderr);
  t.match(again.stderr, /0 loaded, 2 skipped, 0 failed/);
});

t.test('a truncated stream commits the sources that ended and fails the rest', async (t) => {
  const wh = await throwawayWarehouse('csvt');
  t.teardown(wh.drop);
  t.equal((await run(CSVLOAD, ['--init', ...wh.args])).code, 0);
  const bytes = await streamOf([{ source: a, rows: rowsA }, { source: b, rows: rowsB }]);
  const cut = bytes.subarray(0, bytes.length - 1000);
  const r = await run(CSVLOAD, wh.args, { input: cut });
  t.equal(r.code, 1);
  t.match(r.stderr, /ended inside source \/logs\/app2|middle of a line/);
  const c = await testConnection();
  const [li] = await c.query(`SELECT load_file FROM \`${wh.names.Edx}\`.LoadInfo`);
  const [ev] = await c.query(`SELECT COUNT(*) AS n FROM \`${wh.names.Edx}\`.EdxTrackEvent WHERE load_info_fk = ?`, [b.loadInfoId]);
  await c.end();
  t.same((li as { load_file: string }[]).map((x) => x.load_file), [a.loadFile], 'only the complete source is recorded');
  t.equal(Number((ev as { n: number }[])[0].n), 0, 'nothing of the cut source');
});
