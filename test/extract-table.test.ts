// edx-extract-table on dumps made by the real mariadb-dump, loaded back with the real mariadb
// client; and on hand-made dumps for what mariadb-dump does not make on demand (bytes that are
// not UTF-8, CRLF, truncation, other layouts), options and exit codes.
import t from 'tap';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { REPO, runBytes, runTool, toolEnv } from './helpers/tools.js';
import { testConnection, testServer, uniqueName, type TestServer } from './helpers/mariadb.js';
import { tempDir } from './helpers/tmp.js';

const TOOL = 'edx-extract-table';
const MARIADB_DUMP = ['/usr/bin/mariadb-dump', '/usr/bin/mysqldump'].find(existsSync);
const MARIADB = ['/usr/bin/mariadb', '/usr/bin/mysql'].find(existsSync);
const dir = tempDir('extract');

const run = runBytes;
const extract = (args: string[], input?: Buffer | string) => run(TOOL, args, input);

// ---------------------------------------------------------------------------------------------
// Hand-made dumps in the layout of mariadb-dump.

const PROLOGUE = `-- MariaDB dump 10.19  Distrib 10.11.19-MariaDB, for debian-linux-gnu (x86_64)
--
-- Host: 127.0.0.1    Database: shop
-- ------------------------------------------------------
-- Server version	10.11.19-MariaDB

/*!40101 SET @OLD_CHARACTER_SET_CLIENT=@@CHARACTER_SET_CLIENT */;
/*!40101 SET NAMES utf8mb4 */;
/*!40103 SET @OLD_TIME_ZONE=@@TIME_ZONE */;
/*!40103 SET TIME_ZONE='+00:00' */;
/*!40101 SET @OLD_SQL_MODE=@@SQL_MODE, SQL_MODE='NO_AUTO_VALUE_ON_ZERO' */;

`;
const EPILOGUE = `/*!40103 SET TIME_ZONE=@OLD_TIME_ZONE */;

/*!40101 SET SQL_MODE=@OLD_SQL_MODE */;

-- Dump completed on 2024-01-01  0:00:00
`;
function section(table: string, rows: (string | Buffer)[], locks = true): Buffer {
  const parts: (string | Buffer)[] = [`--
-- Table structure for table \`${table}\`
--

DROP TABLE IF EXISTS \`${table}\`;
CREATE TABLE \`${table}\` (
  \`id\` int(11) NOT NULL,
  \`s\` blob
);

--
-- Dumping data for table \`${table}\`
--

`, locks ? `LOCK TABLES \`${table}\` WRITE;\n` : '', `/*!40000 ALTER TABLE \`${table}\` DISABLE KEYS */;\n`];
  for (const r of rows) parts.push(r, '\n');
  parts.push(`/*!40000 ALTER TABLE \`${table}\` ENABLE KEYS */;\n`, locks ? 'UNLOCK TABLES;\n' : '', '\n');
  return Buffer.concat(parts.map((p) => (typeof p === 'string' ? Buffer.from(p) : p)));
}
const dump = (...sections: Buffer[]) => Buffer.concat([Buffer.from(PROLOGUE), ...sections, Buffer.from(EPILOGUE)]);
/** The table's section of a script: from its structure comment to the epilogue. */
const body = (script: Buffer) => {
  const s = script.toString('latin1');
  return s.slice(s.indexOf('-- Table structure'), s.indexOf('\n/*!40103 SET TIME_ZONE=@OLD_TIME_ZONE */;'));
};

/**
 * A section as the script loads it: its statements name the staging table `<table>__edx_new`,
 * swapped in once the section is whole (docs/decisions.md §8); everything else as in the dump.
 */
const staged = (text: string, table: string) =>
  text.replace(new RegExp(`^((?:DROP TABLE IF EXISTS|CREATE TABLE|LOCK TABLES|INSERT INTO|/\\*!40000 ALTER TABLE) )\`${table}\``, 'gm'), `$1\`${table}__edx_new\``);

