import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'node:test';
import { parse, parseAllDocuments, stringify } from 'yaml';
import { helmBinary, runHelm, type HelmBinary } from '../helpers/helmBinary.js';
import { chartAt, openmetadataChartsGit } from '../helpers/openmetadataChart.js';

/**
 * deploy/helm/: om-migrate's Helm post-renderer for OpenMetadata's chart, the values for openmetadata-dependencies,
 * and the manifests. OpenMetadata's chart is rendered here by the real Helm (3.17.2 with the post-renderer as a path,
 * 4.1.4 with it installed as a plugin) at the chart's release tags, with default values and with values that use every
 * environment source the chart has, and the om-migrate init container is compared with the chart's own
 * run-db-migrations. No cluster here: nothing is applied. YAML is read as Kubernetes reads it (YAML 1.1).
 */
const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const HELM_DIR = `${ROOT}deploy/helm/`;
const PLUGIN_DIR = `${HELM_DIR}om-migrate-post-renderer`;
const RENDERER = `${PLUGIN_DIR}/om-migrate-post-renderer`;
const IMAGE = 'registry.example.com/om-migrate/server';
// The newest chart tags of each line in the snapshot read for docs/facts/deploy.md (no 2.0 chart tag exists there).
const TAGS = ['openmetadata-1.11.13', 'openmetadata-1.12.12', 'openmetadata-1.13.1'];

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Obj = Record<string, any>;
const docsOf = (text: string): Obj[] => parseAllDocuments(text, { version: '1.1' }).map((d) => d.toJS() as Obj).filter((d) => d && typeof d === 'object');
const yaml11 = (text: string): Obj => parse(text, { version: '1.1' }) as Obj;

const helm3 = helmBinary(3);
const helm4 = helmBinary(4);
const git = openmetadataChartsGit();
const skipOf = (...needs: Array<object | string>) => needs.map((n) => (typeof n === 'object' && 'skip' in n ? String(n.skip) : '')).find(Boolean) || false;

/** Values that use every way the chart feeds its migrator: Secrets by reference, extra env/envFrom, a TLS truststore. */
const EVERYTHING: Obj = {
  imagePullSecrets: [{ name: 'my-registry' }],
  podSecurityContext: { fsGroup: 2000, runAsNonRoot: true },
  securityContext: { allowPrivilegeEscalation: false },
  resources: { requests: { cpu: '500m', memory: '1Gi' } },
  extraEnvs: [{ name: 'JAVA_TOOL_OPTIONS', value: '-Djavax.net.ssl.trustStore=/etc/om-tls/truststore.jks' }],
  envFrom: [{ secretRef: { name: 'my-extra-env' } }],
  extraVolumes: [{ name: 'om-tls', secret: { secretName: 'db-truststore' } }],
  extraVolumeMounts: [{ name: 'om-tls', mountPath: '/etc/om-tls', readOnly: true }],
  openmetadata: { config: {
    fernetkey: { value: '', secretRef: 'my-fernet', secretKey: 'FERNET_KEY' },
    elasticsearch: { auth: { enabled: true }, trustStore: { enabled: true, path: '/etc/om-tls/es.jks' } },
    secretsManager: { provider: 'aws', additionalParameters: { enabled: true, region: 'eu-west-1',
      accessKeyId: { secretRef: 'aws-sm', secretKey: 'id' }, secretAccessKey: { secretRef: 'aws-sm', secretKey: 'key' } } },
  } },
};

interface Rendered { objects: Obj[]; text: string }
function render(helm: HelmBinary, chart: string, values: Obj, postRender: string[] | undefined, home: string): Rendered & { status: number | null; stderr: string } {
  const valuesFile = join(home, `values-${Math.random().toString(36).slice(2)}.yaml`);
  writeFileSync(valuesFile, stringify(values));
  const args = ['template', 'openmetadata', chart, '-f', valuesFile, ...(postRender ?? [])];
  const r = runHelm(helm, args, home);
  return { objects: r.status === 0 ? docsOf(r.stdout) : [], text: r.stdout, status: r.status, stderr: r.stderr };
}
const deploymentOf = (objects: Obj[]): Obj => {
  const found = objects.filter((o) => o.kind === 'Deployment' && (o.spec?.template?.spec?.initContainers ?? []).some((c: Obj) => c.name === 'run-db-migrations'));
  assert.equal(found.length, 1, 'one server Deployment');
  return found[0];
};
const initOf = (d: Obj, name: string): Obj => {
  const c = (d.spec.template.spec.initContainers as Obj[]).find((x) => x.name === name);
  assert.ok(c, `init container ${name}`);
  return c;
};
const helm3Args = (extra: string[] = []) => ['--post-renderer', RENDERER, ...['--image=' + IMAGE, ...extra].flatMap((a) => ['--post-renderer-args', a])];
const helm4Args = (extra: string[] = []) => ['--post-renderer', 'om-migrate', ...['--image=' + IMAGE, ...extra].flatMap((a) => ['--post-renderer-args', a])];
const ours = (name: string) => name.startsWith('OM_MIGRATE_');

