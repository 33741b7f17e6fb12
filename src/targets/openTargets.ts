import type { ConnectionSpec, TargetRole } from '../config/ConnectionSpec.js';
import type { RunConfig } from '../config/resolveConfig.js';
import { connect } from '../dialects/connect.js';
import type { Dialect } from '../dialects/types.js';
import { isOmMigrateError } from '../errors.js';
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
  return {
    targets,
    failures,
    async adminFor(target) {
      const spec = adminSpecFor(config, target);
      if (!spec) return undefined;
      const key = `${spec.host}:${spec.port}/${spec.database}`;
      if (!admins.has(key)) admins.set(key, connect(spec, { purpose: `${purpose}-admin`, timeoutMs: config.connectTimeoutMs }));
      return admins.get(key);
    },
    async close() {
      const all = [...targets.map((t) => t.dialect), ...(await Promise.allSettled(admins.values()))
        .flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []))];
      await Promise.allSettled(all.map((d) => d.close()));
    },
  };
}

/**
 * The admin connection for a target: --admin-url for OpenMetadata; for Airflow --airflow-admin-url, else --admin-url
 * when it points at the Airflow server (or there is no OpenMetadata database). It connects to the target's database
 * unless the URL names one.
 */
export function adminSpecFor(config: RunConfig, target: { role: TargetRole; spec: ConnectionSpec }): ConnectionSpec | undefined {
  let admin = config.admin;
  if (target.role === 'airflow') {
    const sameServer = admin !== undefined && admin.host === target.spec.host && admin.port === target.spec.port;
    admin = config.airflowAdmin ?? (sameServer || !config.openmetadata ? config.admin : undefined);
  }
  if (!admin || admin.engine !== target.spec.engine) return undefined;
  return { ...admin, database: admin.database || target.spec.database };
}
