import { describeSpec, type ConnectionSpec, type TargetRole } from '../config/ConnectionSpec.js';
import type { RunConfig } from '../config/resolveConfig.js';
import { connect } from '../dialects/connect.js';
import { isConnectionLoss } from '../dialects/connectionErrors.js';
import type { Dialect, RoomExposure } from '../dialects/types.js';
import { isOmMigrateError, OmMigrateError } from '../errors.js';
import type { ConnectedTarget, OpenedTargets, TargetFailure } from '../core/Target.js';

export type { OpenedTargets, TargetFailure } from '../core/Target.js';

export function configuredTargets(config: RunConfig): Array<{ role: TargetRole; spec: ConnectionSpec }> {
  const list: Array<{ role: TargetRole; spec: ConnectionSpec }> = [];
  if (config.openmetadata) list.push({ role: 'openmetadata', spec: config.openmetadata });
  if (config.airflow) list.push({ role: 'airflow', spec: config.airflow });
  return list;
}

/** Connects to every configured database; a failure is recorded per target, not thrown, so preflight reports all. */
export async function openTargets(config: RunConfig, purpose = 'run'): Promise<OpenedTargets> {
  const targets: ConnectedTarget[] = [];
  const failures: TargetFailure[] = [];
  for (const { role, spec } of configuredTargets(config)) {
    try {
      const dialect = await connect(spec, { purpose, timeoutMs: config.connectTimeoutMs });
      targets.push({ role, spec, dialect, server: await dialect.serverInfo(), privileges: await dialect.privileges() });
    } catch (error) {
      if (!isOmMigrateError(error)) throw error;
      failures.push({ role, spec, error });
    }
  }
  const admins = new Map<string, Promise<Dialect>>();
  const verified = new Map<ConnectedTarget, Promise<Dialect | undefined>>();
  const open = (spec: ConnectionSpec): Promise<Dialect> => {
    const key = `${spec.engine}://${spec.user}@${spec.host}:${spec.port}/${spec.database}`;
    if (!admins.has(key)) admins.set(key, connect(spec, { purpose: `${purpose}-admin`, timeoutMs: config.connectTimeoutMs, room: 'admin' }));
    return admins.get(key)!;
  };
  return {
    targets,
    failures,
    adminFor(target) {
      if (!verified.has(target)) verified.set(target, verifiedAdmin(config, target, open));
      return verified.get(target)!;
    },
    async close() {
      const all = [...targets.map((t) => t.dialect), ...(await Promise.allSettled(admins.values()))
        .flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []))];
      await Promise.allSettled(all.map((d) => d.close()));
    },
  };
}

/**
 * The verified admin connection of one target, opened on its own (repair-airflow, which opens no other targets); the
 * caller closes it. undefined when no admin URL applies.
 */
export async function openVerifiedAdmin(config: RunConfig, target: ConnectedTarget, purpose: string): Promise<Dialect | undefined> {
  const opened: Dialect[] = [];
  const open = async (spec: ConnectionSpec): Promise<Dialect> => {
    const dialect = await connect(spec, { purpose: `${purpose}-admin`, timeoutMs: config.connectTimeoutMs, room: 'admin' });
    opened.push(dialect);
    return dialect;
  };
  let admin: Dialect | undefined;
  try {
    admin = await verifiedAdmin(config, target, open);
    return admin;
  } finally {
    await Promise.allSettled(opened.filter((d) => d !== admin).map((d) => d.close()));
  }
}

/**
 * The admin connection of a target, once it is proven to reach the target's own server (the target's session takes a
 * marker only a session of the same server can see) and to sit in a room the application user cannot shape. An admin
 * URL for another server (or the other engine) would change the wrong server's globals, so it blocks, naming both;
 * the only exception is --admin-url meeting an Airflow database on another server when there is an OpenMetadata
 * database too, which simply has no admin connection. An application account that could write or create the admin's
 * journal, or owns the database the admin's session sits in, blocks too, naming the grant to remove: the admin would
 * otherwise read, and run, what that account wrote.
 */
