// om-migrate's Helm post-renderer for OpenMetadata's chart (charts/openmetadata of open-metadata/openmetadata-helm-charts).
// Helm hands it the rendered manifests on standard input and installs what it prints. It finds the server Deployment
// by the chart's own migration init container, `run-db-migrations`, and puts om-migrate in front of it:
//
// - an init container `om-migrate`, right before `run-db-migrations`, that is a copy of it (same envFrom, env,
//   volumeMounts, securityContext, resources, pull policy: whatever the chart rendered from your values, at whatever
//   chart version) with om-migrate's image of the same tag, the command `om-migrate entrypoint -- true`, the admin URL
//   file and the backup directory added. OpenMetadata's own migrator, run by om-migrate, sees exactly what the chart
//   gives `run-db-migrations`; `run-db-migrations` then finds nothing pending.
// - the pod's volumes, image pull secrets and fsGroup gain what om-migrate needs, after yours (nothing is replaced);
// - the Deployment's strategy becomes Recreate: every old server pod is gone before the new pod's om-migrate backs up
//   and migrates (releases such as 1.13.0 must migrate with every OpenMetadata server stopped), and the backup claim is
//   free to attach on whichever node the new pod lands;
// - progressDeadlineSeconds is raised to the migration's budget, so a long migration is not reported as a stuck rollout.
//
// Why a post-renderer (docs/facts/deploy.md): the chart renders `preMigrateInitContainers` verbatim, so values cannot
// give an extra init container the chart's computed environment; it has no value for the Deployment's strategy; and
// Helm replaces lists from a second values file (extraVolumes…) instead of adding to them.
//
// Helm 3: --post-renderer path/to/om-migrate-post-renderer --post-renderer-args --image=REPOSITORY
// Helm 4: helm plugin install path/to/om-migrate-post-renderer; --post-renderer om-migrate --post-renderer-args …
// Arguments (each one --post-renderer-args): see USAGE below. Needs Node.js 20 and this repository's node_modules
// (`npm ci`), for the yaml package.
import { readFileSync } from 'node:fs';
import { parseDocument, stringify } from 'yaml';

const USAGE = `om-migrate post-renderer arguments (each one after --post-renderer-args):
  --image=REPOSITORY          om-migrate's layered server image, without a tag (required); the tag is the chart's server tag
  --admin-secret=NAME         Secret holding the admin URL under the key admin-url (default om-migrate-admin)
  --backup-claim=NAME         PersistentVolumeClaim for the backups (default om-migrate-backups)
  --shared-backup-claim       the claim is ReadWriteMany: allow more than one server replica
  --pull-secret=NAME          add an image pull secret for the om-migrate image (repeatable)
  --lock-timeout=DURATION     how long a pod waits for another pod's run (default 10m)
  --migration-deadline=SECONDS  the rollout's progress deadline while it migrates (default 21600, om-migrate's 6h step timeout)
  --fs-group=GID              pod fsGroup when the chart sets none (default 1000, the openmetadata user's group)`;

const RUN_DB_MIGRATIONS = 'run-db-migrations';
const BACKUP_DIR = '/var/lib/om-migrate/backups';
const ADMIN_DIR = '/etc/om-migrate/admin';

