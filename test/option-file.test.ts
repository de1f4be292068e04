// MySQL option files read as the client reads them (src/mysql/option-file.ts), and the settings a
// connection gets from the environment, the files and the command line (connectionSettings).
import t from 'tap';
import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { OptionFileError, optionValue, parseOptionText, readOptionFiles } from '../src/mysql/option-file.js';
import { connectionSettings, usualOptionFiles, type Given } from '../src/mysql/connection.js';
import { ToolError, UsageError } from '../src/core/errors.js';
import { tempDir } from './helpers/tmp.js';

const options = (text: string) =>
  parseOptionText(text, 'my.cnf').flatMap((e) => (e.kind === 'option' ? [[e.group, e.name, e.value]] : []));

t.test('the lines of an option file', async (t) => {
  t.same(options([
    '\uFEFF# a comment',
    '; another',
    '[Client]',
    'host = db.example.org',
    'user_name=me   # a comment after the value',
    'password = "p#ss word"  # the # inside quotes is the password\'s',
    "socket='/run/my sock'",
    'loose-ssl_ca=/etc/ca.pem',
    'SSL-Verify-Server-Cert',
    '  [ mysql ]  ',
    'port=3307',
    'empty=',
    'escapes=a\\sb\\tc\\\\d\\qe',
    'quoted="say \\"hi\\""',
  ].join('\r\n')), [
    ['client', 'host', 'db.example.org'],
    ['client', 'user-name', 'me'],
    ['client', 'password', 'p#ss word'],
    ['client', 'socket', '/run/my sock'],
    ['client', 'ssl-ca', '/etc/ca.pem'],
    ['client', 'ssl-verify-server-cert', undefined],
    ['mysql', 'port', '3307'],
    ['mysql', 'empty', ''],
    ['mysql', 'escapes', 'a b\tc\\d\\qe'],
    ['mysql', 'quoted', 'say "hi"'],
  ], 'groups, bare names, comments, quotes, escapes, dashes and underscores, loose-');
  t.same(parseOptionText('[client]\n!include /a/b.cnf\n!includedir  conf.d \n', 'f').filter((e) => e.kind !== 'option'),
    [{ kind: 'include', path: '/a/b.cnf', line: 2 }, { kind: 'includedir', path: 'conf.d', line: 3 }]);
  t.equal(optionValue(" 'x' "), 'x');
  t.equal(optionValue('"unclosed'), '"unclosed', 'a lone quote is kept');
  for (const [text, message] of [
    ['host=x\n', 'my.cnf:1: an option before any [group]'],
    ['[client\nhost=x\n', 'my.cnf:1: not a group line: "[client"'],
    ['[client]\n!exec rm -rf /\n', 'my.cnf:2: unknown directive "!exec rm -rf /" (only !include FILE and !includedir DIR)'],
    ['[client]\nho st=x\n', 'my.cnf:2: not an option line: "ho st=x"'],
  ]) t.throws(() => parseOptionText(text, 'my.cnf'), new OptionFileError(message), message);
});

t.test('reading files: groups, order, includes, what must exist', async (t) => {
  const dir = tempDir('optfile', t);
  const groups = ['client', 'client-server', 'client-mariadb', 'mysql', 'edx-pipes'];
  const a = join(dir, 'a.cnf');
  const b = join(dir, 'b.cnf');
  mkdirSync(join(dir, 'conf.d'));
  writeFileSync(a, [
    '[client-server]', 'host=from-a', 'port=1',
    '[mysqld]', 'port=9999', 'user=server-only',
    '[client]', 'user=a-user',
    '!includedir conf.d',
    '[edx-pipes]', 'database=after-the-dir',
  ].join('\n'));
  writeFileSync(join(dir, 'conf.d', '20-second.cnf'), '[client-mariadb]\nport=20\n');
  writeFileSync(join(dir, 'conf.d', '10-first.cnf'), '[mysql]\nport=10\nhost=from-dir\n!include ../inc.txt\n');
  writeFileSync(join(dir, 'conf.d', '30-skipped.conf'), '[client]\nport=30\n');
  writeFileSync(join(dir, 'inc.txt'), '[client]\nsocket=/from/include\n');
  writeFileSync(b, '[client]\nhost=from-b\n');
  const r = readOptionFiles([{ path: a, required: true }, { path: join(dir, 'missing.cnf'), required: false }, { path: b, required: true }], groups);
  t.same(Object.fromEntries([...r.options].map(([k, v]) => [k, v.value])), {
    host: 'from-b', port: '20', user: 'a-user', socket: '/from/include', database: 'after-the-dir',
  }, 'a later line wins, whichever group; [mysqld] is not ours; *.cnf of a directory in name order');
  t.same(r.files, [a, join(dir, 'conf.d', '10-first.cnf'), join(dir, 'inc.txt'), join(dir, 'conf.d', '20-second.cnf'), b]);
  t.equal(r.options.get('host')?.file, b, 'each value knows its file');

  t.throws(() => readOptionFiles([{ path: join(dir, 'nope.cnf'), required: true, named: '--defaults-file' }], groups),
    new OptionFileError(`option file ${join(dir, 'nope.cnf')} (--defaults-file): no such file`), 'a named file must exist');
  writeFileSync(join(dir, 'loop.cnf'), '[client]\n!include loop.cnf\n');
  t.throws(() => readOptionFiles([{ path: join(dir, 'loop.cnf'), required: true }], groups), /nested more than 10 deep/);
  writeFileSync(join(dir, 'open.cnf'), '[client]\nhost=evil\n');
  chmodSync(join(dir, 'open.cnf'), 0o666);
  const open = readOptionFiles([{ path: join(dir, 'open.cnf'), required: true }], groups);
  t.equal(open.options.size, 0, 'a world-writable file is left out, as the client does');
  t.match(open.warnings, [/open\.cnf: world-writable option file ignored/]);
});