const BINARY_ROW = Buffer.concat([Buffer.from("INSERT INTO `odd` VALUES (1,'"), Buffer.from([0xff, 0xfe, 0x80, 0xc3, 0x28, 0x5c, 0x30]), Buffer.from("');")]);
const LONG_ROW = `INSERT INTO \`long\` VALUES (1,'${'-- Table structure for table `x`\\n'.repeat(20000)}');`;
const SHOP = dump(
  section('customers', ["INSERT INTO `customers` VALUES (1,'a'),(2,'UNLOCK TABLES;');"]),
  section('odd', [BINARY_ROW]),
  section('long', [LONG_ROW, LONG_ROW]),
  section('empty', []),
  Buffer.from('--\n-- Temporary table structure for view `v`\n--\n\nCREATE TABLE `v` (`id` int);\n\n'),
  section('orders', ["INSERT INTO `orders` VALUES (7,'x');"]),
);
const shopFile = join(dir, 'shop.sql');
writeFileSync(shopFile, SHOP);
const shopGzip = join(dir, 'shop-dump.bin'); // gzip, but not named so
writeFileSync(shopGzip, gzipSync(SHOP));

t.test('--help, usage errors', async (t) => {
  const help = await runTool(TOOL, ['--help']);
  t.equal(help.code, 0);
  t.match(help.stdout, /^Usage: edx-extract-table /);
  t.equal(help.stderr, '');
  for (const args of [[], [shopFile, 'customers', 'extra'], ['--bogus', shopFile, 'customers'], ['--list', shopFile, 'customers'], ['--database', '', shopFile, 'x'], [shopFile, '']]) {
    const r = await runTool(TOOL, args);
    t.equal(r.code, 2, `usage error: ${JSON.stringify(args)}`);
    t.equal(r.stdout, '', 'nothing on stdout');
    t.match(r.stderr, /^edx-extract-table: .+\nTry 'edx-extract-table --help' for more information\.\n$/, 'the reason in one line, then where the help is');
  }
});

t.test('the table, with its data and nothing of the others; prologue and epilogue', async (t) => {
  const r = await extract([shopFile, 'customers']);
  t.equal(r.code, 0, r.stderr);
  t.equal(r.stderr, '');
  const s = r.stdout.toString();
  t.match(s, /^-- edx-extract-table: table `customers` of .*shop\.sql\n/);
  for (const set of ['SET NAMES utf8mb4', "SET TIME_ZONE='+00:00'", 'UNIQUE_CHECKS=0', 'FOREIGN_KEY_CHECKS=0', "SQL_MODE='NO_AUTO_VALUE_ON_ZERO'", 'SQL_NOTES=0']) {
    t.ok(s.indexOf(set) < s.indexOf('-- Table structure'), `prologue: ${set}`);
  }
  t.equal(body(r.stdout), staged(section('customers', ["INSERT INTO `customers` VALUES (1,'a'),(2,'UNLOCK TABLES;');"]).toString().replace(/\n$/, '').replace(/^--\n/, ''), 'customers'),
    'the section as it is in the dump (loaded aside), through UNLOCK TABLES (not the one inside the data)');
  t.match(s, /UNLOCK TABLES;\n\n\/\*!40103 SET TIME_ZONE=@OLD_TIME_ZONE \*\/;\n\/\*!40101 SET SQL_MODE=@OLD_SQL_MODE \*\/;\n[^]*SET SQL_NOTES=@OLD_SQL_NOTES \*\/;\n$/, 'the epilogue restores the session');
  t.notMatch(s, /odd|orders|Dump completed/);
});

t.test('bytes that are not UTF-8, and lines longer than any buffer, come out as they went in', async (t) => {
  const odd = await extract([shopFile, 'odd']);
  t.equal(odd.code, 0, odd.stderr);
  const oddRow = Buffer.concat([Buffer.from('INSERT INTO `odd__edx_new`'), BINARY_ROW.subarray('INSERT INTO `odd`'.length), Buffer.from('\n')]);
  t.ok(odd.stdout.includes(oddRow), 'the row, byte for byte (into the staging table)');
  const long = await extract([shopGzip, 'long']);
  t.equal(long.code, 0, long.stderr);
  t.equal(body(long.stdout), staged(body(Buffer.concat([Buffer.from('x\n'), section('long', [LONG_ROW, LONG_ROW]), Buffer.from(EPILOGUE)])), 'long'),
    'long rows that look like section comments inside are data');
});

