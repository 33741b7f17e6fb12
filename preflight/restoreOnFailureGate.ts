import { finding, type Finding, type Gate, type GateContext } from '../src/core/Gate.js';

const GATE = 'restore-on-failure';

/**
 * With --restore-on-failure, everything a restore after a failed step needs, checked before anything changes (a block
 * here stops up with nothing changed): the admin connection that makes, swaps and drops the scratch copy, and its
 * privileges to do so; the restore client for this server; a database the swap can carry whole (MySQL's RENAME TABLE
 * moves base tables only). The second copy is made on the database server: its room there cannot be read over SQL, so
 * the size it needs is said.
 */
export const restoreOnFailureGate: Gate = {
  id: GATE,
  title: 'Restore on failure',
  async check(ctx: GateContext): Promise<Finding[]> {
    if (!ctx.config.restoreOnFailure || (ctx.command !== 'up' && ctx.command !== 'preflight')) return [];
    const findings: Finding[] = [];
    for (const t of ctx.targets) {
      const database = t.spec.database;
      const admin = await ctx.adminFor(t);
      if (!admin) {
        findings.push(finding(GATE, t.role, 'block', `--restore-on-failure restores ${database} into a scratch database and swaps it in through the admin connection, and none is configured`,
          'Give --admin-url (OM_MIGRATE_ADMIN_URL) an account that may create, rename and drop databases, or leave --restore-on-failure out.'));
        continue;
      }
      const create = await admin.scratch.canCreate(await t.dialect.scratch.account());
      if (!create.ok) {
        findings.push(finding(GATE, t.role, 'block', `cannot make the scratch copy of ${database}: ${create.summary}`,
          'Grant the admin account CREATE, DROP and GRANT OPTION on *.* (MySQL) or CREATEDB and membership of the application role (PostgreSQL).'));
      }
      const swap = await admin.swap.canSwap(database);
      if (!swap.ok) {
        findings.push(finding(GATE, t.role, 'block', `cannot swap a restored ${database} in: ${swap.summary}`,
          'Give --admin-url a superuser, or grant what the summary names.'));
      }
      const left = await admin.swap.notCarried(database);
      if (left.length > 0) {
        findings.push(finding(GATE, t.role, 'block', `${database} has ${left.join(', ')}: the swap (one RENAME TABLE) moves base tables only, so a restore could not be made whole`,
          'Leave --restore-on-failure out and restore by hand from the backup if the upgrade fails.', { notCarried: left }));
      }
      const tool = t.dialect.dumpTool.locateRestore(t.server, ctx.config.env, { pgBinDir: ctx.config.pgBinDir });
      if (tool.problem || !tool.path) {
        findings.push(finding(GATE, t.role, 'block', `the restore client is missing: ${tool.problem ?? `${tool.name} not found`}`, tool.fix));
      }
      // The swap refuses while the application is connected (a server would write into either state): said now, checked then.
      const others = await t.dialect.sessions.othersOf(t.spec.user);
      if (others.length > 0) {
        findings.push(finding(GATE, t.role, 'warn', `${others.length} other session(s) of ${t.spec.user} on ${database}: if a step fails, the restore will not swap while any is connected`,
          'Stop every server and worker that uses this database before up (the restore then exits 17 and leaves the failed state instead).', { sessions: others.length }));
      }
      const bytes = await t.dialect.introspect.databaseSizeBytes();
      const ready = findings.every((f) => f.target !== t.role || f.severity !== 'block');
      if (ready) {
        findings.push(finding(GATE, t.role, 'ok',
          `a failed step would restore ${database} from this run's backup into a scratch copy on its server (about ${ctx.tools.formatBytes(bytes)} more there; `
            + `its free space cannot be read over SQL), verify it and swap it in; ${create.summary}; ${swap.summary}; ${tool.name} found`,
          undefined, { databaseBytes: bytes }));
      }
    }
    return findings;
  },
};
