import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import type { UpScenario } from '../../fixtures/upScenario.js';
import {
  assertParametersAsBefore, killHard, parameterSnapshot, readRaised, startCli, upTestServers, waitFor, type LiveRun,
} from '../../helpers/upHarness.js';

/**
 * Never two migrators. The real openmetadata-ops.sh does not exec its java: a migrator is a shell whose worker is a
 * child of its own. Here the shell runs three workers that ignore SIGTERM: one in the foreground, one in the
 * background, and one that left the process group and session (setsid) — each detached from the output pipes, so the
 * shell's death closes them. Stopped by SIGTERM to om-migrate or by --step-timeout, `up` must kill them all (SIGTERM,
 * grace, SIGKILL), and put the parameters back only once none is left; the escaped worker watches the raised value
 * while it lives, and must never see it put back under it. A second SIGTERM kills the tree at once.
 */
const live: LiveRun[] = [];
after(() => {
  for (const run of live) if (run.child.exitCode === null && run.child.signalCode === null) killHard(run);
});
const { engines, scenario } = upTestServers();
const dirs: string[] = [];
after(() => {
  for (const d of dirs) {
    for (const pid of marked(d)) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // gone
      }
    }
    rmSync(d, { recursive: true, force: true });
  }
});

/** Every live process whose environment holds the stand-in's mark: the stand-in and all it started, however far it went. */
function marked(dir: string): number[] {
  const found: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry) || Number(entry) === process.pid) continue;
    try {
      if (readFileSync(`/proc/${entry}/environ`, 'latin1').split('\0').includes(`OMM_TREE_MARK=${dir}`)) {
        // a zombie is dead already: only its parent's wait is missing
        if (!/^\d+ \(.*\) Z /.test(readFileSync(`/proc/${entry}/stat`, 'latin1'))) found.push(Number(entry));
      }
    } catch {
      // gone, or not ours
    }
  }
  return found;
}

function treeMigrator(sc: UpScenario, dir: string): { command: string; started(): boolean; log(): string[] } {
  const script = join(dir, 'migrator.sh');
  const logFile = join(dir, 'escaped.log');
  // Each worker is a script of its own: it ignores SIGTERM and loops until it is killed.
  const worker = (name: string, body = 'sleep 1') => {
    writeFileSync(join(dir, `${name}.sh`), `trap '' TERM\necho $$ > '${dir}/${name}.pid'\nwhile :; do\n${body}\ndone\n`);
    return `sh '${dir}/${name}.sh' </dev/null >/dev/null 2>&1`;
  };
  writeFileSync(script, `#!/bin/sh
# like openmetadata-ops.sh: the worker is a child of the shell, not exec'd
${worker('background')} &
setsid ${worker('escaped', `echo "value $(${readRaised(sc)})" >> '${logFile}'; sleep 0.5`)} &
${worker('foreground')}
`);
  const read = () => {
    try {
      return readFileSync(logFile, 'utf8').trim().split('\n').filter((l) => l.trim() !== 'value');
    } catch {
      return [];
    }
  };
  return {
    command: `exec /bin/sh '${script}'`,
    started: () => ['background', 'escaped', 'foreground'].every((n) => {
      try {
        return readFileSync(join(dir, `${n}.pid`), 'utf8').trim() !== '';
      } catch {
        return false;
      }
    }) && read().length > 0,
    log: read,
  };
}

const raised = (sc: UpScenario) => (sc.server.engine === 'mysql' ? /^value 20971520$/ : /^value work_mem=20MB$/);

for (const engine of engines) {
  describe(`no migrator outlives its run: ${engine.label}`, () => {
    for (const how of ['SIGTERM', '--step-timeout'] as const) {
      it(`${how}: every worker of a shell that does not exec, one of them setsid, is killed before the parameters go back`, async () => {
        const sc = await scenario(engine.server());
        const params = await parameterSnapshot(sc);
        const dir = mkdtempSync(join(tmpdir(), 'omm-tree-'));
        dirs.push(dir);
        const migrator = treeMigrator(sc, dir);
        const args = ['up', '--json', ...(how === '--step-timeout' ? ['--step-timeout', '1m'] : [])];
        const run = startCli(sc, args, { OM_MIGRATE_OM_COMMAND: migrator.command, OM_MIGRATE_STOP_GRACE: '2s', OMM_TREE_MARK: dir });
        live.push(run);
        await waitFor('the workers to start', () => migrator.started(), 60_000);
        if (how === 'SIGTERM') run.child.kill('SIGTERM');
        const done = await run.done;
        const left = marked(dir);
        assert.deepEqual(left, [], `no process of the migrator is left once up has exited: ${left.join(', ')}`);
        if (how === 'SIGTERM') {
          assert.equal(done.code, 130, done.stdout + done.stderr);
          assert.equal(done.json.error.code, 'INTERRUPTED');
        } else {
          assert.equal(done.code, 8, done.stdout + done.stderr);
          assert.equal(done.json.error.code, 'STEP_FAILED');
        }
        const readings = migrator.log();
        assert.ok(readings.length > 0 && readings.every((l) => raised(sc).test(l)),
          `the escaped worker never saw the parameter put back while it lived: ${readings.slice(-3).join(' | ')}`);
        await assertParametersAsBefore(sc, params);
      });
    }

    it('a second SIGTERM kills the whole tree at once, without waiting for the grace period', async () => {
      const sc = await scenario(engine.server());
      const params = await parameterSnapshot(sc);
      const dir = mkdtempSync(join(tmpdir(), 'omm-tree-'));
      dirs.push(dir);
      const migrator = treeMigrator(sc, dir);
      const run = startCli(sc, ['up', '--json'], { OM_MIGRATE_OM_COMMAND: migrator.command, OM_MIGRATE_STOP_GRACE: '5m', OMM_TREE_MARK: dir });
      live.push(run);
      await waitFor('the workers to start', () => migrator.started(), 60_000);
      run.child.kill('SIGTERM');
      await new Promise((resolve) => setTimeout(resolve, 1000));
      const second = Date.now();
      run.child.kill('SIGTERM');
      const done = await run.done;
      const took = Date.now() - second;
      assert.deepEqual(marked(dir), [], 'no process of the migrator is left');
      assert.ok(took < 20_000, `up ended ${took} ms after the second SIGTERM`);
      assert.equal(done.code, 130, done.stdout + done.stderr);
      await assertParametersAsBefore(sc, params);
    });
  });
}