t.test('settings: command line over option files over the environment', async (t) => {
  const dir = tempDir('optset', t);
  const cnf = join(dir, 'my.cnf');
  writeFileSync(cnf, '[client]\nhost=127.0.0.2\nport=3307\nuser=file-user\n');
  const cmd = (entries: [string, string | undefined][], more = {}) => ({
    settings: new Map<string, Given>(entries.map(([k, v]) => [k, { value: v, from: `--${k}` }])), ...more,
  });
  const env = { HOME: dir, EDX_PIPES_NO_DEFAULTS: '1', MYSQL_HOST: 'env-host', MYSQL_TCP_PORT: '1', MYSQL_USER: 'env-user', MYSQL_PWD: 'env-pw' };

  const fromEnv = connectionSettings(cmd([]), env);
  t.match(fromEnv, { host: 'env-host', port: 1, user: 'env-user', password: 'env-pw', askPassword: false, socketPath: undefined },
    'the environment alone');
  const fromFile = connectionSettings(cmd([], { defaultsFile: cnf }), env);
  t.match(fromFile, { host: '127.0.0.2', port: 3307, user: 'file-user', password: 'env-pw' }, 'the file over the environment');
  t.equal(fromFile.source, `${cnf}, MYSQL_PWD`);
  const fromCmd = connectionSettings(cmd([['port', '3308'], ['password', undefined]], { defaultsFile: cnf }), env);
  t.match(fromCmd, { host: '127.0.0.2', port: 3308, askPassword: true, password: undefined }, 'the command line over the file');
  t.equal(connectionSettings(cmd([]), { ...env, EDX_PIPES_MY_CNF: cnf }).port, 3307, '$EDX_PIPES_MY_CNF is the default --defaults-file');
  t.equal(connectionSettings(cmd([], { noDefaults: true }), { ...env, EDX_PIPES_MY_CNF: cnf }).port, 1, '--no-defaults: no file at all');

  // The usual files, in the client's order, unless EDX_PIPES_NO_DEFAULTS.
  t.same(usualOptionFiles({ HOME: '/home/x' }), ['/etc/my.cnf', '/etc/mysql/my.cnf', '/home/x/.my.cnf']);
  t.same(usualOptionFiles({ HOME: '/home/x', MYSQL_HOME: '/srv/my' }), ['/etc/my.cnf', '/etc/mysql/my.cnf', '/srv/my/my.cnf', '/home/x/.my.cnf']);
  writeFileSync(join(dir, '.my.cnf'), '[client]\nport=4000\n');
  const { EDX_PIPES_NO_DEFAULTS: _, ...withDefaults } = env;
  t.equal(connectionSettings(cmd([]), withDefaults).port, 4000, '~/.my.cnf is read');
  t.equal(connectionSettings(cmd([]), env).port, 1, 'but not with EDX_PIPES_NO_DEFAULTS');
  const extra = join(dir, 'extra.cnf');
  writeFileSync(extra, '[edx-pipes]\nport=5000\n');
  t.equal(connectionSettings(cmd([], { defaultsExtraFile: extra }), withDefaults).port, 5000, '--defaults-extra-file after the usual ones');
  t.equal(connectionSettings(cmd([], { defaultsFile: cnf, defaultsExtraFile: extra }), env).port, 5000, 'and after a named one');
  t.throws(() => connectionSettings(cmd([]), { ...env, EDX_PIPES_MY_CNF: join(dir, 'nope') }),
    new ToolError(`option file ${join(dir, 'nope')} ($EDX_PIPES_MY_CNF): no such file`));

  // Host, socket and protocol as the client: localhost is the socket.
  const sock = join(dir, 'mysqld.sock');
  t.match(connectionSettings(cmd([['host', 'localhost'], ['socket', sock]]), env), { socketPath: sock });
  t.match(connectionSettings(cmd([['host', '127.0.0.1'], ['socket', sock]]), env), { socketPath: undefined, host: '127.0.0.1' },
    'a socket is for localhost only');
  t.match(connectionSettings(cmd([['host', 'localhost'], ['socket', sock], ['protocol', 'TCP']]), env), { socketPath: undefined, host: 'localhost' });
  t.match(connectionSettings(cmd([['host', 'db'], ['socket', sock], ['protocol', 'socket']]), env), { socketPath: sock });
  t.throws(() => connectionSettings(cmd([['protocol', 'pipe']]), env),
    new UsageError('protocol "pipe" (from --protocol): named pipes and shared memory are Windows-only; use tcp or socket'));
  t.throws(() => connectionSettings(cmd([['port', '99999']]), env), new UsageError('port "99999" (from --port) is not a port number'));
  writeFileSync(join(dir, 'badport.cnf'), '[client]\nport=x\n');
  t.throws(() => connectionSettings(cmd([], { defaultsFile: join(dir, 'badport.cnf') }), env),
    new ToolError(`port "x" (from ${join(dir, 'badport.cnf')}) is not a port number`), 'a wrong file is a failure, not a usage error');
  writeFileSync(join(dir, 'ask.cnf'), '[client]\npassword\n');
  t.match(connectionSettings(cmd([], { defaultsFile: join(dir, 'ask.cnf') }), env), { askPassword: true }, 'a bare password in a file asks too');
  t.match(connectionSettings(cmd([]), { ...env, MYSQL_PWD: '' }), { password: '', askPassword: false }, 'an empty MYSQL_PWD is an empty password');
});