t.test('gzip recognised by content, stdin, and stdin gzip', async (t) => {
  const plain = await extract([shopFile, 'orders']);
  t.equal(plain.code, 0);
  const expected = body(plain.stdout);
  t.match(expected, /INSERT INTO `orders__edx_new` VALUES \(7,'x'\);\n.*\nUNLOCK TABLES;\n$/);
  const gz = await extract([shopGzip, 'orders']);
  t.equal(gz.code, 0, gz.stderr);
  t.equal(body(gz.stdout), expected, 'a gzip file not named .gz');
  const stdin = await extract(['orders'], SHOP);
  t.equal(stdin.code, 0, stdin.stderr);
  t.equal(body(stdin.stdout), expected, 'stdin, no DUMP argument');
  t.match(stdin.stdout.toString(), /^-- edx-extract-table: table `orders` of stdin\n/);
  const dash = await extract(['-', 'orders'], gzipSync(SHOP));
  t.equal(dash.code, 0, dash.stderr);
  t.equal(body(dash.stdout), expected, "gzip on stdin, '-'");
});

t.test('a table that is not there: nothing on stdout, a message, exit 1', async (t) => {
  for (const [name, why] of [['nope', /table `nope` is not in .*shop\.sql/], ['Customers', /table `Customers` is not in/], ['v', /`v` is a view in .*, not a table/]] as const) {
    const r = await extract([shopFile, name]);
    t.equal(r.code, 1, name);
    t.equal(r.stdout.length, 0, 'empty stdout');
    t.match(r.stderr, why);
  }
  const notDump = await extract(['x'], 'hello\nworld\n');
  t.equal(notDump.code, 1);
  t.match(notDump.stderr, /no '-- Table structure for table' comments in stdin/);
  const missing = await extract([join(dir, 'none.sql'), 'x']);
  t.equal(missing.code, 1);
  t.match(missing.stderr, /none\.sql: no such file/);
});

t.test('--list', async (t) => {
  const r = await extract(['--list', shopGzip]);
  t.equal(r.code, 0, r.stderr);
  t.equal(r.stdout.toString(), 'customers\nodd\nlong\nempty\norders\n', 'tables, not views, each once');
  // Issue 14 item 11: a file that is no dump is not an empty dump.
  const notDump = await extract(['--list'], Buffer.from('{"username": "a", "event_type": "page_close"}\n'));
  t.equal(notDump.code, 1, '--list of a tracking log fails');
  t.match(notDump.stderr, /no '-- Table structure for table' comments in stdin/);
  t.equal(notDump.stdout.toString(), '');
  const noDb = await extract(['--list', '--database', 'nope', shopGzip]);
  t.equal(noDb.code, 1, '--list of a database the dump does not hold fails');
});

t.test('without LOCK TABLES the section ends where the next begins', async (t) => {
  const noLocks = dump(section('a', ["INSERT INTO `a` VALUES (1,'x');"], false), section('b', ["INSERT INTO `b` VALUES (2,'y');"], false));
  const a = await extract(['a'], noLocks);
  t.equal(a.code, 0, a.stderr);
  t.equal(body(a.stdout), staged(section('a', ["INSERT INTO `a` VALUES (1,'x');"], false).toString().replace(/^--\n/, '').replace(/\n$/, ''), 'a'), 'up to the next table, without its framing comment lines');
  const b = await extract(['b'], noLocks);
  t.equal(b.code, 0, b.stderr);
  t.notMatch(b.stdout.toString(), /Dump completed|SET TIME_ZONE=@OLD_TIME_ZONE \*\/;\n\n/, 'the last table stops at the dump epilogue');
  t.equal((b.stdout.toString().match(/SET TIME_ZONE=@OLD_TIME_ZONE/g) ?? []).length, 1, 'the epilogue once');
});