/** @param {string[]} argv */
function parseArgs(argv) {
  const options = { image: '', adminSecret: 'om-migrate-admin', backupClaim: 'om-migrate-backups', sharedBackupClaim: false,
    pullSecrets: /** @type {string[]} */ ([]), lockTimeout: '10m', migrationDeadline: 21600, fsGroup: 1000 };
  const dns = /^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/;
  for (const arg of argv) {
    const m = /^--([a-z-]+)(?:=(.*))?$/.exec(arg);
    if (!m) throw new Error(`unknown argument ${JSON.stringify(arg)}`);
    const [, name, value] = m;
    const need = () => {
      if (value === undefined || value === '') throw new Error(`--${name} needs a value (--${name}=…)`);
      return value;
    };
    switch (name) {
      case 'image': options.image = need(); break;
      case 'admin-secret': options.adminSecret = need(); break;
      case 'backup-claim': options.backupClaim = need(); break;
      case 'shared-backup-claim': options.sharedBackupClaim = true; break;
      case 'pull-secret': options.pullSecrets.push(need()); break;
      case 'lock-timeout': options.lockTimeout = need(); break;
      case 'migration-deadline': options.migrationDeadline = Number(need()); break;
      case 'fs-group': options.fsGroup = Number(need()); break;
      default: throw new Error(`unknown argument --${name}`);
    }
  }
  if (!options.image) throw new Error('--image=REPOSITORY is required (om-migrate\'s layered server image, e.g. registry.example.com/om-migrate/server)');
  if (/[@\s]/.test(options.image) || /:[^/]*$/.test(options.image)) {
    throw new Error(`--image=${options.image}: give the repository without a tag or digest; the tag is the chart's own server tag`);
  }
  for (const [what, name] of [['--admin-secret', options.adminSecret], ['--backup-claim', options.backupClaim], ...options.pullSecrets.map((p) => ['--pull-secret', p])]) {
    if (!dns.test(name)) throw new Error(`${what}=${name} is not a Kubernetes object name`);
  }
  if (!/^\d+(ms|s|m|h)$/.test(options.lockTimeout)) throw new Error(`--lock-timeout=${options.lockTimeout}: a duration such as 10m`);
  if (!Number.isInteger(options.migrationDeadline) || options.migrationDeadline < 600) throw new Error('--migration-deadline: whole seconds, at least 600 (Kubernetes\' default)');
  if (!Number.isInteger(options.fsGroup) || options.fsGroup < 0) throw new Error('--fs-group: a numeric group id');
  return options;
}

/** The tag of an image reference (registry ports and paths aside); digests are refused: the tag names the release. */
function tagOf(image) {
  if (image.includes('@')) throw new Error(`${RUN_DB_MIGRATIONS} uses ${image}, pinned by digest: om-migrate's image is chosen by the release tag, so pin image.tag instead`);
  const m = /:([^/:]+)$/.exec(image);
  if (!m) throw new Error(`${RUN_DB_MIGRATIONS} uses ${image} without a tag`);
  return m[1];
}

/** Adds `items` after `list`'s own entries, refusing a name the list already has (Kubernetes would reject the pod). */
function append(list, items, what) {
  const out = Array.isArray(list) ? [...list] : [];
  for (const item of items) {
    if (out.some((x) => x?.name === item.name)) throw new Error(`${what} already has an entry named ${item.name}: om-migrate adds om-migrate-admin and om-migrate-backups; rename yours`);
    out.push(item);
  }
  return out;
}