t.test('TLS settings', async (t) => {
  const dir = tempDir('opttls', t);
  const pem = (name: string) => {
    const p = join(dir, name);
    writeFileSync(p, `-----BEGIN CERTIFICATE-----\n${name}\n-----END CERTIFICATE-----\n`);
    return p;
  };
  const ca = pem('ca.pem');
  const cert = pem('cert.pem');
  const key = pem('key.pem');
  const env = { EDX_PIPES_NO_DEFAULTS: '1', HOME: dir };
  const tls = (text: string, entries: [string, string | undefined][] = []) => {
    writeFileSync(join(dir, 'tls.cnf'), `[client]\n${text}\n`);
    return connectionSettings({
      settings: new Map(entries.map(([k, v]) => [k, { value: v, from: `--${k}` }])), defaultsFile: join(dir, 'tls.cnf'),
    }, env).tls;
  };
  t.equal(tls(''), undefined, 'nothing said: no TLS');
  t.match(tls(`ssl-ca=${ca}`), { mode: 'VERIFY_CA', ca: [/ca\.pem/], caFrom: `ssl-ca ${ca}` }, 'a CA: the certificate is verified');
  t.match(tls(`ssl-ca=${ca}\nssl-verify-server-cert`), { mode: 'VERIFY_IDENTITY' }, 'ssl-verify-server-cert: and the host name');
  t.match(tls('ssl'), { mode: 'REQUIRED', ca: undefined }, 'ssl alone: encrypted, not verified');
  t.equal(tls(`ssl-ca=${ca}\nskip-ssl`), undefined, 'skip-ssl: off');
  t.equal(tls('ssl=OFF'), undefined);
  t.match(tls(`ssl-mode=preferred\nssl-cert=${cert}\nssl-key=${key}`), { mode: 'PREFERRED', cert: /cert\.pem/, key: /key\.pem/ });
  t.match(tls('ssl-mode=REQUIRED', [['ssl-verify-server-cert', '1']]), { mode: 'VERIFY_IDENTITY' }, 'the command line adds to the file');
  t.equal(tls(`ssl-ca=${ca}`, [['ssl-mode', 'DISABLED']]), undefined, 'the command line wins');
  mkdirSync(join(dir, 'cas'));
  writeFileSync(join(dir, 'cas', 'a.0'), '-----BEGIN CERTIFICATE-----\nA\n-----END CERTIFICATE-----\n');
  writeFileSync(join(dir, 'cas', 'README'), 'not a certificate');
  t.match(tls(`ssl-capath=${join(dir, 'cas')}`), { mode: 'VERIFY_CA', ca: [/\nA\n/] }, 'ssl-capath: the certificates of a directory');
  t.throws(() => tls('ssl-mode=SOMETIMES'), /ssl-mode "SOMETIMES" \(from .*tls\.cnf\): one of DISABLED, PREFERRED, REQUIRED, VERIFY_CA, VERIFY_IDENTITY/);
  t.throws(() => tls(`ssl-ca=${join(dir, 'nope.pem')}`), /ssl-ca .*nope\.pem \(from .*tls\.cnf\): no such file/);
  t.throws(() => tls(`ssl-cert=${cert}`), /ssl-cert \(from .*tls\.cnf\) needs ssl-key too/);
  t.throws(() => tls('ssl=maybe'), /ssl="maybe" \(from .*\): not on or off/);
  t.throws(() => tls('ssl-mode=DISABLED\nssl-verify-server-cert'), /ssl-verify-server-cert .* with ssl-mode DISABLED/);
});