t.test('CRLF lines, a last line without newline, a truncated dump', async (t) => {
  const crlf = Buffer.from(SHOP.toString('latin1').replace(/\n/g, '\r\n'), 'latin1');
  const r = await extract(['orders'], crlf);
  t.equal(r.code, 0, r.stderr);
  t.match(r.stdout.toString(), /-- Table structure for table `orders`\r\n[^]*UNLOCK TABLES;\r\n\n\/\*!40103/, 'found, and its bytes kept');
  const cut = SHOP.subarray(0, SHOP.indexOf("INSERT INTO `orders`") + 21);
  const truncated = await extract(['orders'], cut);
  t.equal(truncated.code, 1);
  t.match(truncated.stderr, /stdin ends inside the section of table `orders`: the dump is truncated/);
  t.match(truncated.stdout.toString(), /INSERT INTO `orders__edx_new` \n\n\/\*!40103 SET TIME_ZONE/, 'the partial line (loaded aside), then a newline before the epilogue');
  t.notMatch(truncated.stdout.toString(), /RENAME TABLE/, 'and nothing that would replace the table');
  const gzCut = gzipSync(SHOP).subarray(0, 200);
  const badGzip = await extract(['orders'], gzCut);
  t.equal(badGzip.code, 1);
  t.match(badGzip.stderr, /not a valid gzip stream/);
});

t.test("the dump's own character set and time zone; a dump made with --no-create-info", async (t) => {
  const latin1 = Buffer.concat([
    Buffer.from(PROLOGUE.replace('SET NAMES utf8mb4', 'SET NAMES latin1').replace("/*!40103 SET TIME_ZONE='+00:00' */;\n", '')),
    section('t', [Buffer.from("INSERT INTO `t` VALUES (1,'caf\xe9');", 'latin1')]),
    Buffer.from(EPILOGUE),
  ]);
  const r = await extract(['t'], latin1);
  t.equal(r.code, 0, r.stderr);
  const s = r.stdout.toString('latin1');
  t.match(s, /SET NAMES latin1 \*\/;/, 'the rows are in latin1: loaded as latin1');
  t.notMatch(s, /SET TIME_ZONE='\+00:00'/, 'dumped with --skip-tz-utc: TIMESTAMPs are in the session time zone, left as it is');
  t.match(s, /SET @OLD_TIME_ZONE=@@TIME_ZONE[^]*SET TIME_ZONE=@OLD_TIME_ZONE/, 'saved and restored all the same');
  t.ok(r.stdout.includes(Buffer.from("(1,'caf\xe9');\n", 'latin1')));

  const dataOnly = Buffer.from(SHOP.toString('latin1').replace(/--\n-- Table structure for table `\w+`\n--\n\nDROP TABLE[^]*?\n\n(?=--\n-- Dumping data)/g, ''), 'latin1');
  t.notMatch(dataOnly.toString(), /^-- Table structure/m, 'the test dump has no structure sections');
  const d = await extract(['customers'], dataOnly);
  t.equal(d.code, 0, d.stderr);
  t.match(d.stdout.toString(), /\n--\n-- Dumping data for table `customers`\n--\n\nLOCK TABLES[^]*\nUNLOCK TABLES;\n\n\/\*!40103/);
  t.equal((await extract(['--list'], dataOnly)).stdout.toString(), 'customers\nodd\nlong\nempty\norders\n');
});

t.test('several databases: --database, and the first table of the name without it', async (t) => {
  const multi = Buffer.concat([
    Buffer.from(PROLOGUE.replace('Database: shop', 'Database: one')),
    Buffer.from('--\n-- Current Database: `one`\n--\n\nUSE `one`;\n\n'), section('t', ["INSERT INTO `t` VALUES (1,'one');"], false),
    Buffer.from('--\n-- Current Database: `two`\n--\n\nUSE `two`;\n\n'), section('t', ["INSERT INTO `t` VALUES (2,'two');"], false),
    Buffer.from(EPILOGUE),
  ]);
  const first = await extract(['t'], multi);
  t.equal(first.code, 0);
  t.match(first.stdout.toString(), /'one'/);
  t.notMatch(first.stdout.toString(), /'two'|USE|Current Database/, 'ends at the next database');
  const two = await extract(['--database', 'two', 't'], multi);
  t.equal(two.code, 0);
  t.match(two.stdout.toString(), /'two'/);
  t.notMatch(two.stdout.toString(), /'one'/);
  const three = await extract(['--database', 'three', 't'], multi);
  t.equal(three.code, 1);
  t.match(three.stderr, /database `three` is not in stdin/);
  t.equal((await extract(['--list', '--database', 'two'], multi)).stdout.toString(), 't\n');
});

