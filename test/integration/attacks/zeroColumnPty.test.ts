import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { describe, it } from 'node:test';
import { CLI, type UpScenario } from '../../fixtures/upScenario.js';
import {
  alive, assertParametersAsBefore, ledgerRows, omVersion, parameterSnapshot, upTestServers, waitFor,
} from '../../helpers/upHarness.js';

/**
 * docker, kubectl and CI give pseudo-terminals of 0 columns. There a spinner's line wrapping never ends: `up` hung at
 * "taking the run lock", wrote gigabytes of escape codes and ignored SIGTERM. Under a real pty (script(1)) sized 0x0,
 * `up` must finish, print a bounded amount of plain text, and stop on SIGTERM with its parameters put back.
 */
const { engines, scenario } = upTestServers();

function shellQuote(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

interface PtyRun {
  pid(): number | undefined;
  done: Promise<{ code: number | null; output: string; bytes: number }>;
}

/** om-migrate under script(1): a pty of 0 columns and 0 rows, stdin/stdout/stderr all on it. */
function underPty(sc: UpScenario, args: string[], extra: NodeJS.ProcessEnv = {}): PtyRun {
  const command = `stty cols 0 rows 0; exec ${shellQuote(process.execPath)} ${[CLI, ...args].map(shellQuote).join(' ')}`;
  const child = spawn('script', ['-qefc', command, '/dev/null'], { env: { ...sc.env, TERM: 'xterm', ...extra }, stdio: ['pipe', 'pipe', 'pipe'] });
  let output = '';
  let bytes = 0;
  for (const s of [child.stdout, child.stderr]) {
    s.setEncoding('utf8').on('data', (d: string) => {
      bytes += Buffer.byteLength(d);
      if (output.length < 1_000_000) output += d;
    });
  }
  return {
    // script → (sh, exec'd into) node: om-migrate is script's only child.
    pid: () => Number(spawnSync('ps', ['-o', 'pid=', '--ppid', String(child.pid)], { encoding: 'utf8' }).stdout.trim().split('\n')[0]) || undefined,
    done: new Promise((resolve, reject) => {
      child.once('error', reject);
      child.once('close', (code) => resolve({ code, output, bytes }));
    }),
  };
}

// The escape codes a spinner writes: hide/show cursor, erase line, cursor up.
const SPINNER = /\x1b\[\?25[lh]|\x1b\[2K|\x1b\[\d*[AG]/;

for (const engine of engines) {
  describe(`0-column pty: ${engine.label}`, () => {
    it('up finishes with plain, bounded output', async () => {
      const sc = await scenario(engine.server());
      const params = await parameterSnapshot(sc);
      const run = await underPty(sc, ['up']).done;
      assert.equal(run.code, 0, run.output.slice(-3000));
      assert.equal(await omVersion(sc), '1.11.0');
      assert.doesNotMatch(run.output, SPINNER, 'no spinner escape codes');
      assert.ok(run.bytes < 1_000_000, `bounded output (${run.bytes} bytes)`);
      assert.match(run.output, /om-migrate: taking the run lock/);
      await assertParametersAsBefore(sc, params);
    });

    it('SIGTERM during the migration is honoured: exit 130, parameters put back, lock free', async () => {
      const sc = await scenario(engine.server());
      const params = await parameterSnapshot(sc);
      const run = underPty(sc, ['up'], { OM_STANDIN_SLEEP_MS: '60000' });
      await waitFor('the OpenMetadata step to run', async () =>
        (await ledgerRows(sc))?.some((r) => r.step === 'openmetadata/server-migrate' && r.status === 'running'), 120_000);
      const pid = run.pid();
      assert.ok(pid && alive(pid), 'om-migrate is running under the pty');
      process.kill(pid, 'SIGTERM');
      const result = await run.done;
      assert.equal(result.code, 130, result.output.slice(-3000));
      assert.doesNotMatch(result.output, SPINNER);
      await assertParametersAsBefore(sc, params);
      const rows = (await ledgerRows(sc))!;
      assert.ok(!rows.some((r) => r.status === 'running'), 'nothing left marked running');
    });
  });
}
