import { describeSpec, type ConnectionSpec, type TargetRole } from '../config/ConnectionSpec.js';
import type { RunConfig } from '../config/resolveConfig.js';
import { connect } from '../dialects/connect.js';
import type { Dialect } from '../dialects/types.js';
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
    if (!admins.has(key)) admins.set(key, connect(spec, { purpose: `${purpose}-admin`, timeoutMs: config.connectTimeoutMs }));
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
    const dialect = await connect(spec, { purpose: `${purpose}-admin`, timeoutMs: config.connectTimeoutMs });
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
 * The admin connection of a target, once it is proven to reach the target's own server: the target's session takes a
 * marker only a session of the same server can see. An admin URL for another server (or the other engine) would
 * change the wrong server's globals, so it blocks, naming both; the only exception is --admin-url meeting an Airflow
 * database on another server when there is an OpenMetadata database too, which simply has no admin connection.
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
  let admin: Dialect;
  try {
    admin = await open(spec);
  } catch (error) {
    // An admin URL without a database is tried on the target's database; on another server that database is usually
    // missing, and "does not exist" would hide the real mistake: say which server the URL reaches instead.
    if (!isOmMigrateError(error) || error.details?.failure !== 'unknown-database' || chosen.namedDatabase) throw error;
    const elsewhere = await serverOf({ ...spec, database: spec.engine === 'mysql' ? '' : 'postgres' }, open).catch(() => undefined);
    const mine = await target.dialect.params.serverIdentity();
    if (elsewhere === undefined || elsewhere === mine) throw error;
    if (optional) return undefined;
    throw mismatch(spec, target, elsewhere, mine);
  }
  const marker = await target.dialect.probe.mark();
  let same: boolean;
  try {
    same = await admin.probe.sees(marker);
  } finally {
    await target.dialect.probe.unmark(marker.token).catch(() => undefined);
  }
  if (same) return admin;
  if (optional) return undefined;
  const [mine, theirs] = await Promise.all([target.dialect.params.serverIdentity(), admin.params.serverIdentity()]);
  throw mismatch(spec, target, theirs, mine);
}

async function serverOf(spec: ConnectionSpec, open: (spec: ConnectionSpec) => Promise<Dialect>): Promise<string> {
  return (await open(spec)).params.serverIdentity();
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
 * It connects to the target's database unless the URL names one.
 */
export function adminSpecFor(config: RunConfig, target: { role: TargetRole; spec: ConnectionSpec }): { spec: ConnectionSpec; optional: boolean; namedDatabase: boolean } | undefined {
  let admin = config.admin;
  let optional = false;
  if (target.role === 'airflow') {
    admin = config.airflowAdmin ?? config.admin;
    optional = config.airflowAdmin === undefined && config.openmetadata !== undefined;
  }
  if (!admin) return undefined;
  return { spec: { ...admin, database: admin.database || target.spec.database }, optional, namedDatabase: Boolean(admin.database) };
}