t.test('the reader going away (| head) ends it quietly, before the dump is read', async (t) => {
  const rows = Array.from({ length: 4000 }, (_, i) => `INSERT INTO \`big\` VALUES (${i},'${'x'.repeat(5000)}');`);
  const big = join(dir, 'big.sql');
  writeFileSync(big, dump(section('big', rows)));
  const r = await run('/bin/bash', ['-c', `set -o pipefail; '${join(REPO, 'bin', TOOL)}' '${big}' big | head -c 100 >/dev/null`]);
  t.equal(r.code, 0, 'exit 0');
  t.equal(r.stderr, '', 'no message, no stack');
});

// ---------------------------------------------------------------------------------------------
// The real thing: mariadb-dump → edx-extract-table → mariadb.

let server: TestServer | undefined;
let serverSkip: string | false = false;
if (!MARIADB_DUMP || !MARIADB) serverSkip = 'mariadb-dump or the mariadb client is not installed';
else {
  try {
    server = await testServer();
  } catch (e) {
    serverSkip = `no MariaDB/MySQL server: ${(e as Error).message}`;
  }
}

/** Arguments that reach the test server, whatever the developer's option files say. */
const clientArgs = (s: TestServer) => ['--no-defaults', '-h', s.host, '-P', String(s.port), '-u', s.user];
const clientEnv = (s: TestServer) => ({ ...toolEnv(), ...(s.password ? { MYSQL_PWD: s.password } : {}) });
const mariadb = (s: TestServer, args: string[], input: Buffer | string) =>
  run(MARIADB!, [...clientArgs(s), '--batch', '--skip-column-names', ...args], input, clientEnv(s));

