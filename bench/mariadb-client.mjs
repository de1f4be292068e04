// The mariadb command-line client with the tools' connection settings (the benchmarks' baseline for
// LOAD DATA LOCAL INFILE); the password goes through the environment, never argv.
import { spawnSync } from 'node:child_process';

/** A function running the client with these arguments (and spawnSync options); its stdout. */
export function mariadbClient(settings, env) {
  return (sqlArgs, opts = {}) => {
    const a = ['--local-infile=1', `--host=${settings.host}`, `--port=${settings.port}`, `--user=${settings.user}`, '--batch'];
    if (settings.socketPath) a.push(`--socket=${settings.socketPath}`);
    const r = spawnSync('mariadb', [...a, ...sqlArgs], {
      env: { ...env, ...(settings.password ? { MYSQL_PWD: settings.password } : {}) },
      encoding: 'utf8',
      maxBuffer: 1 << 26,
      ...opts,
    });
    if (r.status !== 0) throw new Error(`mariadb ${sqlArgs.join(' ')}: ${r.stderr}`);
    return r.stdout;
  };
}
