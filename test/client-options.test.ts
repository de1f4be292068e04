// The mysql client's conventions in the tools that talk to the database (docs/connection.md), done
// as a user does them: option files (named, usual, included, their groups), the command line over
// the files over MYSQL_*, -h as the host, a password asked on a terminal and refused on the command
// line, and TLS settings reaching a MariaDB started here with a certificate of our own CA.
import t from 'tap';
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mysql from 'mysql2/promise';
import { freePort, testConnection, testServer, uniqueName } from './helpers/mariadb.js';
import { REPO, EXAMPLE_LOG, runShell, runTool, shellQuote as q, spawnTool, toolEnv } from './helpers/tools.js';
import { tempDir } from './helpers/tmp.js';
import { connect, connectionSettings } from '../src/mysql/connection.js';

const dir = tempDir('client-options');
const server = await testServer();
const user = uniqueName('edxc');
const password = `pw-${uniqueName('x')}`;
const prod = uniqueName('edxc_prod');

/** A file of `text` in the test's folder (0600, as option files with passwords are). */
function file(name: string, text: string): string {
  const p = join(dir, name);
  writeFileSync(p, text, { mode: 0o600 });
  return p;
}

/** An environment with nothing of the test server's MYSQL_* (each test says its own). */
function bareEnv(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const env = toolEnv(server.env);
  for (const k of Object.keys(env)) if (k.startsWith('MYSQL_') || k === 'EDX_PIPES_MY_CNF') delete env[k];
  return { ...env, ...extra };
}

/** edx-ext2anon asked for the one id Lti2Anon knows: stdout, when it reached the server as `user`. */
const EXPECTED = 'ext_id,anon_screen_name\next-1,anon-1\n';
const ext2anon = (args: string[], env: NodeJS.ProcessEnv, db = prod) =>
  runTool('edx-ext2anon', ['--quiet', '--edxprod-db', db, ...args], { input: 'ext-1\n', env });

/** The one line a tool says, when it says one line. */
const oneLine = (stderr: string) => stderr.split('\n').filter(Boolean);

t.before(async () => {
  const c = await testConnection();
  await c.query(`CREATE DATABASE ${prod}; CREATE TABLE ${prod}.Lti2Anon (lti_id VARCHAR(64), anon_screen_name VARCHAR(64));
    INSERT INTO ${prod}.Lti2Anon VALUES ('ext-1', 'anon-1')`);
  await c.query(`CREATE USER '${user}'@'%' IDENTIFIED BY '${password}'; GRANT ALL PRIVILEGES ON *.* TO '${user}'@'%'`);
  await c.end();
});
t.teardown(async () => {
  const c = await testConnection();
  await c.query(`DROP DATABASE IF EXISTS ${prod}; DROP USER IF EXISTS '${user}'@'%'`);
  await c.end();
});

const right = () => `host=127.0.0.1\nport=${server.port}\nuser=${user}\npassword=${password}\n`;

t.test('an option file: its groups, includes and escapes, and edx-csvload loading through it', async (t) => {
  const edx = uniqueName('edxc_e');
  const priv = uniqueName('edxc_p');
  t.teardown(async () => {
    const c = await testConnection();
    await c.query(`DROP DATABASE IF EXISTS ${edx}; DROP DATABASE IF EXISTS ${priv}`);
    await c.end();
  });
  mkdirSync(join(dir, 'conf.d'));
  file('conf.d/10-user.cnf', `[client-mariadb]\nuser = ${user}   # a comment\n[mysqld]\nuser=mysql\n`);
  file('conf.d/20-secret.cnf', `[mysql]\npassword = "${password}"\n`);
  file('conf.d/ignored.txt', '[client]\nport=1\n');
  file('port.inc', `[edx-pipes]\nloose-port=${server.port}\n`);
  const cnf = file('warehouse.cnf', `# the warehouse\n[client-server]\nhost=127.0.0.1\nport=1\n!includedir conf.d\n!include port.inc\n`);
  const env = bareEnv();
  const dbArgs = ['--edx-db', edx, '--private-db', priv];
  const init = await runTool('edx-csvload', ['--defaults-file', cnf, '--init', '--quiet', ...dbArgs], { env });
  t.equal(init.code, 0, init.stderr);
  const load = await runShell(`${q(join(REPO, 'bin/edx-json2sql'))} --quiet ${q(EXAMPLE_LOG)} --rows | ` +
    `${q(join(REPO, 'bin/edx-csvload'))} --defaults-file ${q(cnf)} ${dbArgs.map(q).join(' ')}`, { env });
  t.equal(load.code, 0, load.stderr);
  t.match(load.stderr, /1 loaded, 0 skipped, 0 failed/);
  const c = await testConnection();
  const [rows] = await c.query(`SELECT COUNT(*) AS n FROM ${edx}.EdxTrackEvent`);
  await c.end();
  t.ok((rows as { n: number }[])[0].n > 0, 'the events are in the warehouse');
});

