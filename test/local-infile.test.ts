// LOAD DATA LOCAL is ours alone (issue 15 item 6): a server may answer any statement with a request
// for a local file of its choosing. A fake MySQL-protocol server here answers every query with a
// request for /etc/passwd; the tools and the connection of src/mysql/ must send none of its bytes
// (nor any other file), and fail with a clear message.
import t from 'tap';
import { createServer, type Socket } from 'node:net';
import { readFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { connect, offeredFile } from '../src/mysql/connection.js';
import { runTool, EXAMPLE_LOG } from './helpers/tools.js';

const WANTED = '/etc/passwd';
const PASSWD = readFileSync(WANTED);
const passwdLine = PASSWD.toString().split('\n')[0];

/** A packet: 3-byte length, sequence id, payload. */
const packet = (seq: number, payload: Buffer) => {
  const head = Buffer.alloc(4);
  head.writeUIntLE(payload.length, 0, 3);
  head[3] = seq;
  return Buffer.concat([head, payload]);
};
const OK = Buffer.from([0x00, 0x00, 0x00, 0x02, 0x00, 0x00, 0x00]);

/**
 * The fake server: a version-10 handshake, OK to any login, and to every COM_QUERY a LOCAL INFILE
 * request for /etc/passwd; what the client sends back is kept, and the request then answered OK.
 */
async function fakeServer(t: { teardown(fn: () => Promise<void>): void }) {
  const received: Buffer[] = [];
  const state = { requests: 0, emptyReplies: 0, fileBytes: 0 };
  const sockets = new Set<Socket>();
  const server = createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => {});
    const caps = 0x0001 | 0x0004 | 0x0008 | 0x0080 | 0x0200 | 0x2000 | 0x8000 | 0x10000 | 0x20000 | 0x80000;
    const scramble = Buffer.alloc(20, 0x41);
    const u16 = (n: number) => Buffer.from([n & 0xff, (n >> 8) & 0xff]);
    socket.write(packet(0, Buffer.concat([
      Buffer.from([10]), Buffer.from('5.7.99-fake\0'), Buffer.from([1, 0, 0, 0]), scramble.subarray(0, 8), Buffer.from([0]),
      u16(caps & 0xffff), Buffer.from([45]), u16(2), u16(caps >>> 16), Buffer.from([21]), Buffer.alloc(10),
      scramble.subarray(8), Buffer.from([0]), Buffer.from('mysql_native_password\0'),
    ])));
    let buf = Buffer.alloc(0);
    let phase: 'login' | 'command' | 'file' = 'login';
    socket.on('data', (data: Buffer) => {
      received.push(data);
      buf = Buffer.concat([buf, data]);
      while (buf.length >= 4) {
        const len = buf.readUIntLE(0, 3);
        if (buf.length < 4 + len) break;
        const seq = buf[3];
        const payload = buf.subarray(4, 4 + len);
        buf = buf.subarray(4 + len);
        if (phase === 'login') {
          socket.write(packet(seq + 1, OK));
          phase = 'command';
        } else if (phase === 'file') {
          if (len === 0) {
            state.emptyReplies++;
            socket.write(packet(seq + 1, OK));
            phase = 'command';
          } else state.fileBytes += len;
        } else if (payload[0] === 0x03 && payload.subarray(1).toString().startsWith('SET SESSION sql_mode')) {
          // The session setting every connection of ours makes first: answered, so that the
          // request comes with the statement under test.
          socket.write(packet(seq + 1, OK));
        } else if (payload[0] === 0x03) {
          state.requests++;
          socket.write(packet(seq + 1, Buffer.concat([Buffer.from([0xfb]), Buffer.from(WANTED)])));
          phase = 'file';
        } else if (payload[0] === 0x01) socket.end();
        else socket.write(packet(seq + 1, OK));
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.teardown(() => new Promise<void>((resolve) => {
    for (const s of sockets) s.destroy();
    server.close(() => resolve());
  }));
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  const sent = () => Buffer.concat(received);
  return { port, state, sent };
}

const settings = (port: number) => ({ host: '127.0.0.1', port, user: 'root', source: 'test' });

t.test('a query answered with a file request: nothing is read, the query fails', async (t) => {
  const fake = await fakeServer(t);
  const conn = await connect(settings(fake.port), { flags: ['+LOCAL_FILES'] });
  await t.rejects(conn.query('SELECT 1'), /the server asked for the local file "\/etc\/passwd", which this client did not offer: refused/);
  await conn.end();
  t.equal(fake.state.requests, 1);
  t.equal(fake.state.emptyReplies, 1, 'the client answered with an empty file');
  t.equal(fake.state.fileBytes, 0, 'and no byte of any file');
  t.notOk(fake.sent().includes(passwdLine), 'nothing of /etc/passwd went out');
});

t.test('our LOAD DATA LOCAL offers only its own file', async (t) => {
  const fake = await fakeServer(t);
  const conn = await connect(settings(fake.port), { flags: ['+LOCAL_FILES'] });
  let opened = 0;
  const mine = offeredFile('rows', () => { opened++; return Readable.from([Buffer.from('ours\n')]); });
  await t.rejects(conn.query({ sql: "LOAD DATA LOCAL INFILE 'rows' INTO TABLE x", infileStreamFactory: mine }), /"\/etc\/passwd", which this client did not offer/);
  await conn.end();
  t.equal(opened, 0, 'a request for another name does not even open our file');
  t.equal(fake.state.fileBytes, 0);
  t.notOk(fake.sent().includes(passwdLine));
  t.equal(await new Promise((resolve) => mine('rows').on('data', (d: Buffer) => resolve(String(d)))), 'ours\n', 'the name it offered is served');
});

t.test('the tools against a server that asks for /etc/passwd', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'edx-local-infile-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  // A real collection, so that edx-csvload gets as far as its loads if the server lets it.
  const csv = join(dir, 'csv');
  const made = await runTool('edx-json2sql', ['--csv', csv, EXAMPLE_LOG]);
  t.equal(made.code, 0, made.stderr);
  writeFileSync(join(dir, 'empty.cnf'), '');
  const cases: [string, string[]][] = [
    ['edx-csvload', [csv]],
    ['edx-refresh', ['--dry-run', '--edxprod-db', 'edx_no_such_db', 'usergrade']],
    ['edx-s3-ls', ['--bucket', 'b', '--new', '--db']],
  ];
  for (const [tool, args] of cases) {
    const fake = await fakeServer(t);
    const r = await runTool(tool, ['--defaults-file', join(dir, 'empty.cnf'), ...args], {
      env: { ...process.env, MYSQL_HOST: '127.0.0.1', MYSQL_TCP_PORT: String(fake.port), MYSQL_USER: 'root', MYSQL_PWD: '',
        AWS_ACCESS_KEY_ID: 'x', AWS_SECRET_ACCESS_KEY: 'x', AWS_REGION: 'us-east-1' },
    });
    t.equal(r.code, 1, `${tool}: fails`);
    t.match(r.stderr, /the server asked for the local file "\/etc\/passwd", which this client did not offer: refused/, `${tool}: says why`);
    t.notMatch(r.stderr, /\n\s+at .*:\d+:\d+/, `${tool}: no stack trace`);
    t.ok(fake.state.requests >= 1, `${tool}: the server asked`);
    t.equal(fake.state.fileBytes, 0, `${tool}: no byte of any file was sent`);
    t.notOk(fake.sent().includes(passwdLine), `${tool}: nothing of /etc/passwd went out`);
  }
});