t.test('a real dump, loaded back: exactly that table, the same rows, the session restored', { skip: serverSkip }, async (t) => {
  const s = server!;
  const src = uniqueName('xt_src');
  const dst = uniqueName('xt_dst');
  t.teardown(async () => {
    const c = await testConnection();
    await c.query(`DROP DATABASE IF EXISTS ${src}; DROP DATABASE IF EXISTS ${dst}`);
    await c.end();
  });
  const c = await testConnection();
  t.teardown(() => c.end());
  await c.query(`CREATE DATABASE ${src} CHARACTER SET utf8mb4`);
  await c.query(`USE ${src}`);
  await c.query(`CREATE TABLE events (id INT PRIMARY KEY, txt MEDIUMTEXT, bin BLOB, ts TIMESTAMP NULL) CHARACTER SET utf8mb4`);
  await c.query(`CREATE TABLE empty (id INT) CHARACTER SET utf8mb4`);
  await c.query(`CREATE TABLE other (id INT, name VARCHAR(20)) CHARACTER SET utf8mb4`);
  await c.query(`CREATE VIEW v AS SELECT id, txt FROM events`);
  await c.query(`CREATE TRIGGER events_bi BEFORE INSERT ON events FOR EACH ROW SET NEW.txt = NEW.txt`);
  await c.query(`INSERT INTO other VALUES (1, 'not me')`);
  const allBytes = Buffer.from(Array.from({ length: 256 }, (_, i) => i));
  const texts = [
    `it's "quoted"`, 'back\\slash \\n not a newline', 'new\nline\r\nand tab\t', 'nul\0byte', 'emoji 😀 and ünïcödé',
    'UNLOCK TABLES;', '\n-- Table structure for table `other`\n--\nUNLOCK TABLES;\n', 'x'.repeat(300000), '', null,
  ];
  for (const [i, txt] of texts.entries()) {
    await c.query('INSERT INTO events VALUES (?, ?, ?, FROM_UNIXTIME(?))', [i, txt, i % 2 ? allBytes : Buffer.from(txt ?? ''), 1370736000 + i * 3600]);
  }
  // Enough rows for several INSERT statements (net_buffer_length).
  for (let i = 100; i < 1100; i += 100) {
    await c.query('INSERT INTO events VALUES ' + Array.from({ length: 100 }, (_, k) => `(${i + k}, REPEAT('r', 2000), NULL, NULL)`).join(','));
  }
  await c.query(`CREATE DATABASE ${dst} CHARACTER SET utf8mb4`);
  const snapshot = async (db: string) => {
    const [rows] = await c.query(`SELECT id, HEX(txt) AS txt, HEX(bin) AS bin, UNIX_TIMESTAMP(ts) AS ts FROM ${db}.events ORDER BY id`);
    return rows;
  };
  const expected = await snapshot(src);
  const tables = async (db: string) => {
    const [rows] = await c.query(`SELECT table_name AS name FROM information_schema.tables WHERE table_schema = ? ORDER BY 1`, [db]);
    return (rows as { name: string }[]).map((r) => r.name);
  };
  const triggers = async (db: string) => {
    const [rows] = await c.query(`SELECT COUNT(*) AS n FROM information_schema.triggers WHERE trigger_schema = ?`, [db]);
    return Number((rows as { n: number }[])[0].n);
  };

  const dumpWith = async (name: string, options: string[]) => {
    const d = await run(MARIADB_DUMP!, [...clientArgs(s), ...options, src], undefined, clientEnv(s));
    t.equal(d.code, 0, `mariadb-dump ${options.join(' ')}: ${d.stderr}`);
    writeFileSync(join(dir, name), d.stdout);
    return join(dir, name);
  };
  const plain = await dumpWith('real.sql', []);
  const noLocks = await dumpWith('real-nolocks.sql', ['--skip-add-locks']);
  const zipped = join(dir, 'real-dump'); // gzip without .gz
  writeFileSync(zipped, gzipSync(await run('/bin/cat', [plain]).then((r) => r.stdout)));

  const SESSION = 'SELECT @@time_zone, @@sql_mode, @@unique_checks, @@foreign_key_checks, @@sql_notes, @@character_set_client, @@collation_connection;';
  const before = (await mariadb(s, [dst], `SET time_zone = '+05:00'; ${SESSION}`)).stdout.toString();

  for (const [label, file] of [['default options', plain], ['--skip-add-locks', noLocks], ['gzip, no .gz name', zipped]] as const) {
    await t.test(label, async (t) => {
      await c.query(`DROP DATABASE ${dst}; CREATE DATABASE ${dst} CHARACTER SET utf8mb4`);
      const script = await extract([file, 'events']);
      t.equal(script.code, 0, script.stderr);
      t.equal(script.stderr, '');
      const load = await mariadb(s, [dst], Buffer.concat([Buffer.from("SET time_zone = '+05:00';\n"), script.stdout, Buffer.from(SESSION)]));
      t.equal(load.code, 0, `loads without errors: ${load.stderr}`);
      t.equal(load.stdout.toString(), before, 'time zone, SQL mode, checks, notes and character set are as before the script');
      t.same(await tables(dst), ['events'], 'only that table arrived (not the empty one, the other one or the view)');
      t.same(await snapshot(dst), expected, 'the same rows, byte for byte, same instants');
      t.equal(await triggers(dst), 0, 'triggers are not part of it');
    });
  }

  await t.test('the empty table', async (t) => {
    await c.query(`DROP DATABASE ${dst}; CREATE DATABASE ${dst} CHARACTER SET utf8mb4`);
    for (const file of [plain, noLocks]) {
      const script = await extract([file, 'empty']);
      t.equal(script.code, 0, script.stderr);
      const load = await mariadb(s, [dst], script.stdout);
      t.equal(load.code, 0, load.stderr);
      t.same(await tables(dst), ['empty']);
    }
    const [rows] = await c.query(`SELECT COUNT(*) AS n FROM ${dst}.empty`);
    t.same(rows, [{ n: 0 }]);
  });

  await t.test('--list and a view', async (t) => {
    const list = await extract(['--list', zipped]);
    t.equal(list.stdout.toString(), 'empty\nevents\nother\n');
    const view = await extract([plain, 'v']);
    t.equal(view.code, 1);
    t.equal(view.stdout.length, 0);
    t.match(view.stderr, /`v` is a view/);
  });
});
