import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { hostname } from 'node:os';
import { describe, it } from 'node:test';
import { connect } from '../../../src/dialects/connect.js';
import { MUTEX, slotNames } from '../../../src/dialects/mysql/MysqlParameterCoordination.js';
import { lockKey } from '../../../src/dialects/postgres/PostgresParameterCoordination.js';
import type { Dialect } from '../../../src/dialects/types.js';
import { runLockName } from '../../../src/lock/lockName.js';
import { needKey } from '../../../src/params/ParameterRun.js';
import { alive, assertParametersAsBefore, omVersion, parameterSnapshot, runCli, upTestServers } from '../../helpers/upHarness.js';

/**
 * What an application session can write or take must not steer a run (issue 21, point 10): the lock holder's row
 * (it sits in the application's database) naming process group 1, or another program's group; and the lock names of
 * om-migrate's parameter needs and mutex, which any session of any account may take. The first used to block every
 * `up` and print `kill -TERM -1`; the second kept sort_buffer_size (or a role's work_mem) raised after `up`, or held
 * `up` for 60 s and failed it. Throw-away binlog MariaDB (globals change) and the shared PostgreSQL (a role setting).
 */
const { engines, scenario } = upTestServers();

for (const engine of engines) {
  describe(`names and rows an application session controls: ${engine.label}`, () => {
    it('a lock-holder row naming process group 1, or another program\'s group, neither blocks up nor is offered to kill', async () => {
      const sc = await scenario(engine.server());
      // Another program of this user, leading a process group of its own: the kind of group a row could name.
      const bystander = spawn('sleep', ['600'], { detached: true, stdio: 'ignore' });
      const app = await connect(sc.om.appSpec);
      try {
        for (const pgid of [1, bystander.pid!]) {
          const lockName = runLockName(sc.om.appSpec);
          await app.runs.record({ lockName, connectionId: '4242', runId: `planted-${pgid}`, host: hostname(), pid: 1, startedAt: new Date().toISOString(), command: 'up' });
          await app.runs.recordChild(lockName, '4242', { pgid, host: hostname() });
          const up = await runCli(sc, ['up', '--json']);
          assert.doesNotMatch(up.stdout + up.stderr, new RegExp(`kill -TERM -${pgid}\\b`), 'no kill of a group om-migrate cannot vouch for');
          assert.equal(up.code, 0, up.stdout + up.stderr);
          const warned = (up.json.result.warnings as Array<{ gate: string; summary: string }>).find((w) => w.gate === 'running-migrator');
          assert.ok(warned, `up says it ignored the row: ${JSON.stringify(up.json.result.warnings)}`);
          assert.match(warned.summary, new RegExp(`names process group ${pgid} as a migrator, but .*: ignored`));
          assert.ok(alive(bystander.pid!), 'the bystander was left alone');
        }
        assert.equal(await omVersion(sc), '1.11.0');
      } finally {
        await app.close();
        bystander.kill('SIGKILL');
      }
    });

    it('an application session holding the need and mutex lock names: up puts every value back, at once', async () => {
      const sc = await scenario(engine.server());
      const env = sc.server.engine === 'postgres' ? { OM_MIGRATE_WORK_MEM_SCOPE: 'role' } : {};
      const params = await parameterSnapshot(sc);
      const sessions: Dialect[] = [];
      try {
        const app = await connect(sc.om.appSpec);
        sessions.push(app);
        const server = await app.params.serverIdentity();
        if (sc.server.engine === 'mysql') {
          for (const parameter of ['sort_buffer_size', 'log_bin_trust_function_creators']) {
            for (const name of slotNames(needKey(server, parameter, 'global', null)!)) {
              await app.knex.raw('SELECT GET_LOCK(?, 0)', [name]);
            }
          }
          await app.knex.raw('SELECT GET_LOCK(?, 0)', [MUTEX]);
        } else {
          await app.knex.raw('SELECT pg_advisory_lock_shared(?::bigint)', [lockKey(`need:${needKey(server, 'work_mem', 'role', sc.om.appSpec.user)!}`).toString()]);
          // The mutex's key, in every database a run might take it in: its own and the admin's.
          const inPostgres = await connect({ ...sc.om.appSpec, database: 'postgres' });
          sessions.push(inPostgres);
          for (const s of [app, inPostgres]) await s.knex.raw('SELECT pg_advisory_lock(?::bigint)', [lockKey('om-migrate:params').toString()]);
        }
        const up = await runCli(sc, ['up', '--json'], env);
        assert.equal(up.code, 0, up.stdout + up.stderr);
        const restored = (up.json.result.parameters as Array<{ parameter: string; restored: string }>);
        assert.ok(restored.length > 0, 'up raised something to put back');
        for (const p of restored) assert.equal(p.restored, 'reverted', `${p.parameter} was put back, not left "deferred" for the holder of its name`);
        await assertParametersAsBefore(sc, params);
      } finally {
        await Promise.all(sessions.map((s) => s.close()));
      }
    });
  });
}