t.test('the command line over the option files over the environment, as the mariadb client', async (t) => {
  const good = file('good.cnf', `[client]\n${right()}`);
  const wrongPort = file('wrong-port.cnf', `[client]\nhost=127.0.0.1\nport=1\nuser=${user}\npassword=${password}\n`);
  // The environment is wrong in every setting: the file's win.
  const wrongEnv = bareEnv({ MYSQL_HOST: '127.0.0.9', MYSQL_TCP_PORT: '1', MYSQL_USER: 'nobody', MYSQL_PWD: 'wrong' });

  const fileOverEnv = await ext2anon(['--defaults-file', good], wrongEnv);
  t.equal(fileOverEnv.stdout, EXPECTED, `file over environment: ${fileOverEnv.stderr}`);
  t.equal(fileOverEnv.code, 0);
  const named = await ext2anon([], { ...wrongEnv, EDX_PIPES_MY_CNF: good });
  t.equal(named.stdout, EXPECTED, `$EDX_PIPES_MY_CNF over the environment: ${named.stderr}`);

  const cmdOverFile = await ext2anon(['--defaults-file', wrongPort, '-P', String(server.port)], wrongEnv);
  t.equal(cmdOverFile.stdout, EXPECTED, `-P over the file: ${cmdOverFile.stderr}`);
  const cmdWrong = await ext2anon(['--defaults-file', good, '--port=1'], wrongEnv);
  t.equal(cmdWrong.code, 1, 'a wrong port on the command line beats a right one in the file');
  t.match(oneLine(cmdWrong.stderr), [new RegExp(`^edx-ext2anon: cannot connect to ${user}@127\\.0\\.0\\.1:1 \\(from command line, .*good\\.cnf\\): `)]);

  const envOnly = await ext2anon([], bareEnv({ MYSQL_HOST: '127.0.0.1', MYSQL_TCP_PORT: String(server.port), MYSQL_USER: user, MYSQL_PWD: password }));
  t.equal(envOnly.stdout, EXPECTED, `the environment when nothing else says: ${envOnly.stderr}`);

  // -h is the host (and -u the user): with the password from the environment.
  const short = await ext2anon(['-h', '127.0.0.1', `-P${server.port}`, '-u', user, '--protocol', 'TCP'], bareEnv({ MYSQL_PWD: password }));
  t.equal(short.stdout, EXPECTED, `-h -P -u: ${short.stderr}`);

  // The mariadb client in the same shell reaches the same server (it did not, when the environment won).
  const mariadb = ['/usr/bin/mariadb', '/usr/bin/mysql'].find((p) => existsSync(p));
  if (mariadb) {
    const who = execFileSync(mariadb, [`--defaults-file=${good}`, '-N', '-e', 'SELECT CURRENT_USER()'], { env: wrongEnv, encoding: 'utf8' });
    t.match(who, new RegExp(`^${user}@`), 'mariadb takes the file over the same environment');
  }

  // --no-defaults: no file, not even $EDX_PIPES_MY_CNF: the (wrong) environment it is.
  const none = await ext2anon(['--no-defaults'], { ...wrongEnv, EDX_PIPES_MY_CNF: good });
  t.equal(none.code, 1);
  t.match(none.stderr, /cannot connect to nobody@127\.0\.0\.9:1 \(from MYSQL_HOST, MYSQL_TCP_PORT, MYSQL_USER, MYSQL_PWD\): /);

  // --defaults-extra-file: read after the named one.
  const extra = file('extra.cnf', `[edx-pipes]\nport=${server.port}\n`);
  const afterNamed = await ext2anon(['--defaults-file', wrongPort, '--defaults-extra-file', extra], wrongEnv);
  t.equal(afterNamed.stdout, EXPECTED, `--defaults-extra-file after --defaults-file: ${afterNamed.stderr}`);
});

t.test('the usual option files: ~/.my.cnf (unless EDX_PIPES_NO_DEFAULTS, which the tests set)', async (t) => {
  const home = join(dir, 'home');
  mkdirSync(home);
  writeFileSync(join(home, '.my.cnf'), `[client]\n${right()}protocol=tcp\n`, { mode: 0o600 });
  const env = bareEnv({ HOME: home, MYSQL_HOST: '127.0.0.1', MYSQL_TCP_PORT: '1' });
  const read = await ext2anon([], { ...env, EDX_PIPES_NO_DEFAULTS: '0' });
  t.equal(read.stdout, EXPECTED, `~/.my.cnf read: ${read.stderr}`);
  const notRead = await ext2anon([], env);
  t.equal(notRead.code, 1, 'the tests never read the usual files');
});

