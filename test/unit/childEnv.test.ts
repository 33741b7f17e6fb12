import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { resolveConfig } from '../../src/config/resolveConfig.js';
import { childEnvironment } from '../../src/process/childEnv.js';
import { NO_SECRETS } from '../../src/process/redact.js';
import { runMigrator } from '../../src/steps/runMigrator.js';
import { sources, withoutComments } from '../helpers/sources.js';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));

/**
 * Issue 23, point 5: a child's environment is made from the environment the configuration was resolved from, never
 * from process.env, and by one function (src/process/childEnv.ts) that keeps om-migrate's own settings from every child.
 */
describe('childEnvironment', () => {
  const base = { PATH: '/bin', HOME: '/home/x', LC_ALL: 'C', PGSSLMODE: 'require', FERNET_KEY: 'k', DB_HOST: 'h',
    OM_MIGRATE_ADMIN_URL: 'mysql://root:pw@db/', OM_MIGRATE_X: 'y', UNSET: undefined };

  it('gives a migrator everything but om-migrate\'s own settings, with its own variables over it', () => {
    assert.deepEqual({ ...childEnvironment(base, 'all-but-own', { DB_HOST: 'checked', DB_PORT: '3306' }) },
      { PATH: '/bin', HOME: '/home/x', LC_ALL: 'C', PGSSLMODE: 'require', FERNET_KEY: 'k', DB_HOST: 'checked', DB_PORT: '3306' });
  });

  it('gives a stock tool only what it needs to run, and its password', () => {
    assert.deepEqual({ ...childEnvironment(base, 'tool-basics', { PGPASSWORD: 'p' }) },
      { PATH: '/bin', HOME: '/home/x', LC_ALL: 'C', PGSSLMODE: 'require', PGPASSWORD: 'p' });
  });
});

describe('a migrator\'s environment comes from the resolved configuration', () => {
  const ONLY_IN_PROCESS = 'OMM_TEST_ONLY_IN_PROCESS_ENV';
  before(() => {
    process.env[ONLY_IN_PROCESS] = 'leaked';
  });
  after(() => {
    delete process.env[ONLY_IN_PROCESS];
  });

  it('a real child sees the given environment\'s marker, not a variable only process.env has, nor OM_MIGRATE_*', async () => {
    const given = { PATH: process.env.PATH, OMM_MARKER: 'from-the-given-env', OM_MIGRATE_ADMIN_URL: 'mysql://root:s3cret@db:3306/' };
    const config = resolveConfig({ dbHost: 'db.example', dbUser: 'om', database: 'om_db' }, given);
    given.OMM_MARKER = 'changed-after-resolving';
    assert.ok(Object.isFrozen(config.env));
    const lines: string[] = [];
    const script = `for v in OMM_MARKER ${ONLY_IN_PROCESS} OM_MIGRATE_ADMIN_URL DB_HOST OM_DATABASE; do eval "echo $v=\\\${$v-unset}"; done`;
    const exit = await runMigrator({ role: 'openmetadata', argv: ['/bin/sh', '-c', script], label: 'env probe' }, {
      target: { role: 'openmetadata', spec: config.openmetadata! }, env: config.env, redactor: NO_SECRETS,
      signal: new AbortController().signal, timeoutMs: 10_000, onLine: (line) => lines.push(line),
    });
    assert.equal(exit.code, 0, exit.tail);
    assert.deepEqual(lines, [
      'OMM_MARKER=from-the-given-env',
      `${ONLY_IN_PROCESS}=unset`,
      'OM_MIGRATE_ADMIN_URL=unset',
      'DB_HOST=db.example',
      'OM_DATABASE=om_db',
    ]);
  });
});

describe('every spawn', () => {
  it('gets its environment from childEnvironment (spawnChild takes only a ChildEnvironment)', () => {
    const spawning = ['src', 'preflight', 'migrations'].flatMap((d) => sources(join(ROOT, d)))
      .map((file) => ({ file: relative(ROOT, file), text: withoutComments(readFileSync(file, 'utf8')) }))
      .filter(({ text }) => /from 'node:child_process'/.test(text));
    assert.ok(spawning.some((f) => f.file.endsWith('src/process/spawnChild.ts')));
    // The supervisor's child inherits the supervisor's environment, which spawnChild made with childEnvironment.
    const unbuilt = spawning.filter(({ file, text }) => !file.endsWith('src/process/supervisor.ts')
      && !/\bchildEnvironment\(|: ChildEnvironment\b/.test(text));
    assert.deepEqual(unbuilt.map((f) => f.file), []);
  });
});
