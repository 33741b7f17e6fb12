import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { adminUrl, type UpScenario } from '../../fixtures/upScenario.js';
import { omVersion, runCli, upTestServers } from '../../helpers/upHarness.js';

/**
 * Every child om-migrate starts gets an environment of its own: the dump tools only what they need to run plus their
 * password, the migrators the server's environment without om-migrate's own settings (the admin URL with root's password
 * above all). Each child here writes its environment to a file, as a hostile or merely chatty plugin could ship it.
 */
const { engines, scenario } = upTestServers();
const dirs: string[] = [];
after(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

/** A directory of same-named wrappers placed first on PATH: each writes its arguments and environment, then runs the real tool. */
function toolSpies(out: string): string {
  const bin = mkdtempSync(join(tmpdir(), 'omm-spy-bin-'));
  dirs.push(bin);
  for (const tool of ['mariadb-dump', 'mysqldump', 'pg_dump', 'pg_restore']) {
    const script = `#!/bin/sh\n{ printf 'ARGS %s\\n' "$*"; env; } > '${out}/${tool}.'$$'.env'\nexec /usr/bin/${tool} "$@"\n`;
    writeFileSync(join(bin, tool), script);
    chmodSync(join(bin, tool), 0o755);
  }
  return bin;
}

/** name → value of one dumped environment (the ARGS line aside). */
function parseEnv(text: string): { args: string; env: Record<string, string> } {
  const lines = text.split('\n');
  const args = lines[0].startsWith('ARGS ') ? lines.shift()!.slice(5) : '';
  const env: Record<string, string> = {};
  for (const line of lines) {
    const eq = line.indexOf('=');
    if (eq > 0 && /^[A-Za-z_][A-Za-z0-9_]*$/.test(line.slice(0, eq))) env[line.slice(0, eq)] = line.slice(eq + 1);
  }
  return { args, env };
}

const ADMIN_SECRET = 'Adm1n-S3cret-not-for-children';

/** The admin URL with a password only om-migrate may know (PostgreSQL trusts 127.0.0.1 and ignores it; MariaDB needs its own). */
function secretAdmin(sc: UpScenario): { url: string; secret: string } {
  if (sc.server.engine === 'postgres') return { url: adminUrl({ ...sc.server.admin, password: ADMIN_SECRET }), secret: ADMIN_SECRET };
  return { url: adminUrl(sc.server.admin), secret: sc.server.admin.password! };
}

for (const engine of engines) {
  describe(`child environments: ${engine.label}`, () => {
    it('no child sees OM_MIGRATE_* or the admin password; dump tools get a minimal environment and only their own password', async () => {
      const sc = await scenario(engine.server());
      const out = mkdtempSync(join(tmpdir(), 'omm-child-env-'));
      dirs.push(out);
      const spies = toolSpies(out);
      const admin = secretAdmin(sc);
      const dumpEnv = (name: string) => `env > '${out}/${name}.'$$'.env'`;
      const run = await runCli(sc, ['up', '--json'], {
        PATH: `${spies}:${process.env.PATH}`,
        OM_MIGRATE_ADMIN_URL: admin.url,
        OM_MIGRATE_AIRFLOW_ADMIN_URL: admin.url,
        OM_MIGRATE_OM_COMMAND: `${dumpEnv('openmetadata-migrator')}; exec ./bootstrap/openmetadata-ops.sh migrate`,
        OM_MIGRATE_AIRFLOW_COMMAND: `${dumpEnv('airflow-migrator')}; ${sc.env.OM_MIGRATE_AIRFLOW_COMMAND}`,
        OM_MIGRATE_AIRFLOW_CHECK_COMMAND: `${dumpEnv('airflow-check')}; ${sc.env.OM_MIGRATE_AIRFLOW_CHECK_COMMAND}`,
        // Something of the operator's own that a migrator may legitimately need (the server's yaml reads such names).
        FERNET_KEY: 'operator-fernet-key',
      });
      assert.equal(run.code, 0, run.stdout + run.stderr);
      assert.equal(await omVersion(sc), '1.11.0');

      const files = readdirSync(out);
      const of = (prefix: string) => files.filter((f) => f.startsWith(`${prefix}.`)).map((f) => ({ file: f, ...parseEnv(readFileSync(join(out, f), 'utf8')) }));
      const migrators = [...of('openmetadata-migrator'), ...of('airflow-migrator'), ...of('airflow-check')];
      const dumpTool = sc.server.engine === 'mysql' ? 'mariadb-dump' : 'pg_dump';
      // The tool is also run for --version during discovery, and preflight runs the chosen pg_dump once read-only
      // (--schema-only of no schema) to prove it can dump this server; the dump itself is neither.
      const dumps = of(dumpTool).filter((d) => !/--version|--schema-only/.test(d.args));
      assert.ok(of('openmetadata-migrator').length >= 1 && of('airflow-migrator').length >= 1, `both migrators ran: ${files.join(', ')}`);
      assert.equal(dumps.length, 2, `one dump per database: ${files.join(', ')}`);

      for (const child of [...migrators, ...of(dumpTool), ...of('pg_restore')]) {
        const names = Object.keys(child.env);
        assert.deepEqual(names.filter((n) => n.startsWith('OM_MIGRATE_')), [], `${child.file} gets none of om-migrate's settings`);
        const leaking = names.filter((n) => child.env[n].includes(admin.secret));
        assert.deepEqual(leaking, [], `${child.file} never sees the admin password`);
      }

      for (const m of of('openmetadata-migrator')) {
        assert.equal(m.env.DB_USER, sc.om.appSpec.user, 'OpenMetadata\'s migrator connects as the application user');
        assert.equal(m.env.DB_USER_PASSWORD, sc.om.appSpec.password);
        assert.equal(m.env.FERNET_KEY, 'operator-fernet-key', 'and keeps the server\'s own environment');
      }
      for (const m of of('airflow-migrator')) {
        assert.match(m.env.AIRFLOW__DATABASE__SQL_ALCHEMY_CONN, new RegExp(`${sc.airflow.appSpec.user}:`), 'Airflow\'s migrator gets its own URL');
      }

      const allowed = /^(PATH|HOME|LANG|TZ|TMPDIR|LC_[A-Z_]+|PGSSL(MODE|ROOTCERT|CERT|KEY|CRL)|PGPASSWORD|PWD|SHLVL|_)$/;
      for (const d of dumps) {
        const extra = Object.keys(d.env).filter((n) => !allowed.test(n));
        assert.deepEqual(extra, [], `${d.file}: only what a dump tool needs (${Object.keys(d.env).join(', ')})`);
        assert.ok(!Object.values(d.env).includes(sc.om.appSpec.password!) || !Object.values(d.env).includes(sc.airflow.appSpec.password!),
          `${d.file} gets one database's password, not both`);
        assert.ok(!d.args.includes(sc.om.appSpec.password!) && !d.args.includes(sc.airflow.appSpec.password!), `${d.file}: no password in argv`);
        if (sc.server.engine === 'mysql') assert.equal(d.env.MYSQL_PWD, undefined, 'MariaDB\'s tool reads its password from a 0600 defaults file');
        else assert.ok([sc.om.appSpec.password, sc.airflow.appSpec.password].includes(d.env.PGPASSWORD), `${d.file}: PGPASSWORD is its database's`);
      }
    });

    it('AIRFLOW__DATABASE__SQL_ALCHEMY_CONN_CMD runs without om-migrate\'s settings or the admin password', async () => {
      const sc = await scenario(engine.server());
      const out = mkdtempSync(join(tmpdir(), 'omm-child-env-'));
      dirs.push(out);
      const admin = secretAdmin(sc);
      const url = sc.env.AIRFLOW__DATABASE__SQL_ALCHEMY_CONN!;
      const run = await runCli(sc, ['preflight', '--json'], {
        OM_MIGRATE_ADMIN_URL: admin.url,
        AIRFLOW__DATABASE__SQL_ALCHEMY_CONN: '',
        AIRFLOW__DATABASE__SQL_ALCHEMY_CONN_CMD: `/bin/sh -c "env > ${out}/conn-cmd.env; echo '${url}'"`,
      });
      assert.ok(run.json?.command === 'preflight', run.stdout + run.stderr);
      const { env } = parseEnv(readFileSync(join(out, 'conn-cmd.env'), 'utf8'));
      assert.deepEqual(Object.keys(env).filter((n) => n.startsWith('OM_MIGRATE_')), []);
      assert.deepEqual(Object.keys(env).filter((n) => env[n].includes(admin.secret)), []);
    });
  });
}
