import assert from 'node:assert/strict';
import { chmodSync, chownSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { connect } from '../../../src/dialects/connect.js';
import type { JournalEntry } from '../../../src/dialects/types.js';
import { journalFilePath } from '../../../src/params/FileJournalStore.js';
import type { UpScenario } from '../../fixtures/upScenario.js';
import { startEmbeddedPostgres, type EmbeddedPostgres } from '../../helpers/embeddedPostgres.js';
import { backupFiles, ledgerRows, runCli, upTestServers } from '../../helpers/upHarness.js';

/**
 * The fallback journal is a file under --journal-dir, and its entries made through the admin connection are put back
 * through the admin connection. Another local user (uid 65534 here) plants one in a shared directory: it must never be
 * read, let alone run — the directory and the file are checked when reading, not only when writing (issue 21, point 4).
 * Each planted entry passes every check of its values: it would have the admin lower the server's sort buffer to 32 KB
 * (MySQL 8 then fails sorts with "Out of sort memory") or work_mem to 64 kB. Throw-away servers only.
 */
const { engines, scenario } = upTestServers();
let embedded: EmbeddedPostgres | undefined;
const top = mkdtempSync(join(tmpdir(), 'omm-planted-journal-'));
before(async () => {
  embedded = await startEmbeddedPostgres(14);
});
after(async () => {
  await embedded?.stop();
  rmSync(top, { recursive: true, force: true });
});

const NOBODY = 65534;

/** What the admin would set back, read through the server's superuser. */
async function liveValue(sc: UpScenario): Promise<string> {
  const root = await connect(sc.server.admin);
  try {
    if (sc.server.engine === 'mysql') return String((await root.knex.raw('SELECT @@GLOBAL.sort_buffer_size AS v'))[0][0].v);
    return JSON.stringify((await root.knex.raw("SELECT setting, sourcefile FROM pg_file_settings WHERE name = 'work_mem'")).rows);
  } finally {
    await root.close();
  }
}

/** The entry a careless or hostile neighbour writes: well-formed, for this very server and database, made "by the admin". */
async function plantedEntry(sc: UpScenario): Promise<JournalEntry> {
  const app = await connect(sc.om.appSpec);
  try {
    const server = await app.params.serverIdentity();
    const at = new Date(Date.now() - 3600_000).toISOString();
    const base = { id: 'planted:file', runId: 'planted-run', database: sc.om.name, server, via: 'admin' as const, status: 'applied' as const,
      holder: 'om-migrate up pid=1 host=elsewhere', createdAt: at, updatedAt: at, note: null };
    if (sc.server.engine === 'mysql') {
      const live = String(await app.params.sortMemoryBytes());
      return { ...base, parameter: 'sort_buffer_size', scope: 'global', object: null, previous: '32768', next: live };
    }
    return { ...base, parameter: 'work_mem', scope: 'system', object: null, previous: '64kB', next: '4096kB' };
  } finally {
    await app.close();
  }
}

const servers = () => [
  { label: engines[0].label, server: engines[0].server },
  { label: 'embedded PostgreSQL 14', server: () => embedded!.server },
];

for (const s of servers()) {
  describe(`a journal file planted by another local user: ${s.label}`, () => {
    for (const layout of ['a shared directory (1777)', 'a directory another user owns (0755)'] as const) {
      it(`in ${layout}: revert-params, status and up refuse to read it, and the admin changes nothing`, async () => {
        const sc = await scenario(s.server());
        if (sc.server.engine === 'postgres') {
          const root = await connect(sc.server.admin);
          try {
            await root.knex.raw("ALTER SYSTEM SET work_mem = '4096kB'");
            await root.knex.raw('SELECT pg_reload_conf()');
          } finally {
            await root.close();
          }
        }
        const dir = join(top, `${sc.om.name}-${layout.includes('1777') ? 'shared' : 'theirs'}`);
        mkdirSync(dir);
        const file = journalFilePath(dir, sc.om.appSpec);
        writeFileSync(file, `${JSON.stringify([await plantedEntry(sc)], null, 2)}\n`, { mode: 0o644 });
        chownSync(file, NOBODY, NOBODY);
        if (layout.includes('1777')) chmodSync(dir, 0o1777);
        else {
          chmodSync(dir, 0o755);
          chownSync(dir, NOBODY, NOBODY);
        }
        const before = await liveValue(sc);
        const env = { OM_MIGRATE_JOURNAL_DIR: dir };
        for (const args of [['revert-params'], ['status'], ['up']]) {
          const run = await runCli(sc, args, env);
          assert.equal(await liveValue(sc), before, `${args[0]}: the admin put nothing "back"\n${run.stdout}${run.stderr}`);
          assert.equal(run.code, 4, `${args[0]}: ${run.stdout}${run.stderr}`);
          assert.match(run.stderr, new RegExp(`the journal file ${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} cannot be trusted: `));
          assert.match(run.stderr, layout.includes('1777') ? /is writable by every user \(mode 1777\)/ : /is owned by uid 65534, not by this user/);
          assert.match(run.stderr, /fix: Give --journal-dir \(OM_MIGRATE_JOURNAL_DIR\) a directory of your own/);
        }
        assert.equal(await ledgerRows(sc), undefined, 'up stopped before it changed anything');
        assert.deepEqual(backupFiles(sc), []);
      });
    }
  });
}
