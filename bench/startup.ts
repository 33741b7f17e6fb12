/**
 * bench/startup: how long om-migrate takes to start, as a ratio to bare Node (`node -e 0`), measured in the same run.
 * Target: `--version` within 2x of bare Node (drivers and the command framework load lazily).
 * `preflight --json` against the local MariaDB and PostgreSQL is shown too (it connects and reads, so it is slower).
 *   node dist/bench/startup.js [--runs 15]
 */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const CLI = fileURLToPath(new URL('../src/cli/main.js', import.meta.url));
const runs = Number(process.argv[process.argv.indexOf('--runs') + 1]) || 15;

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

function time(args: string[], env: NodeJS.ProcessEnv = process.env): number {
  const started = process.hrtime.bigint();
  const result = spawnSync(process.execPath, args, { env, stdio: ['ignore', 'ignore', 'pipe'] });
  const ms = Number(process.hrtime.bigint() - started) / 1e6;
  if (result.status !== 0 && !args.includes('preflight')) throw new Error(`${args.join(' ')} failed: ${result.stderr}`);
  return ms;
}

/** Alternating the commands, so that machine noise hits all of them alike. */
function measure(commands: Record<string, { args: string[]; env?: NodeJS.ProcessEnv }>): Record<string, number> {
  const samples: Record<string, number[]> = Object.fromEntries(Object.keys(commands).map((k) => [k, []]));
  for (const c of Object.values(commands)) time(c.args, c.env); // warm the file cache
  for (let i = 0; i < runs; i += 1) {
    for (const [name, c] of Object.entries(commands)) samples[name].push(time(c.args, c.env));
  }
  return Object.fromEntries(Object.entries(samples).map(([k, v]) => [k, median(v)]));
}

const clean = Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^(DB_|OM_|AIRFLOW)/.test(k)));
const result = measure({
  'node -e 0': { args: ['-e', '0'] },
  'om-migrate --version': { args: [CLI, '--version'] },
  'om-migrate --help': { args: [CLI, '--help'] },
  'preflight --json (MariaDB)': { args: [CLI, 'preflight', '--json', '--db-host', '127.0.0.1', '--db-user', 'root', '--database', 'test'], env: clean },
  'preflight --json (PostgreSQL)': { args: [CLI, 'preflight', '--json', '--db-host', '127.0.0.1', '--db-scheme', 'postgresql', '--db-user', 'postgres', '--database', 'test'], env: clean },
});
const base = result['node -e 0'];
process.stdout.write(`median of ${runs} runs each (ms), ratio to node -e 0\n`);
for (const [name, ms] of Object.entries(result)) {
  process.stdout.write(`${name.padEnd(32)} ${ms.toFixed(1).padStart(8)} ms  ${(ms / base).toFixed(2)}x\n`);
}
const ratio = result['om-migrate --version'] / base;
process.stdout.write(`--version: ${ratio.toFixed(2)}x bare Node (target <= 2x): ${ratio <= 2 ? 'met' : 'NOT met'}\n`);