t.test('a named option file that does not exist is an error naming it', async (t) => {
  for (const [args, extra, named] of [
    [[], { EDX_PIPES_MY_CNF: '/nonexistent' }, '$EDX_PIPES_MY_CNF'],
    [['--defaults-file', '/nonexistent'], {}, '--defaults-file'],
    [['--defaults-extra-file', '/nonexistent'], {}, '--defaults-extra-file'],
  ] as const) {
    const r = await ext2anon([...args], bareEnv(extra));
    t.equal(r.code, 1, `${named}: failure`);
    t.equal(r.stderr, `edx-ext2anon: option file /nonexistent (${named}): no such file\n`, `${named}: one line naming it`);
    t.equal(r.stdout, '', 'nothing done');
  }
  const include = file('includes-missing.cnf', '[client]\n!include /nonexistent.cnf\n');
  const r = await ext2anon(['--defaults-file', include], bareEnv());
  t.equal(r.code, 1);
  t.match(r.stderr, /^edx-ext2anon: option file \/nonexistent\.cnf \(!include in .*includes-missing\.cnf:2\): no such file\n$/);
  const bad = file('bad.cnf', 'host=x\n');
  const b = await ext2anon(['--defaults-file', bad], bareEnv());
  t.equal(b.code, 1);
  t.match(b.stderr, /^edx-ext2anon: .*bad\.cnf:1: an option before any \[group\]\n$/);
});

/** Every tool that talks to the database, with arguments that reach its connection. */
const DB_TOOLS: [tool: string, args: string[]][] = [
  ['edx-csvload', ['--init']],
  ['edx-refresh', ['--dry-run', 'usergrade']],
  ['edx-s3-ls', ['--bucket', 'b', '--new', '--db']],
  ['edx-shard', ['--pending', '--local-root', '.']],
  ['edx-ext2anon', []],
  ['edx-course-extract', ['--dry-run', 'x']],
];

t.test('every database tool: -h is the host, help is --help and -?, a password is never on the command line', async (t) => {
  await Promise.all(DB_TOOLS.map(async ([tool, args]) => {
    const [help, query, h, pw, pwLong, pwGroup] = await Promise.all([
      runTool(tool, ['--help']),
      runTool(tool, ['-?']),
      runTool(tool, ['-h']),
      runTool(tool, [...args, '-pSECRET1']),
      runTool(tool, [...args, '--password=SECRET2']),
      runTool(tool, [...args, '-puroot']),
    ]);
    t.equal(help.code, 0, `${tool} --help`);
    t.match(help.stdout, new RegExp(`^Usage: ${tool} `));
    t.match(help.stdout, /-h, --host HOST/, `${tool}: the connection options in its help`);
    t.match(help.stdout, /-\?, --help/);
    t.equal(query.stdout, help.stdout, `${tool} -? is --help`);
    t.equal(h.code, 2, `${tool} -h: a usage error (it needs a host)`);
    t.match(h.stderr, new RegExp(`^${tool}: -h needs a value\n`));
    for (const [r, form, secret] of [[pw, '-p', 'SECRET1'], [pwLong, '--password', 'SECRET2'], [pwGroup, '-p', 'uroot']] as const) {
      t.equal(r.code, 2, `${tool} ${form}VALUE: usage error`);
      t.match(r.stderr, new RegExp(`^${tool}: ${form} with a value: a password is never taken from the command line`), `${tool}: says why`);
      t.notMatch(r.stderr, secret, `${tool}: the value is not repeated`);
      t.equal(r.stdout, '');
    }
  }));
  // The tools that connect only in some modes refuse connection options in the others.
  const ls = await runTool('edx-s3-ls', ['--bucket', 'b', '-h', 'db']);
  t.equal(ls.code, 2);
  t.match(ls.stderr, /^edx-s3-ls: --host: connection options go with --db\n/);
});