describe('the post-renderer on OpenMetadata\'s chart, rendered by Helm 3', { skip: skipOf(helm3, git) }, () => {
  for (const tag of TAGS) {
    describe(tag, () => {
      const home = mkdtempSync(join(tmpdir(), 'om-helm3-'));
      const chart = chartAt(git as string, tag);
      const helm = helm3 as HelmBinary;

      for (const [label, values] of [['default values', {}], ['every environment source', EVERYTHING]] as const) {
        it(`${label}: om-migrate runs right before run-db-migrations with exactly its environment, mounts and settings`, () => {
          const plain = render(helm, chart, values, undefined, home);
          const post = render(helm, chart, values, helm3Args(), home);
          assert.equal(plain.status, 0, plain.stderr);
          assert.equal(post.status, 0, post.stderr);
          const before = deploymentOf(plain.objects);
          const after = deploymentOf(post.objects);
          const names = (after.spec.template.spec.initContainers as Obj[]).map((c) => c.name);
          const stockNames = (before.spec.template.spec.initContainers as Obj[]).map((c) => c.name);
          const at = stockNames.indexOf('run-db-migrations');
          assert.deepEqual(names, [...stockNames.slice(0, at), 'om-migrate', ...stockNames.slice(at)], 'inserted before run-db-migrations, nothing else moved');

          const stock = initOf(before, 'run-db-migrations');
          const om = initOf(after, 'om-migrate');
          assert.deepEqual(initOf(after, 'run-db-migrations'), stock, 'run-db-migrations itself is untouched');
          assert.deepEqual(om.envFrom, stock.envFrom, 'envFrom: the same Secrets, in the same order');
          assert.deepEqual((om.env as Obj[]).filter((e) => !ours(e.name)), stock.env ?? [], 'env: the same entries, in the same order');
          assert.deepEqual((om.env as Obj[]).filter((e) => ours(e.name)).map((e) => e.name).sort(),
            ['OM_MIGRATE_ADMIN_URL_FILE', 'OM_MIGRATE_BACKUP_DIR', 'OM_MIGRATE_LOCK_TIMEOUT', 'OM_MIGRATE_YES']);
          assert.ok(!(om.env as Obj[]).some((e) => e.name === 'OM_MIGRATE_BACKUP_KEEP'), 'no pruning: a restarted init container must not remove the pre-upgrade backup');
          assert.deepEqual((om.volumeMounts as Obj[]).slice(0, (stock.volumeMounts ?? []).length), stock.volumeMounts ?? [], "run-db-migrations' mounts first (a TLS truststore)");
          for (const k of ['securityContext', 'resources', 'imagePullPolicy']) assert.deepEqual(om[k], stock[k], k);
          assert.equal(om.image, `${IMAGE}:${String(stock.image).split(':').pop()}`, "om-migrate's image at the chart's server tag");
          assert.deepEqual(om.command, ['om-migrate', 'entrypoint', '--', 'true']);
          assert.equal(om.args, undefined);

          const pod = after.spec.template.spec;
          const stockPod = before.spec.template.spec;
          assert.deepEqual((pod.volumes as Obj[]).slice(0, (stockPod.volumes ?? []).length), stockPod.volumes ?? [], 'your volumes stay, ours are added after them');
          assert.deepEqual((pod.volumes as Obj[]).slice((stockPod.volumes ?? []).length).map((v) => v.name), ['om-migrate-admin', 'om-migrate-backups']);
          assert.deepEqual(pod.imagePullSecrets, stockPod.imagePullSecrets, 'pull secrets: the chart\'s, unchanged when none is added');
          assert.equal(pod.serviceAccountName, stockPod.serviceAccountName, "the chart's service account");
          assert.equal(pod.securityContext.fsGroup, stockPod.securityContext?.fsGroup ?? 1000, 'your fsGroup is kept; 1000 only when none is set');
          assert.deepEqual(after.spec.strategy, { type: 'Recreate' }, 'every old server pod is gone before om-migrate backs up and migrates');
          assert.ok(after.spec.progressDeadlineSeconds >= 21600, 'a long migration is not a stuck rollout');

          // Every other object is exactly what the chart rendered.
          const others = (r: Rendered) => r.objects.filter((o) => o !== deploymentOf(r.objects));
          assert.deepEqual(others(post), others(plain));
        });
      }

      it('every environment source reaches om-migrate: Fernet key, Airflow, search and secrets-manager credentials, extraEnvs, envFrom, the truststore mount', () => {
        const om = initOf(deploymentOf(render(helm, chart, EVERYTHING, helm3Args(), home).objects), 'om-migrate');
        const envNames = (om.env as Obj[]).map((e) => e.name);
        for (const n of ['FERNET_KEY', 'AIRFLOW_PASSWORD', 'ELASTICSEARCH_PASSWORD', 'ELASTICSEARCH_TRUST_STORE_PASSWORD', 'OM_SM_ACCESS_KEY_ID', 'OM_SM_ACCESS_KEY', 'DB_USER_PASSWORD', 'JAVA_TOOL_OPTIONS']) {
          assert.ok(envNames.includes(n), n);
        }
        assert.equal((om.env as Obj[]).find((e) => e.name === 'FERNET_KEY')?.valueFrom?.secretKeyRef?.name, 'my-fernet');
        const from = (om.envFrom as Obj[]).map((e) => e.secretRef?.name);
        assert.ok(from.includes('my-extra-env'), 'your envFrom');
        assert.ok(!from.includes('openmetadata-fernetkey-secret'), 'no generated Fernet Secret when it comes from yours');
        assert.ok((om.volumeMounts as Obj[]).some((m) => m.mountPath === '/etc/om-tls'), 'the truststore');
      });

      it('adds pull secrets after yours, never twice', () => {
        const d = deploymentOf(render(helm, chart, EVERYTHING, helm3Args(['--pull-secret=om-registry', '--pull-secret=my-registry']), home).objects);
        assert.deepEqual(d.spec.template.spec.imagePullSecrets, [{ name: 'my-registry' }, { name: 'om-registry' }]);
      });

      it('refuses more than one replica, or an autoscaler, on a ReadWriteOnce claim; allows them on a shared one', () => {
        for (const values of [{ replicaCount: 2 }, { hpa: { enabled: true } }]) {
          const r = render(helm, chart, values, helm3Args(), home);
          assert.notEqual(r.status, 0, JSON.stringify(values));
          assert.match(r.stderr, /ReadWriteOnce claim attaches to one node only.*--shared-backup-claim/s);
          assert.equal(render(helm, chart, values, helm3Args(['--shared-backup-claim']), home).status, 0);
        }
      });

      it('refuses a volume of yours that has om-migrate\'s name, and a server image pinned by digest', () => {
        const clash = render(helm, chart, { extraVolumes: [{ name: 'om-migrate-backups', emptyDir: {} }] }, helm3Args(), home);
        assert.notEqual(clash.status, 0);
        assert.match(clash.stderr, /already has an entry named om-migrate-backups/);
        const digest = render(helm, chart, { image: { tag: '1.13.1@sha256:' + 'a'.repeat(64) } }, helm3Args(), home);
        assert.notEqual(digest.status, 0);
        assert.match(digest.stderr, /pinned by digest/);
      });
    });
  }
});

