// The connection options of every tool that talks to the database, as the mysql client has them
// (docs/connection.md): one option table, one usage text, one way to turn them into settings. -h
// is the host here, as in the client; help is --help or -?.
import { openSync, writeSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { Writable } from 'node:stream';
import { ReadStream } from 'node:tty';
import { UsageError, ToolError, type OptionSpec, type OptionValues } from './common.js';
import { connectionSettings, type ConnectionSettings, type Given } from '../mysql/connection.js';

const NO_PASSWORD_HERE =
  'a password is never taken from the command line (other users see it in the process list, the shell keeps it in its history): ' +
  "give -p alone to be asked on the terminal, or put it in an option file ([client] password=...) or MYSQL_PWD";

export const CONNECTION_OPTIONS = {
  // Replaces the -h of every other tool: -h is the host.
  help: { type: 'boolean', short: '?' },
  host: { type: 'string', short: 'h' },
  port: { type: 'string', short: 'P' },
  user: { type: 'string', short: 'u' },
  socket: { type: 'string', short: 'S' },
  protocol: { type: 'string' },
  password: { type: 'boolean', short: 'p', refuseValue: NO_PASSWORD_HERE },
  'defaults-file': { type: 'string' },
  'defaults-extra-file': { type: 'string' },
  'no-defaults': { type: 'boolean' },
  ssl: { type: 'boolean' },
  'skip-ssl': { type: 'boolean' },
  'ssl-mode': { type: 'string' },
  'ssl-ca': { type: 'string' },
  'ssl-capath': { type: 'string' },
  'ssl-cert': { type: 'string' },
  'ssl-key': { type: 'string' },
  'ssl-verify-server-cert': { type: 'boolean' },
} as const satisfies OptionSpec;

export type ConnectionValues = OptionValues<typeof CONNECTION_OPTIONS>;

/** The usage lines of those options; `when` says when the tool connects (e.g. 'with --db'). */
export const connectionUsage = (when = '') => `\
Connection${when ? ` (${when})` : ''}, as the mysql client (docs/connection.md):
  -h, --host HOST        the server (default localhost: its Unix socket, unless --protocol tcp)
  -P, --port PORT        its TCP port (default 3306)
  -u, --user NAME        the user (default: your login name)
  -S, --socket PATH      the Unix socket for localhost
  --protocol tcp|socket  how to reach the server
  -p, --password         ask for the password on the terminal; never give it here (refused):
                         an option file ([client] password=...) or MYSQL_PWD can hold it
  --defaults-file FILE   read only this option file (default: $EDX_PIPES_MY_CNF when set)
  --defaults-extra-file FILE
                         read this option file after the others
  --no-defaults          read no option file
  --ssl, --skip-ssl      TLS on (encrypted, certificate not verified) or off (default: off)
  --ssl-mode MODE        DISABLED, PREFERRED, REQUIRED, VERIFY_CA or VERIFY_IDENTITY
  --ssl-ca FILE          CA certificate the server's must verify against (VERIFY_CA)
  --ssl-capath DIR       a directory of CA certificates (VERIFY_CA)
  --ssl-cert FILE, --ssl-key FILE
                         this client's certificate and key
  --ssl-verify-server-cert
                         verify the server's certificate and host name (VERIFY_IDENTITY)
  Option files read: /etc/my.cnf, /etc/mysql/my.cnf, $MYSQL_HOME/my.cnf, ~/.my.cnf, groups
  [client], [client-server], [client-mariadb], [mysql] and [edx-pipes] (the ssl-* settings too).
  The command line wins over the option files, which win over the environment: MYSQL_HOST,
  MYSQL_TCP_PORT, MYSQL_UNIX_PORT, MYSQL_USER, MYSQL_PWD.
  -?, --help             this text (-h is the host, as in the mysql client)
`;

/** The client's options given here by their names, and how each was written. */
const SETTINGS: [option: keyof ConnectionValues, setting: string][] = [
  ['host', 'host'], ['port', 'port'], ['user', 'user'], ['socket', 'socket'], ['protocol', 'protocol'],
  ['ssl-mode', 'ssl-mode'], ['ssl-ca', 'ssl-ca'], ['ssl-capath', 'ssl-capath'], ['ssl-cert', 'ssl-cert'], ['ssl-key', 'ssl-key'],
];

/** The connection options given (as --name), for a tool that connects only in some modes. */
export function connectionOptionsGiven(values: ConnectionValues): string[] {
  return (Object.keys(CONNECTION_OPTIONS) as (keyof ConnectionValues)[])
    .filter((k) => k !== 'help' && values[k] !== undefined)
    .map((k) => `--${k}`);
}

/** A usage error when connection options are given but the tool will not connect. */
export function refuseConnectionOptions(values: ConnectionValues, onlyWith: string): void {
  const given = connectionOptionsGiven(values);
  if (given.length) throw new UsageError(`${given.join(', ')}: connection options go with ${onlyWith}`);
}

/**
 * The settings of the connection the options (and option files, and environment) describe; the
 * password asked on the terminal when -p (or a bare `password` in an option file) says so. Warnings
 * (an option file left out) go to `say`.
 */
export async function resolveConnection(values: ConnectionValues, say: (msg: string) => void): Promise<ConnectionSettings> {
  if (values['no-defaults'] && (values['defaults-file'] !== undefined || values['defaults-extra-file'] !== undefined)) {
    throw new UsageError(`--no-defaults reads no option file, so not ${values['defaults-file'] !== undefined ? '--defaults-file' : '--defaults-extra-file'} either`);
  }
  if (values.ssl && values['skip-ssl']) throw new UsageError('--ssl and --skip-ssl together');
  const settings = new Map<string, Given>();
  for (const [option, setting] of SETTINGS) {
    const v = values[option];
    if (typeof v === 'string') settings.set(setting, { value: v, from: `--${option}` });
  }
  if (values.password) settings.set('password', { value: undefined, from: '--password' });
  if (values.ssl) settings.set('ssl', { value: '1', from: '--ssl' });
  if (values['skip-ssl']) settings.set('ssl', { value: '0', from: '--skip-ssl' });
  if (values['ssl-verify-server-cert']) settings.set('ssl-verify-server-cert', { value: '1', from: '--ssl-verify-server-cert' });
  const { warnings, ...found } = connectionSettings({
    settings,
    defaultsFile: values['defaults-file'],
    defaultsExtraFile: values['defaults-extra-file'],
    noDefaults: values['no-defaults'],
  });
  for (const w of warnings) say(w);
  if (found.askPassword) found.password = await askPassword('Enter password: ');
  return found;
}

/**
 * A password typed on the terminal (the controlling one, /dev/tty, as the client asks: stdin may be
 * a pipe of data), not echoed. No terminal: a usage error saying where a password can go instead.
 */
export async function askPassword(prompt: string): Promise<string> {
  let fd: number;
  try {
    fd = openSync('/dev/tty', 'r+');
  } catch {
    throw new UsageError(`-p asks for the password on a terminal, and there is none: put it in an option file ([client] password=...) or MYSQL_PWD`);
  }
  const input = new ReadStream(fd);
  // No echo from before the prompt shows: what is typed after it is never on the screen.
  input.setRawMode(true);
  writeSync(fd, prompt);
  // readline edits the line (backspace, ^U) in raw mode; what it would echo goes nowhere.
  const nowhere = new Writable({ write: (_chunk, _enc, done) => done() });
  const rl = createInterface({ input, output: nowhere, terminal: true });
  try {
    return await new Promise<string>((resolve, reject) => {
      rl.once('line', resolve);
      rl.once('SIGINT', () => reject(new ToolError('password not given (interrupted)')));
      rl.once('close', () => reject(new ToolError('password not given (end of input)')));
    });
  } finally {
    rl.removeAllListeners('close');
    rl.close();
    writeSync(fd, '\n');
    input.destroy(); // closes the terminal's descriptor too
  }
}