t.test('-p asks on the terminal, without echo; with no terminal it says where a password goes', async (t) => {
  const args = ['--quiet', '--edxprod-db', prod, '-h', '127.0.0.1', '-P', String(server.port), '-u', user, '-p'];
  // No controlling terminal at all (a new session): a usage error, nothing asked.
  const detached = await runTool('setsid', ['-w', join(REPO, 'bin/edx-ext2anon'), ...args], { env: bareEnv(), input: 'ext-1\n' });
  t.equal(detached.code, 2);
  t.match(detached.stderr, /^edx-ext2anon: -p asks for the password on a terminal, and there is none: put it in an option file \(\[client\] password=\.\.\.\) or MYSQL_PWD\n/);

  // On a terminal (script(1) gives the tool one), with the ids piped in on stdin: the prompt goes
  // to the terminal, the password typed there is not echoed, the ids are read from the pipe.
  const command = `printf 'ext-1\\n' | ${q(join(REPO, 'bin/edx-ext2anon'))} ${args.map(q).join(' ')}`;
  const child: ChildProcess = spawnTool('script', ['-qec', command, '/dev/null'], { env: bareEnv() });
  let out = '';
  const prompted = new Promise<void>((resolve) => {
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString('utf8');
      if (out.includes('Enter password: ')) resolve();
    });
  });
  const exited = new Promise<number | null>((resolve) => child.on('close', resolve));
  await Promise.race([prompted, exited]);
  child.stdin!.write(`${password}\r`);
  const code = await exited;
  t.equal(code, 0, out);
  t.match(out, /ext-1,anon-1/, 'connected with the password typed');
  t.notMatch(out, password, 'the password was not echoed');
});

/** A MariaDB of our own with a certificate of our own CA; stopped and removed at the end. */
interface TlsServer {
  port: number;
  ca: string;
  otherCa: string;
  clientCert: string;
  clientKey: string;
}

/** The server program, where Debian and others put it. */
const MARIADBD = ['/usr/sbin/mariadbd', '/usr/sbin/mysqld'].find((p) => existsSync(p));