/** Rewrites the one Deployment that carries run-db-migrations; throws with a reason when the manifests are not the chart's. */
function postRender(text, options) {
  // Split where Helm joins its documents (a line that is only ---), so that every document but the one rewritten goes
  // out exactly as Helm rendered it, comments included.
  const chunks = text.split(/^---[ \t]*$/m);
  const objects = chunks.map((chunk, i) => {
    const doc = parseDocument(chunk, { version: '1.1' });
    if (doc.errors.length > 0) throw new Error(`rendered document ${i} is not YAML: ${doc.errors[0].message}`);
    return doc.toJS();
  });
  const targets = objects.map((o, i) => [o, i]).filter(([o]) => o?.kind === 'Deployment'
    && (o.spec?.template?.spec?.initContainers ?? []).some((c) => c?.name === RUN_DB_MIGRATIONS));
  if (targets.length !== 1) {
    throw new Error(targets.length === 0
      ? `no Deployment with an init container named ${RUN_DB_MIGRATIONS}: this is not OpenMetadata's chart (charts/openmetadata), or its shape changed`
      : `${targets.length} Deployments carry ${RUN_DB_MIGRATIONS}; expected OpenMetadata's one server Deployment`);
  }
  const [deployment, index] = targets[0];
  const name = deployment.metadata?.name;
  const autoscaled = objects.some((o) => o?.kind === 'HorizontalPodAutoscaler' && o.spec?.scaleTargetRef?.kind === 'Deployment' && o.spec.scaleTargetRef.name === name);
  const replicas = deployment.spec.replicas ?? 1;
  if ((replicas > 1 || autoscaled) && !options.sharedBackupClaim) {
    throw new Error(`Deployment ${name} runs ${autoscaled ? 'under a HorizontalPodAutoscaler' : `${replicas} replicas`}: every pod mounts the backup claim, `
      + 'and a ReadWriteOnce claim attaches to one node only. Give the claim a ReadWriteMany storage class and pass --shared-backup-claim, or run one replica.');
  }

  const pod = deployment.spec.template.spec;
  const inits = pod.initContainers;
  const at = inits.findIndex((c) => c.name === RUN_DB_MIGRATIONS);
  const stock = inits[at];
  if (inits.some((c) => c.name === 'om-migrate')) throw new Error(`Deployment ${name} already has an init container named om-migrate (post-rendered twice, or one from values): remove it from preMigrateInitContainers`);

  const ours = [
    { name: 'OM_MIGRATE_ADMIN_URL_FILE', value: `${ADMIN_DIR}/admin-url` },
    { name: 'OM_MIGRATE_BACKUP_DIR', value: BACKUP_DIR },
    { name: 'OM_MIGRATE_LOCK_TIMEOUT', value: options.lockTimeout },
    { name: 'OM_MIGRATE_YES', value: '1' },
  ];
  const env = Array.isArray(stock.env) ? structuredClone(stock.env) : [];
  // An OM_MIGRATE_* the operator gave the chart (extraEnvs) wins: it is already in the copied list.
  for (const e of ours) if (!env.some((x) => x?.name === e.name)) env.push(e);

  /** @type {Record<string, unknown>} */
  const omMigrate = { ...structuredClone(stock), name: 'om-migrate', image: `${options.image}:${tagOf(stock.image)}` };
  delete omMigrate.args;
  omMigrate.command = ['om-migrate', 'entrypoint', '--', 'true'];
  omMigrate.env = env;
  omMigrate.volumeMounts = append(stock.volumeMounts, [
    { name: 'om-migrate-admin', mountPath: ADMIN_DIR, readOnly: true },
    { name: 'om-migrate-backups', mountPath: BACKUP_DIR },
  ], `${RUN_DB_MIGRATIONS}'s volumeMounts`);
  pod.initContainers = [...inits.slice(0, at), omMigrate, ...inits.slice(at)];

  pod.volumes = append(pod.volumes, [
    { name: 'om-migrate-admin', secret: { secretName: options.adminSecret, defaultMode: 0o440, items: [{ key: 'admin-url', path: 'admin-url' }] } },
    { name: 'om-migrate-backups', persistentVolumeClaim: { claimName: options.backupClaim } },
  ], 'the pod\'s volumes');
  if (options.pullSecrets.length > 0) {
    const have = new Set((pod.imagePullSecrets ?? []).map((s) => s?.name));
    pod.imagePullSecrets = [...(pod.imagePullSecrets ?? []), ...options.pullSecrets.filter((s) => !have.has(s)).map((s) => ({ name: s }))];
  }
  pod.securityContext = pod.securityContext ?? {};
  if (pod.securityContext.fsGroup === undefined) pod.securityContext.fsGroup = options.fsGroup;

  deployment.spec.strategy = { type: 'Recreate' };
  deployment.spec.progressDeadlineSeconds = Math.max(deployment.spec.progressDeadlineSeconds ?? 600, options.migrationDeadline);

  const source = /^(\s*#[^\n]*\n)*/.exec(chunks[index].replace(/^\n/, ''))[0];
  chunks[index] = `\n${source}${stringify(deployment, { version: '1.1', lineWidth: 0, aliasDuplicateObjects: false })}`;
  return chunks.join('---');
}

function main() {
  let options;
  try {
    options = parseArgs(process.argv.slice(2));
  } catch (error) {
    process.stderr.write(`om-migrate post-renderer: ${error.message}\n${USAGE}\n`);
    process.exit(2);
  }
  try {
    process.stdout.write(postRender(readFileSync(0, 'utf8'), options));
  } catch (error) {
    process.stderr.write(`om-migrate post-renderer: ${error.message}\n`);
    process.exit(1);
  }
}

main();