describe('the post-renderer as a Helm 4 plugin', { skip: skipOf(helm4, git) }, () => {
  const home = mkdtempSync(join(tmpdir(), 'om-helm4-'));
  const helm = helm4 as HelmBinary;
  const chart = chartAt(git as string, TAGS[TAGS.length - 1]);

  it('installs from the repository and gives the same om-migrate container as Helm 3 gives', () => {
    const install = runHelm(helm, ['plugin', 'install', PLUGIN_DIR], home);
    assert.equal(install.status, 0, install.stderr);
    const four = render(helm, chart, EVERYTHING, helm4Args(), home);
    assert.equal(four.status, 0, four.stderr);
    const om4 = initOf(deploymentOf(four.objects), 'om-migrate');
    if (!('skip' in helm3)) {
      const three = render(helm3, chart, EVERYTHING, helm3Args(), mkdtempSync(join(tmpdir(), 'om-helm3-')));
      assert.deepEqual(om4, initOf(deploymentOf(three.objects), 'om-migrate'));
    }
    assert.deepEqual(deploymentOf(four.objects).spec.strategy, { type: 'Recreate' });
  });

  it('a path instead of the plugin name is refused by Helm 4 (the documented commands differ for that reason)', () => {
    const r = render(helm, chart, {}, helm3Args(), home);
    assert.notEqual(r.status, 0);
    assert.match(r.stderr, /plugin/);
  });
});