async function startTlsServer(t: { teardown(fn: () => void | Promise<void>): void }, bin: string): Promise<TlsServer> {
  const base = mkdtempSync(join(tmpdir(), 'edx-pipes-tls-'));
  let server: ChildProcess | undefined;
  t.teardown(async () => {
    if (server && server.exitCode === null && server.signalCode === null) {
      const gone = new Promise((resolve) => server!.on('exit', resolve));
      server.kill('SIGTERM');
      await gone;
    }
    rmSync(base, { recursive: true, force: true });
  });
  const openssl = (...args: string[]) => execFileSync('openssl', args, { cwd: base, stdio: 'pipe' });
  const ca = (name: string) => {
    openssl('req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '2', '-subj', `/CN=${name}`, '-keyout', `${name}.key`, '-out', `${name}.pem`);
    return join(base, `${name}.pem`);
  };
  const signed = (name: string, cn: string, ext: string) => {
    openssl('req', '-newkey', 'rsa:2048', '-nodes', '-subj', `/CN=${cn}`, '-keyout', `${name}.key`, '-out', `${name}.csr`);
    writeFileSync(join(base, `${name}.ext`), ext);
    openssl('x509', '-req', '-in', `${name}.csr`, '-CA', 'ca.pem', '-CAkey', 'ca.key', '-CAcreateserial', '-days', '2',
      '-extfile', `${name}.ext`, '-out', `${name}.pem`);
  };
  const caPem = ca('ca');
  const otherCa = ca('other-ca');
  signed('server', 'localhost', 'subjectAltName=IP:127.0.0.1,DNS:localhost\n');
  signed('client', 'edx-pipes-client', 'extendedKeyUsage=clientAuth\n');
  execFileSync('mariadb-install-db', ['--no-defaults', `--datadir=${join(base, 'data')}`, '--auth-root-authentication-method=normal', '--user=root'], { stdio: 'pipe' });
  const port = await freePort();
  server = spawn(bin, ['--no-defaults', `--datadir=${join(base, 'data')}`, `--port=${port}`, '--bind-address=127.0.0.1',
    `--socket=${join(base, 'sock')}`, `--pid-file=${join(base, 'pid')}`, '--user=root', '--skip-log-bin',
    `--ssl-ca=${caPem}`, `--ssl-cert=${join(base, 'server.pem')}`, `--ssl-key=${join(base, 'server.key')}`], { stdio: 'ignore' });
  // Until it answers (or has died): the event, not a guessed time.
  for (;;) {
    if (server.exitCode !== null) throw new Error(`mariadbd exited with ${server.exitCode}`);
    try {
      const c = await mysql.createConnection({ host: '127.0.0.1', port, user: 'root' });
      await c.end();
      break;
    } catch {
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  }
  return { port, ca: caPem, otherCa, clientCert: join(base, 'client.pem'), clientKey: join(base, 'client.key') };
}

t.test('TLS settings reach the connection (a MariaDB with a certificate of our CA)', { skip: MARIADBD ? false : 'no mariadbd to start' }, async (t) => {
  const s = await startTlsServer(t, MARIADBD!);
  const root = await mysql.createConnection({ host: '127.0.0.1', port: s.port, user: 'root', multipleStatements: true });
  // The anonymous users of a new data directory would take 127.0.0.1 (resolved to localhost) before ours.
  const [anonymous] = await root.query("SELECT Host FROM mysql.user WHERE User = ''");
  for (const { Host } of anonymous as { Host: string }[]) await root.query(`DROP USER ''@'${Host}'`);
  await root.query(`CREATE DATABASE prod; CREATE TABLE prod.Lti2Anon (lti_id VARCHAR(64), anon_screen_name VARCHAR(64));
    INSERT INTO prod.Lti2Anon VALUES ('ext-1', 'anon-1');
    CREATE USER tls@'%' IDENTIFIED BY 'tls-pw' REQUIRE SSL; GRANT SELECT ON prod.* TO tls@'%';
    CREATE USER x509@'%' IDENTIFIED BY 'x509-pw' REQUIRE X509; GRANT SELECT ON prod.* TO x509@'%'`);
  await root.end();
  const at = `host=127.0.0.1\nport=${s.port}\n`;
  const env = bareEnv();
  const run = (cnf: string, args: string[] = []) => ext2anon(['--defaults-file', cnf, ...args], env, 'prod');

  const withCa = file('tls-ca.cnf', `[client]\n${at}user=tls\npassword=tls-pw\nssl-ca=${s.ca}\n`);
  const ok = await run(withCa);
  t.equal(ok.stdout, EXPECTED, `ssl-ca in the option file: connected over TLS (the user requires it): ${ok.stderr}`);
  // The same settings through the tools' connection code: the session is encrypted.
  const conn = await connect(connectionSettings({ defaultsFile: withCa }, { EDX_PIPES_NO_DEFAULTS: '1' }));
  const [status] = await conn.query("SHOW STATUS LIKE 'Ssl_cipher'");
  await conn.end();
  t.match((status as { Value: string }[])[0].Value, /\S/, `Ssl_cipher: ${(status as { Value: string }[])[0].Value}`);

  const plain = await run(file('tls-none.cnf', `[client]\n${at}user=tls\npassword=tls-pw\n`));
  t.equal(plain.code, 1, 'without TLS settings no TLS: the user that requires it is refused');
  t.match(plain.stderr, /Access denied/);

  const wrongCa = await run(file('tls-wrong.cnf', `[client]\n${at}user=tls\npassword=tls-pw\nssl-ca=${s.otherCa}\nssl-verify-server-cert\n`));
  t.equal(wrongCa.code, 1, 'a certificate that does not verify: failure');
  t.match(oneLine(wrongCa.stderr), [new RegExp(`^edx-ext2anon: cannot connect to tls@127\\.0\\.0\\.1:${s.port} with TLS \\(VERIFY_IDENTITY\\) .*: ` +
    `TLS handshake failed: self-signed certificate in certificate chain \\(the server's certificate checked against ssl-ca .*other-ca\\.pem\\)$`)],
  `one line: ${wrongCa.stderr}`);
  t.notMatch(wrongCa.stderr, /\n\s+at /, 'no stack trace');

  const notVerified = await run(file('tls-required.cnf', `[client]\n${at}user=tls\npassword=tls-pw\nssl-ca=${s.otherCa}\nssl-mode=REQUIRED\n`));
  t.equal(notVerified.stdout, EXPECTED, `ssl-mode REQUIRED encrypts without verifying: ${notVerified.stderr}`);

  const identity = await run(file('tls-id.cnf', `[client]\n${at}user=tls\npassword=tls-pw\n`), ['--ssl-ca', s.ca, '--ssl-mode', 'VERIFY_IDENTITY']);
  t.equal(identity.stdout, EXPECTED, `on the command line, VERIFY_IDENTITY against the certificate's 127.0.0.1: ${identity.stderr}`);

  const x509 = await run(file('tls-x509.cnf', `[client]\n${at}user=x509\npassword=x509-pw\nssl-ca=${s.ca}\nssl-cert=${s.clientCert}\nssl-key=${s.clientKey}\n`));
  t.equal(x509.stdout, EXPECTED, `ssl-cert and ssl-key: the user that requires a client certificate: ${x509.stderr}`);
  const noCert = await run(file('tls-nocert.cnf', `[client]\n${at}user=x509\npassword=x509-pw\nssl-ca=${s.ca}\n`));
  t.equal(noCert.code, 1, 'and without them it is refused');
});
