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

/**
 * What a load benchmark needs: the tools' connection settings, an environment for the tools (no
 * test-runner hooks), throwaway database names made from `prefix`, `bin(tool)` and the client.
 */
export async function benchDatabases(root, prefix) {
  const { join } = await import('node:path');
  const { connectionSettings } = await import(join(root, 'dist', 'mysql', 'connection.js'));
  const settings = connectionSettings();
  const env = { ...process.env };
  delete env.NODE_OPTIONS;
  const edx = `${prefix}_edx_${process.pid}`;
  const priv = `${prefix}_priv_${process.pid}`;
  const client = mariadbClient(settings, env);
  return {
    settings, env, edx, priv, client,
    dbArgs: ['--edx-db', edx, '--private-db', priv],
    bin: (tool) => join(root, 'bin', tool),
    /** Drop both databases; a failure is said, not thrown (the benchmark's numbers stand). */
    drop(say) {
      try {
        client(['-e', `DROP DATABASE IF EXISTS \`${edx}\`; DROP DATABASE IF EXISTS \`${priv}\`;`]);
      } catch (e) {
        say(`could not drop the bench databases: ${e.message}`);
      }
    },
  };
}
