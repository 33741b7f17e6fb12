import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { connect } from '../../src/dialects/connect.js';
import { isOmMigrateError } from '../../src/errors.js';
import { omArgs, runCli } from '../helpers/cli.js';
import { backupAs as backup, dumpPrivilegeProblemsOf as problemsOf, runPrintedGrants } from '../helpers/dumpPrivileges.js';
import { createScratchDatabase, SERVERS, type ScratchDatabase } from '../helpers/servers.js';

/**
 * pg_dump's read privileges on the machine's PostgreSQL 15: a table in the owner's database created by another role
 * (here the superuser) stops the real pg_dump with "permission denied"; preflight names it with the GRANTs, and
 * running those GRANTs is enough for the backup.
 */
const pgServer = SERVERS.find((s) => s.engine === 'postgres')!;
const work = mkdtempSync(join(tmpdir(), 'omm-pgdumppriv-'));

describe('backup privileges on PostgreSQL, checked by preflight before the dump', () => {
  let db: ScratchDatabase;
  before(async () => {
    db = await createScratchDatabase(pgServer, 'omm_pgdp');
    const app = await connect(db.appSpec);
    try {
      await app.knex.raw('CREATE TABLE entity (id int PRIMARY KEY)');
    } finally {
      await app.close();
    }
  });
  after(async () => {
    await db.drop();
    rmSync(work, { recursive: true, force: true });
  });

  it('the owner reading only its own tables: nothing to report', async () => {
    assert.deepEqual(await problemsOf(db.appSpec), []);
  });

  it('a table and a sequence of another role: pg_dump fails, preflight blocks naming them, the GRANTs it prints fix it', async () => {
    await db.root.knex.raw('CREATE TABLE audit_by_dba (id serial PRIMARY KEY, note text)');
    await assert.rejects(backup(db.appSpec, join(work, 'denied')), (e: unknown) => isOmMigrateError(e) && e.code === 'BACKUP_FAILED'
      && /permission denied/.test(`${e.message} ${e.hint ?? ''}`), 'the premise: the real pg_dump stops');

    const { args, env } = omArgs(db.appSpec);
    const r = await runCli(['preflight', '--json', '--backup-dir', join(work, 'pf'), ...args], { env });
    const findings = (JSON.parse(r.stdout) as { result: { findings: Array<{ gate: string; severity: string; summary: string; fix?: string }> } }).result.findings;
    const f = findings.find((x) => x.gate === 'backup' && /permission denied/.test(x.summary));
    assert.equal(f?.severity, 'block', JSON.stringify(findings.filter((x) => x.gate === 'backup')));
    assert.match(f!.summary, /public\.audit_by_dba, public\.audit_by_dba_id_seq/);
    assert.equal(r.code, 4, r.stderr);

    await runPrintedGrants(db, f!.fix!);
    assert.deepEqual(await problemsOf(db.appSpec), []);
    assert.ok((await backup(db.appSpec, join(work, 'granted'))).bytes > 0);
  });
});