describe('the post-renderer on its own', () => {
  const run = (args: string[], input: string) => spawnSync(RENDERER, args, { input, encoding: 'utf8' });

  it('refuses to run without --image, or with a tag on it, exit 2 and the usage', () => {
    for (const args of [[], ['--image=registry.example.com/om-migrate/server:1.13.1'], ['--image=x', '--bogus']]) {
      const r = run(args, '');
      assert.equal(r.status, 2, args.join(' '));
      assert.match(r.stderr, /--image=REPOSITORY/);
    }
  });

  it('refuses manifests that are not OpenMetadata\'s chart, exit 1, instead of installing them unchanged', () => {
    const r = run([`--image=${IMAGE}`], 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\n');
    assert.equal(r.status, 1);
    assert.match(r.stderr, /no Deployment with an init container named run-db-migrations/);
  });
});

// ---- the Airflow side and the manifests: static checks (the Airflow chart 1.18.0 is not available here to render) ----

const depsValues = yaml11(readFileSync(`${HELM_DIR}openmetadata-dependencies.values.yaml`, 'utf8'));
const manifests = readdirSync(`${HELM_DIR}manifests`).filter((f) => f.endsWith('.yaml')).sort()
  .flatMap((f) => docsOf(readFileSync(`${HELM_DIR}manifests/${f}`, 'utf8')));
const secrets = new Map(manifests.filter((o) => o.kind === 'Secret').map((o) => [o.metadata.name as string, o]));
const claims = new Map(manifests.filter((o) => o.kind === 'PersistentVolumeClaim').map((o) => [o.metadata.name as string, o]));
const secretKeys = (name: string) => Object.keys({ ...(secrets.get(name)?.data ?? {}), ...(secrets.get(name)?.stringData ?? {}) });

describe('openmetadata-dependencies.values.yaml (the Airflow chart\'s migration Job)', () => {
  const job = depsValues.airflow?.migrateDatabaseJob ?? {};

  it('runs om-migrate up with flags only, no pruning, waiting for another run\'s lock', () => {
    assert.deepEqual(job.args.slice(0, 2), ['bash', '-c']);
    assert.match(job.args[2], /^exec om-migrate up --yes /);
    assert.match(job.args[2], /--airflow-admin-url-file \/etc\/om-migrate\/admin\/airflow-admin-url/);
    assert.match(job.args[2], /--backup-dir \/var\/lib\/om-migrate\/backups/);
    assert.match(job.args[2], /--lock-timeout \d+m/);
    assert.doesNotMatch(job.args[2], /--keep\b/);
    assert.equal(job.command, undefined, "the Airflow image's entrypoint stays");
  });

  it('keeps the Job (and om-migrate\'s report) after success: the chart\'s hook annotations without hook-succeeded', () => {
    assert.equal(job.useHelmHooks, false, 'the chart\'s own annotations would add hook-succeeded');
    assert.deepEqual(job.jobAnnotations, { 'helm.sh/hook': 'post-install,post-upgrade', 'helm.sh/hook-weight': '1', 'helm.sh/hook-delete-policy': 'before-hook-creation' });
  });

  it('mounts the admin Secret read-only and the backup claim, both shipped in deploy/helm/manifests', () => {
    const volumes = new Map((job.extraVolumes as Obj[]).map((v) => [v.name as string, v]));
    for (const m of job.extraVolumeMounts as Obj[]) assert.ok(volumes.has(m.name), `mount ${m.name} has a volume`);
    const admin = volumes.get('om-migrate-admin') as Obj;
    assert.ok(secrets.has(admin.secret.secretName));
    assert.equal(admin.secret.defaultMode, 0o440);
    for (const item of admin.secret.items) assert.ok(secretKeys(admin.secret.secretName).includes(item.key), item.key);
    assert.ok(claims.has((volumes.get('om-migrate-backups') as Obj).persistentVolumeClaim.claimName));
    const adminMount = (job.extraVolumeMounts as Obj[]).find((m) => m.name === 'om-migrate-admin') as Obj;
    assert.equal(adminMount.readOnly, true);
    assert.ok(String(job.args[2]).includes(`${adminMount.mountPath}/${admin.secret.items[0].path}`), 'the flag names the mounted file');
  });

  it('names no image registry of its own: the repository is given on the command line, the tag stays the chart\'s', () => {
    assert.equal(depsValues.airflow?.images, undefined);
  });
});

describe('deploy/helm/manifests', () => {
  it('Secret om-migrate-admin has the keys the pods read; claims have access modes and sizes', () => {
    assert.deepEqual(secretKeys('om-migrate-admin').sort(), ['admin-url', 'airflow-admin-url']);
    assert.deepEqual([...claims.keys()].sort(), ['om-migrate-airflow-backups', 'om-migrate-backups']);
    for (const [name, c] of claims) {
      assert.equal(c.apiVersion, 'v1', name);
      assert.deepEqual(c.spec.accessModes, ['ReadWriteOnce'], `${name}: one writer; ReadWriteMany only with --shared-backup-claim`);
      assert.match(String(c.spec?.resources?.requests?.storage), /^\d+(Gi|Ti)$/);
    }
  });
});

describe('the documented Helm commands are the ones tested here', () => {
  const readme = readFileSync(`${ROOT}deploy/README.md`, 'utf8');
  it('Helm 3 (a path) and Helm 4 (the plugin) post-renderer lines, the dependencies line, and the timeouts', () => {
    assert.ok(readme.includes('--post-renderer deploy/helm/om-migrate-post-renderer/om-migrate-post-renderer'), 'Helm 3 form');
    assert.ok(readme.includes('helm plugin install deploy/helm/om-migrate-post-renderer'), 'Helm 4 install');
    assert.ok(readme.includes('--post-renderer om-migrate --post-renderer-args --image='), 'Helm 4 form');
    assert.ok(readme.includes('-f deploy/helm/openmetadata-dependencies.values.yaml'), 'dependencies values');
    assert.match(readme, /--timeout \d+h/);
  });
});

describe('the documented kubectl line makes the Secret the pods read', () => {
  const line = 'kubectl create secret generic om-migrate-admin --from-file=admin-url=./admin-url --from-file=airflow-admin-url=./airflow-admin-url';
  const kubectl = spawnSync('kubectl', ['version', '--client'], { encoding: 'utf8' });
  it('deploy/README.md shows it; run with --dry-run=client it yields om-migrate-admin with the keys admin-url and airflow-admin-url', { skip: kubectl.status === 0 ? false : 'no kubectl client here' }, () => {
    assert.ok(readFileSync(`${ROOT}deploy/README.md`, 'utf8').includes(line));
    const dir = mkdtempSync(join(tmpdir(), 'om-kubectl-'));
    writeFileSync(join(dir, 'admin-url'), 'mysql://root:pw@mysql:3306/');
    writeFileSync(join(dir, 'airflow-admin-url'), 'mysql://root:pw@mysql:3306/');
    const r = spawnSync('bash', ['-c', `${line} --dry-run=client -o yaml`], { cwd: dir, encoding: 'utf8', env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: dir } });
    assert.equal(r.status, 0, r.stderr);
    const secret = yaml11(r.stdout);
    assert.equal(secret.metadata.name, 'om-migrate-admin');
    assert.deepEqual(Object.keys(secret.data).sort(), ['admin-url', 'airflow-admin-url']);
    assert.equal(Buffer.from(secret.data['admin-url'], 'base64').toString(), 'mysql://root:pw@mysql:3306/', 'the file as it is, no newline added');
  });
});
