// edx-extract-table against dumps made by the real mariadb-dump of throwaway databases: awkward
// table names, data that looks like dump structure, long and binary rows, many dump options,
// several databases, truncation at every byte, gzip, stdin, the reader going away. Every script
// is loaded back with the real mariadb client into another throwaway database and compared with
// the original (CHECKSUM TABLE, ordered hex SELECTs). The one known limit (a name with a line break) is a `todo`.
import t from 'tap';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import type { Connection } from 'mysql2/promise';
import { REPO, runBytes, spawnTool, toolEnv, type BytesResult } from './helpers/tools.js';
import { testConnection, testServer, uniqueName, type TestServer } from './helpers/mariadb.js';
import { DumpTableFilter, type ExtractResult } from '../src/dump/extract.js';
import { tempDir } from './helpers/tmp.js';

const TOOL = join(REPO, 'bin', 'edx-extract-table');
const MARIADB_DUMP = ['/usr/bin/mariadb-dump', '/usr/bin/mysqldump'].find(existsSync);
const MARIADB = ['/usr/bin/mariadb', '/usr/bin/mysql'].find(existsSync);
const dir = tempDir('xt-adv');

let server: TestServer | undefined;
let skip: string | false = false;
if (!MARIADB_DUMP || !MARIADB) skip = 'mariadb-dump or the mariadb client is not installed';
else {
  try {
    server = await testServer();
  } catch (e) {
    skip = `no MariaDB/MySQL server: ${(e as Error).message}`;
  }
}

const run = runBytes;
const extract = (args: string[], input?: Buffer | string) => run(TOOL, args, input);

/** The filter in-process over bytes in chunks of `size`: what the tool would print and its exit code. */
function filterRun(bytes: Buffer, table: string | undefined, size = 65536, database?: string): { out: Buffer; result: ExtractResult; code: number } {
  const f = new DumpTableFilter({ table, database, source: 'x' });
  const out: Buffer[] = [];
  for (let p = 0; p < bytes.length && !f.done; p += size) f.push(bytes.subarray(p, p + size), out);
  if (!f.done) f.end(out);
  const r = f.result;
  return { out: Buffer.concat(out), result: r, code: table === undefined ? 0 : r.truncated || !r.found ? 1 : 0 };
}