async function verifiedAdmin(config: RunConfig, target: ConnectedTarget, open: (spec: ConnectionSpec) => Promise<Dialect>): Promise<Dialect | undefined> {
  const chosen = adminSpecFor(config, target);
  if (!chosen) return undefined;
  const { spec, optional } = chosen;
  if (spec.engine !== target.spec.engine) {
    if (optional) return undefined;
    throw new OmMigrateError('BLOCKED', `${spec.source} is a ${engineName(spec)} URL, but the ${target.role} database is ${engineName(target.spec)}: `
      + `${describeSpec(target.spec)}`, { hint: `Give ${spec.source} for the ${target.role} database's own server.` });
  }
  const admin = await open(spec);
  const marker = await target.dialect.probe.mark();
  let same: boolean;
  try {
    same = await admin.probe.sees(marker);
  } finally {
    await target.dialect.probe.unmark(marker.token).catch(() => undefined);
  }
  if (!same) {
    if (optional) return undefined;
    const [mine, theirs] = await Promise.all([target.dialect.params.serverIdentity(), admin.params.serverIdentity()]);
    throw mismatch(spec, target, theirs, mine);
  }
  let exposure: RoomExposure;
  try {
    exposure = await admin.exposureTo(target.dialect);
  } catch (error) {
    if (isOmMigrateError(error) || isConnectionLoss(error)) throw error;
    // Not proven is not trusted: the admin connection is not used.
    throw new OmMigrateError('BLOCKED', `${target.role}: could not read what ${target.spec.user} may do on the server, so ${spec.source} `
      + `cannot be trusted to read its journal: ${String((error as Error)?.message ?? error).split('\n')[0]}; nothing was changed`, {
      hint: 'Run with --verbose for the server\'s message; om-migrate uses the admin connection only once it has read the application user\'s grants.',
      cause: error,
    });
  }
  if (exposure.problems.length > 0) throw exposed(spec, target, exposure);
  return admin;
}

function exposed(spec: ConnectionSpec, target: ConnectedTarget, exposure: RoomExposure): OmMigrateError {
  return new OmMigrateError('BLOCKED',
    `${target.role}: ${exposure.account} could shape what the admin connection (${spec.source}) reads and runs: `
    + `${exposure.problems.map((p) => p.problem).join('; ')}; nothing was changed`, {
      hint: `${exposure.problems.map((p) => p.fix).join(' ')} om-migrate never lets the admin read what the application user could have written.`,
      details: { target: target.role, account: exposure.account, problems: exposure.problems },
    });
}

function mismatch(spec: ConnectionSpec, target: ConnectedTarget, theirs: string, mine: string): OmMigrateError {
  return new OmMigrateError('BLOCKED',
    `${spec.source} reaches another server than the ${target.role} database: ${describeSpec(spec)} is ${theirs}, `
    + `${describeSpec(target.spec)} is ${mine}; nothing was changed`,
    { hint: `Point ${spec.source} at the server that holds ${target.spec.database}, or leave it out.`,
      details: { target: target.role, adminServer: theirs, targetServer: mine } });
}

function engineName(spec: ConnectionSpec): string {
  return spec.engine === 'mysql' ? 'MySQL/MariaDB' : 'PostgreSQL';
}

/**
 * The admin connection spec for a target: --admin-url for OpenMetadata; for Airflow --airflow-admin-url, else
 * --admin-url, which is optional there when an OpenMetadata database is configured too (it may be another server).
 * It never connects to the target's database, whose owner shapes every session there (PostgreSQL's ALTER DATABASE …
 * SET search_path / role): PostgreSQL's admin session sits in the database the URL names, or `postgres`; MySQL's in
 * none (it names om-migrate's own database wherever it uses it).
 */
export function adminSpecFor(config: RunConfig, target: { role: TargetRole; spec: ConnectionSpec }): { spec: ConnectionSpec; optional: boolean } | undefined {
  let admin = config.admin;
  let optional = false;
  if (target.role === 'airflow') {
    admin = config.airflowAdmin ?? config.admin;
    optional = config.airflowAdmin === undefined && config.openmetadata !== undefined;
  }
  if (!admin) return undefined;
  return { spec: { ...admin, database: admin.engine === 'postgres' ? admin.database || 'postgres' : '' }, optional };
}