async function suite(s: TestServer): Promise<void> {
  const clientArgs = ['--no-defaults', '-h', s.host, '-P', String(s.port), '-u', s.user];
  const clientEnv = { ...toolEnv(), ...(s.password ? { MYSQL_PWD: s.password } : {}) };
  const mariadb = (db: string, input: Buffer | string) => run(MARIADB!, [...clientArgs, '--batch', '--skip-column-names', db], input, clientEnv);
  const dumpTo = async (name: string, options: string[]): Promise<string> => {
    const d = await run(MARIADB_DUMP!, [...clientArgs, ...options], undefined, clientEnv);
    if (d.code !== 0) throw new Error(`mariadb-dump ${options.join(' ')}: ${d.stderr}`);
    const file = join(dir, name);
    writeFileSync(file, d.stdout);
    return file;
  };

  const c: Connection = await testConnection();
  const dbs: string[] = [];
  const newDb = async (prefix: string) => {
    const db = uniqueName(prefix);
    dbs.push(db);
    await c.query(`CREATE DATABASE \`${db}\` CHARACTER SET utf8mb4`);
    return db;
  };
  t.teardown(async () => {
    for (const db of dbs) await c.query(`DROP DATABASE IF EXISTS \`${db}\``);
    await c.end();
  });
  const q = (id: string) => '`' + id.replace(/`/g, '``') + '`';
  const checksum = async (db: string, table: string) => {
    const [rows] = await c.query(`CHECKSUM TABLE ${q(db)}.${q(table)}`);
    const [n] = await c.query(`SELECT COUNT(*) AS n FROM ${q(db)}.${q(table)}`);
    return { sum: String((rows as { Checksum: unknown }[])[0].Checksum), n: Number((n as { n: number }[])[0].n) };
  };
  const createOf = async (db: string, table: string) => {
    const [rows] = await c.query(`SHOW CREATE TABLE ${q(db)}.${q(table)}`);
    return String((rows as Record<string, string>[])[0]['Create Table']);
  };
  const tablesOf = async (db: string) => {
    const [rows] = await c.query('SELECT table_name AS n FROM information_schema.tables WHERE table_schema = ? ORDER BY 1', [db]);
    return (rows as { n: string }[]).map((r) => r.n);
  };
  const objectsOf = async (db: string) => {
    const [rows] = await c.query(`SELECT (SELECT COUNT(*) FROM information_schema.triggers WHERE trigger_schema = ?) +
      (SELECT COUNT(*) FROM information_schema.routines WHERE routine_schema = ?) +
      (SELECT COUNT(*) FROM information_schema.events WHERE event_schema = ?) AS n`, [db, db, db]);
    return Number((rows as { n: number }[])[0].n);
  };
  const hexRows = async (db: string) => {
    const [rows] = await c.query(`SELECT id, HEX(txt) AS txt, HEX(bin) AS bin FROM ${q(db)}.events ORDER BY id`);
    return rows;
  };

  // ---------------------------------------------------------------------------------------------
  // The source database: awkward names, structure-looking data, binary, long and many rows,
  // a view, a trigger, a routine and an event.
  const src = await newDb('xta_src');
  const TABLES = ['Account', 'Account2', 'AccountX', 'my table', 'we`ird', 'dot.ted', 'Ünïcödé ∑', 'events', 'many'];
  await c.query(`USE ${q(src)}`);
  for (const name of ['Account', 'Account2', 'AccountX', 'my table', 'we`ird', 'dot.ted', 'Ünïcödé ∑']) {
    await c.query(`CREATE TABLE ${q(name)} (id INT PRIMARY KEY, name VARCHAR(100), ts TIMESTAMP NULL) CHARACTER SET utf8mb4`);
    await c.query(`INSERT INTO ${q(name)} VALUES (1, ?, FROM_UNIXTIME(1370736000)), (2, ?, NULL)`, [`${name} one`, `${name} ✓`]);
  }
  await c.query(`CREATE TABLE events (id INT PRIMARY KEY, txt LONGTEXT, bin LONGBLOB, bits BIT(5), d DECIMAL(30,10), f DOUBLE, j JSON,
    e ENUM('a','b'), dt DATETIME(6)) CHARACTER SET utf8mb4`);
  const allBytes = Buffer.from(Array.from({ length: 256 }, (_, i) => i));
  const invalidUtf8 = Buffer.from([0xff, 0xfe, 0x80, 0xc3, 0x28, 0xe2, 0x82, 0x00, 0x5c, 0x27, 0x0a, 0x0d, 0x1a]);
  const structureLike = [
    '\n--\n-- Table structure for table `Account`\n--\n', 'UNLOCK TABLES;', '\nUNLOCK TABLES;\n',
    '\n/*!40101 SET NAMES latin1 */;\n', "\n/*!40103 SET TIME_ZONE='+05:00' */;\n", '\n/*!40103 SET TIME_ZONE=@OLD_TIME_ZONE */;\n',
    '\nDELIMITER ;;\n', '\n/*!50003 CREATE*/\n', '\n-- Dump completed on 2024-01-01\n', '\n-- Current Database: `other`\n',
    '\n-- Dumping data for table `many`\n', 'nul\0byte', 'ctrl-z \x1a, cr \r, tab \t', `quote ' and backslash \\ and \\n`,
  ];
  let id = 0;
  for (const txt of structureLike) {
    await c.query('INSERT INTO events (id, txt, bin, bits, d, f, j, e, dt) VALUES (?, ?, ?, b\'10101\', 12345678901234567890.0123456789, 1.5e-300, ?, \'b\', \'2013-06-09 01:02:03.456789\')',
      [id++, txt, Buffer.from(txt), JSON.stringify({ txt })]);
  }
  await c.query('INSERT INTO events (id, txt, bin) VALUES (?, ?, ?), (?, NULL, ?), (?, ?, NULL)', [id++, '', allBytes, id++, invalidUtf8, id++, 'only text']);
  // Rows of several MB: one line each, far over every read chunk, with structure-like text inside.
  const big = ('\nUNLOCK TABLES;\n-- Table structure for table `Account`\n' + 'x'.repeat(1000)).repeat(3000);
  const bigBin = Buffer.alloc(2_500_000);
  for (let i = 0; i < bigBin.length; i++) bigBin[i] = (i * 7919) & 0xff;
  await c.query('INSERT INTO events (id, txt, bin) VALUES (?, ?, ?)', [id++, big, bigBin]);
  await c.query('CREATE TABLE many (id INT PRIMARY KEY, v VARCHAR(40))');
  await c.query('INSERT INTO many SELECT seq, CONCAT(\'row \', seq) FROM seq_1_to_3000');
  await c.query('CREATE VIEW AccountView AS SELECT * FROM Account');
  await c.query('CREATE TRIGGER account_bi BEFORE INSERT ON Account FOR EACH ROW SET NEW.name = CONCAT(NEW.name, \'!\')');
  await c.query('CREATE PROCEDURE proc1() BEGIN SELECT 1; END');
  await c.query('CREATE EVENT ev1 ON SCHEDULE EVERY 1 DAY DISABLE DO DELETE FROM many WHERE 0');

  const expected = new Map<string, { sum: string; n: number }>();
  for (const name of TABLES) expected.set(name, await checksum(src, name));
  const expectedHex = await hexRows(src);

  const full = await dumpTo('full.sql', ['--routines', '--triggers', '--events', src]);
  const fullBytes = readFileSync(full);
  const gz = join(dir, 'full-gz.bin');
  writeFileSync(gz, gzipSync(fullBytes));
  const variants: [string, string[] | string][] = [
    ['--routines --triggers --events', full],
    ['gzip', gz],
    ['--skip-extended-insert', ['--skip-extended-insert']],
    ['--hex-blob', ['--hex-blob']],
    ['--net-buffer-length=4096', ['--net-buffer-length=4096']],
    ['--skip-add-locks --routines --events', ['--skip-add-locks', '--routines', '--events']],
    ['--single-transaction --skip-tz-utc', ['--single-transaction', '--skip-tz-utc']],
    ['--skip-quote-names', ['--skip-quote-names']],
  ];

  await t.test('every table of every kind of dump loads back exactly, and nothing else', async (t) => {
    for (const [label, how] of variants) {
      const file = typeof how === 'string' ? how : await dumpTo(`v${label.replace(/\W+/g, '_')}.sql`, [...how, src]);
      const dst = await newDb('xta_dst');
      // --skip-quote-names makes a dump whose awkward names do not even load whole: plain names only.
      const names = label === '--skip-quote-names' ? ['Account', 'Account2', 'AccountX', 'events', 'many'] : TABLES;
      const results = await Promise.all(names.map(async (name) => {
        const script = await extract([file, name]);
        const load = script.code === 0 ? await mariadb(dst, script.stdout) : undefined;
        return { name, script, load };
      }));
      for (const { name, script, load } of results) {
        t.equal(script.code, 0, `${label}: ${name} extracted ${script.stderr}`);
        t.equal(script.stderr, '', `${label}: ${name}: no message`);
        t.equal(load?.code, 0, `${label}: ${name} loads: ${load?.stderr}`);
        t.same(await checksum(dst, name), expected.get(name), `${label}: ${name}: same rows (CHECKSUM TABLE)`);
      }
      t.same((await tablesOf(dst)).sort(), [...names].sort(), `${label}: exactly those tables`);
      t.equal(await objectsOf(dst), 0, `${label}: no trigger, routine or event came along`);
      t.same(await hexRows(dst), expectedHex, `${label}: events, byte for byte`);
    }
  });

  await t.test('stdin: plain and gzip give the same script as the file', async (t) => {
    const file = await extract([full, 'Account2']);
    const viaStdin = await extract(['Account2'], fullBytes);
    const viaGzip = await extract(['-', 'Account2'], gzipSync(fullBytes));
    t.equal(viaStdin.code, 0, viaStdin.stderr);
    t.equal(viaGzip.code, 0, viaGzip.stderr);
    const body = (b: Buffer) => b.toString('latin1').replace(/^-- edx-extract-table: .*\n/, '');
    t.equal(body(viaStdin.stdout), body(file.stdout));
    t.equal(body(viaGzip.stdout), body(file.stdout));
  });

  await t.test('views, --no-data, --no-create-info, --list', async (t) => {
    const view = await extract([full, 'AccountView']);
    t.equal(view.code, 1);
    t.equal(view.stdout.length, 0);
    t.match(view.stderr, /`AccountView` is a view/);
    const list = await extract(['--list', full]);
    t.equal(list.code, 0);
    t.same(list.stdout.toString().split('\n').filter(Boolean).sort(), [...TABLES].sort(), '--list: the tables, each once, no view');

    const noData = await dumpTo('nodata.sql', ['--no-data', '--triggers', src]);
    const noCreate = await dumpTo('nocreate.sql', ['--no-create-info', '--skip-triggers', src]);
    const noCreateNoLocks = await dumpTo('nocreate-nolocks.sql', ['--no-create-info', '--skip-add-locks', src]);
    for (const [label, dataFile] of [['locks', noCreate], ['--skip-add-locks', noCreateNoLocks]] as const) {
      const dst = await newDb('xta_nd');
      const steps = await Promise.all(TABLES.map(async (name) => {
        const ddl = await extract([noData, name]);
        const l1 = await mariadb(dst, ddl.stdout);
        const create = await createOf(dst, name).catch((e: Error) => e.message);
        const rows = await extract([dataFile, name]);
        const l2 = await mariadb(dst, rows.stdout);
        return { name, ddl, l1, create, rows, l2 };
      }));
      for (const { name, ddl, l1, create, rows, l2 } of steps) {
        t.equal(ddl.code, 0, `--no-data ${name}: ${ddl.stderr}`);
        t.notMatch(ddl.stdout.toString(), /INSERT INTO|TRIGGER/, `--no-data ${name}: structure only`);
        t.equal(l1.code, 0, l1.stderr);
        t.equal(create, await createOf(src, name), `--no-data ${name}: same definition`);
        t.equal(rows.code, 0, `--no-create-info (${label}) ${name}: ${rows.stderr}`);
        t.notMatch(rows.stdout.toString(), /CREATE TABLE/);
        t.equal(l2.code, 0, l2.stderr);
        t.same(await checksum(dst, name), expected.get(name), `--no-create-info (${label}) ${name}: same rows`);
      }
      t.equal(await objectsOf(dst), 0);
    }
  });

  await t.test('--compact and --skip-comments: a clear failure, never a script', async (t) => {
    for (const opt of ['--compact', '--skip-comments']) {
      const file = await dumpTo(`x${opt}.sql`, [opt, src, 'Account', 'Account2']);
      const r = await extract([file, 'Account']);
      t.equal(r.code, 1, opt);
      t.equal(r.stdout.length, 0, `${opt}: nothing on stdout`);
      t.match(r.stderr, /no '-- Table structure for table' comments .*--compact or --skip-comments/, opt);
    }
  });

  // ---------------------------------------------------------------------------------------------
  await t.test('the same table names in several databases (--databases)', async (t) => {
    const one = await newDb('xta_one');
    const two = await newDb('xta_two');
    for (const [db, tag] of [[one, 'one'], [two, 'two']]) {
      await c.query(`CREATE TABLE ${q(db)}.Account (id INT PRIMARY KEY, v VARCHAR(10)); CREATE TABLE ${q(db)}.Account2 (id INT)`);
      await c.query(`INSERT INTO ${q(db)}.Account VALUES (1, ?), (2, 'x'); INSERT INTO ${q(db)}.Account2 VALUES (${tag === 'one' ? 1 : 2})`, [tag]);
    }
    for (const opts of [[], ['--skip-add-locks'], ['--no-data']]) {
      const file = await dumpTo(`multi${opts.join('')}.sql`, [...opts, '--databases', one, two]);
      const combos = [[one, []], [one, ['--database', one]], [two, ['--database', two]]] as const;
      const done = await Promise.all(combos.map(async ([db, args]) => {
        const dst = await newDb('xta_mdst');
        const per = [];
        for (const name of ['Account', 'Account2']) {
          const r = await extract([...args, file, name]);
          const l = await mariadb(dst, r.stdout);
          per.push({ name, r, l });
        }
        return { db, args, dst, per };
      }));
      for (const { db, args, dst, per } of done) {
        for (const { name, r, l } of per) {
          const what = `${opts.join(' ') || 'default'}, ${args.join(' ') || '(first)'}, ${name}`;
          t.equal(r.code, 0, `${what}: ${r.stderr}`);
          t.notMatch(r.stdout.toString(), /USE |Current Database|CREATE DATABASE/, `${what}: no switch of database in the script`);
          t.equal(l.code, 0, l.stderr);
          if (opts[0] === '--no-data') t.equal(await createOf(dst, name), await createOf(db, name), `${what}: the definition`);
          else t.same(await checksum(dst, name), await checksum(db, name), `${what}: the rows of ${db === one ? 'the first' : 'the second'} database`);
        }
        t.same(await tablesOf(dst), ['Account', 'Account2']);
      }
      const listTwo = await extract(['--list', '--database', two, file]);
      t.equal(listTwo.stdout.toString(), 'Account\nAccount2\n', `${opts}: --list --database`);
    }
  });

  await t.test('--list --database of a --no-create-info dump whose databases end and begin with the same table', async (t) => {
    const one = await newDb('xta_l1');
    const two = await newDb('xta_l2');
    await c.query(`CREATE TABLE ${q(one)}.t (id INT); CREATE TABLE ${q(two)}.t (id INT); CREATE TABLE ${q(two)}.u (id INT)`);
    const file = await dumpTo('nci-multi.sql', ['--no-create-info', '--databases', one, two]);
    const r = await extract(['--list', '--database', two, file]);
    t.equal(r.code, 0);
    t.equal(r.stdout.toString(), 't\nu\n', 'both tables of the second database');
    const x = await extract(['--database', two, file, 't']);
    t.equal(x.code, 0, 'extracting it works');
  });

  // ---------------------------------------------------------------------------------------------
  await t.test('a dump cut at every byte around a section: exit 1, or exactly the full script', async (t) => {
    const cut = await newDb('xta_cut');
    for (const name of ['Account', 'Account2', 'AccountX']) {
      await c.query(`CREATE TABLE ${q(cut)}.${q(name)} (id INT PRIMARY KEY, v VARCHAR(20))`);
      await c.query(`INSERT INTO ${q(cut)}.${q(name)} VALUES (1, 'a'), (2, 'UNLOCK TABLES;'), (3, 'c')`);
    }
    for (const opts of [[], ['--skip-add-locks'], ['--no-create-info'], ['--no-data'], ['--skip-extended-insert'], ['--skip-quote-names']]) {
      const file = await dumpTo(`cut${opts.join('')}.sql`, [...opts, cut]);
      const bytes = readFileSync(file);
      const text = bytes.toString('latin1');
      const table = 'Account2';
      const whole = filterRun(bytes, table);
      t.equal(whole.code, 0, `${opts}: the whole dump`);
      const start = text.search(/\n-- (Table structure|Dumping data) for table `?Account2`?\n/);
      const next = text.search(/\n-- (Table structure|Dumping data) for table `?AccountX`?\n/);
      const dataLine = text.indexOf('\n-- Dumping data for table ', start) + 1;
      const dataLineEnd = text.indexOf('\n', dataLine);
      const badInDataComment: string[] = [];
      const badElsewhere: string[] = [];
      for (let n = start - 20; n < next + 60; n++) {
        const r = filterRun(bytes.subarray(0, n), table);
        if (r.code === 0 && !r.out.equals(whole.out)) {
          const where = `cut at ${n}: ${JSON.stringify(text.slice(Math.max(0, n - 30), n))}`;
          if (opts[0] !== '--no-create-info' && opts[0] !== '--no-data' && n > dataLine && n <= dataLineEnd) badInDataComment.push(where);
          else badElsewhere.push(where);
        }
      }
      t.same(badElsewhere, [], `${opts}: a cut outside the data comment line is never taken for a whole section`);
      t.same(badInDataComment, [], `${opts}: nor a cut inside the table's own '-- Dumping data for table' line`);
    }
    // The same through the CLI: a cut inside the data comment line.
    const file = await dumpTo('cut-cli.sql', [cut]);
    const bytes = readFileSync(file);
    const n = bytes.indexOf('-- Dumping data for table `Account2`') + '-- Dumping data for table `Acc'.length;
    const r = await extract(['Account2'], bytes.subarray(0, n));
    t.equal(r.code, 1, 'exit 1');
    t.match(r.stderr, /ends inside the section of table `Account2`: the dump is truncated/, 'says the dump is truncated');
    // And a cut inside the rows: correct.
    const m = bytes.indexOf("(2,'UNLOCK TABLES;')", bytes.indexOf('INSERT INTO `Account2`'));
    const inRows = await extract(['Account2'], bytes.subarray(0, m));
    t.equal(inRows.code, 1);
    t.match(inRows.stderr, /truncated/);
  });

  await t.test('a gzip dump cut at many places: exit 1, or exactly the full script', async (t) => {
    const many = await dumpTo('many.sql', [src, 'Account', 'many', 'Account2']);
    const gzBytes = gzipSync(readFileSync(many));
    const whole = await extract(['-', 'many'], gzBytes);
    t.equal(whole.code, 0);
    const cuts = Array.from({ length: 24 }, (_, i) => Math.floor((gzBytes.length * (i + 1)) / 25));
    const results = await Promise.all(cuts.map((n) => extract(['many'], gzBytes.subarray(0, n))));
    for (const [i, r] of results.entries()) {
      if (r.code === 0) t.ok(r.stdout.equals(whole.stdout), `cut at ${cuts[i]}: exit 0 only with the whole script`);
      else {
        t.equal(r.code, 1, `cut at ${cuts[i]}`);
        t.match(r.stderr, /^edx-extract-table: .*(not a valid gzip stream|truncated)/, `cut at ${cuts[i]}: a clear message`);
      }
    }
    const cutStdin = await extract(['many'], gzBytes.subarray(0, 300));
    t.match(cutStdin.stderr, /^edx-extract-table: stdin: not a valid gzip stream/, 'a cut gzip on stdin is called stdin, like every other message');
  });

  await t.test('chunk boundaries anywhere: the same output', async (t) => {
    const small = readFileSync(await dumpTo('small.sql', [src, 'Account', 'Account2', 'AccountX', 'we`ird']));
    for (const name of ['Account2', 'we`ird']) {
      const ref = filterRun(small, name, small.length);
      for (const size of [1, 2, 3, 13, 64, 4095, 4096, 4097]) {
        t.ok(filterRun(small, name, size).out.equals(ref.out), `${name}, chunks of ${size}`);
      }
    }
    const ref = filterRun(fullBytes, 'events', fullBytes.length);
    t.equal(ref.code, 0);
    for (const size of [4095, 4096, 4097, 65535, 65536, 1 << 20]) {
      t.ok(filterRun(fullBytes, 'events', size).out.equals(ref.out), `events (MB rows), chunks of ${size}`);
    }
  });

  // ---------------------------------------------------------------------------------------------
  await t.test('stdin: reading stops at the end of the section, even when the writer never closes', async (t) => {
    const child = spawnTool(TOOL, ['Account']);
    let out = 0;
    child.stdout!.on('data', (d) => (out += d.length));
    child.stdin!.on('error', () => {});
    child.stdin!.write(fullBytes.subarray(0, fullBytes.indexOf('-- Table structure for table `many`')));
    // stdin stays open: the tool must end by itself (the guard only keeps a failure from hanging the run).
    let guard: NodeJS.Timeout | undefined;
    const code = await Promise.race([
      new Promise<number | null>((resolve) => child.on('close', resolve)),
      new Promise<string>((resolve) => { guard = setTimeout(() => resolve('still running after 2 minutes'), 120_000); }),
    ]);
    clearTimeout(guard);
    child.kill();
    t.equal(code, 0, 'done without waiting for the end of stdin');
    t.ok(out > 0);
  });

  await t.test('gzip on stdin arriving a byte at first', async (t) => {
    const gzBytes = gzipSync(readFileSync(await dumpTo('trickle.sql', [src, 'Account'])));
    const child = spawnTool(TOOL, ['Account']);
    const out: Buffer[] = [];
    let err = '';
    child.stdout!.on('data', (d) => out.push(d));
    child.stderr!.on('data', (d) => (err += d));
    child.stdin!.on('error', () => {});
    child.stdin!.write(gzBytes.subarray(0, 1));
    // Pacing, not a wait for an event (no assertion depends on it): the rest comes a moment later so
    // that the tool most likely reads the first byte alone; on a slow machine the two may arrive
    // together, and the test still holds.
    await new Promise((r) => setTimeout(r, 300));
    child.stdin!.end(gzBytes.subarray(1));
    const code = await new Promise((resolve) => child.on('close', resolve));
    t.equal(code, 0, `recognised as gzip: ${err}`);
    t.match(Buffer.concat(out).toString(), /INSERT INTO `Account__edx_new`/, 'the rows (loaded aside, swapped in at the end)');
  });

  await t.test('the reader going away: exit 0, no message (file, gzip file, stdin)', async (t) => {
    const hangUp = (args: string[], input?: Buffer) => new Promise<BytesResult>((resolve) => {
      const child = spawnTool(TOOL, args);
      let got = 0;
      let err = '';
      child.stdout!.on('data', (d) => {
        got += d.length;
        if (got > 100) child.stdout!.destroy();
      });
      child.stderr!.on('data', (d) => (err += d));
      child.stdin!.on('error', () => {});
      child.stdin!.end(input ?? '');
      child.on('close', (code) => resolve({ code, stdout: Buffer.alloc(0), stderr: err }));
    });
    for (const [label, args, input] of [['file', [full, 'events']], ['gzip file', [gz, 'events']], ['stdin', ['events'], fullBytes],
      ['gzip stdin', ['-', 'events'], readFileSync(gz)], ['--list', ['--list', full]]] as [string, string[], Buffer | undefined][]) {
      const r = await hangUp(args, input);
      t.equal(r.code, 0, `${label}: exit 0`);
      t.equal(r.stderr, '', `${label}: quiet`);
    }
  });

  // ---------------------------------------------------------------------------------------------
  await t.test('--no-autocommit: the session is restored (autocommit back on)', async (t) => {
    const file = await dumpTo('noautocommit.sql', ['--no-autocommit', src, 'Account', 'Account2']);
    const dst = await newDb('xta_ac');
    await c.query(`CREATE TABLE ${q(dst)}.log (x INT)`);
    const r = await extract([file, 'Account']);
    t.equal(r.code, 0);
    const load = await mariadb(dst, Buffer.concat([r.stdout, Buffer.from('INSERT INTO log VALUES (42);\nSELECT @@autocommit;\n')]));
    t.equal(load.code, 0, load.stderr);
    t.same(await checksum(dst, 'Account'), expected.get('Account'), 'the rows (UNLOCK TABLES commits them)');
    t.equal(load.stdout.toString(), '1\n', 'autocommit as before the script');
    const [rows] = await c.query(`SELECT COUNT(*) AS n FROM ${q(dst)}.log`);
    t.same(rows, [{ n: 1 }], 'a statement after the script is committed, as after the whole dump');
  });

  await t.test('a trigger body with a line that looks like a section comment', async (t) => {
    const db = await newDb('xta_trg');
    await c.query(`CREATE TABLE ${q(db)}.a (id INT, c TEXT); CREATE TABLE ${q(db)}.b (id INT); INSERT INTO ${q(db)}.b VALUES (7)`);
    await c.query(`CREATE TRIGGER ${q(db)}.a_bi BEFORE INSERT ON ${q(db)}.a FOR EACH ROW BEGIN\n-- Table structure for table \`b\`\nSET NEW.c = NEW.c;\nEND`);
    const file = await dumpTo('trigger.sql', [db]);
    const r = await extract([file, 'b']);
    t.equal(r.code, 0);
    t.match(r.stdout.toString(), /CREATE TABLE `b__edx_new`/, 'the table b (loaded aside, swapped in at the end)');
    const dst = await newDb('xta_trgd');
    const load = await mariadb(dst, r.stdout);
    t.equal(load.code, 0, 'loads');
    t.same(await tablesOf(dst), ['b']);
    const list = await extract(['--list', file]);
    t.equal(list.stdout.toString(), 'a\nb\n', '--list');
  });

  await t.test('a table name with a newline (mariadb-dump writes its comment on two lines)', async (t) => {
    const db = await newDb('xta_nl');
    await c.query(`CREATE TABLE ${q(db)}.\`nl\nx\` (id INT); INSERT INTO ${q(db)}.\`nl\nx\` VALUES (5); CREATE TABLE ${q(db)}.z (id INT)`);
    const file = await dumpTo('newline.sql', [db]);
    t.match(readFileSync(file, 'latin1'), /-- Table structure for table `nl\n-- x`\n/, "mariadb-dump's layout");
    const list = await extract(['--list', file]);
    t.equal(list.stdout.toString(), 'nl\nx\nz\n', '--list', { todo: "known limit (--help): a name with a line break breaks the dump's comment line; '`nl' is listed" });
    const r = await extract([file, 'nl\nx']);
    t.equal(r.code, 0, 'extracted', { todo: 'known limit (--help): not found' });
  });

  await t.test('a non-ASCII table name in a dump made with --default-character-set=latin1', async (t) => {
    const db = await newDb('xta_l1');
    await c.query(`CREATE TABLE ${q(db)}.\`Ünï\` (id INT, v VARCHAR(10)) CHARACTER SET latin1; INSERT INTO ${q(db)}.\`Ünï\` VALUES (1, 'é')`);
    const file = await dumpTo('latin1.sql', ['--default-character-set=latin1', db]);
    const r = await extract([file, 'Ünï']);
    t.equal(r.code, 0, `found: ${r.stderr}`);
    if (r.code === 0) {
      const dst = await newDb('xta_l1d');
      const load = await mariadb(dst, r.stdout);
      t.equal(load.code, 0, load.stderr);
      t.same(await checksum(dst, 'Ünï'), await checksum(db, 'Ünï'));
    }
  });
}

if (skip) {
  t.pass(`skipped: ${skip}`);
} else {
  await suite(server!);
}
