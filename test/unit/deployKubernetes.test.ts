import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'node:test';
import { parse, parseAllDocuments } from 'yaml';

/**
 * Static checks of deploy/helm/: the manifests, the values for OpenMetadata's and openmetadata-dependencies' charts,
 * and the om-migrate-hooks chart. No cluster and no Helm binary here: the hook chart's templates are rendered by the
 * small renderer below, which knows only the few forms they use and refuses anything else.
 * YAML is read as Kubernetes and Helm read it (YAML 1.1: `0440` is an octal file mode).
 */
const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const HELM = `${ROOT}deploy/helm/`;
const OM_VERSION = '1.11.13';

// Parsed YAML of many shapes, walked by path in assertions that fail loudly on a wrong shape.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Obj = Record<string, any>;
const yaml11 = (text: string, what: string): Obj => {
  const doc = parse(text, { version: '1.1' }) as Obj;
  assert.ok(doc && typeof doc === 'object', `${what} is a YAML mapping`);
  return doc;
};
const documents = (text: string, what: string): Obj[] =>
  parseAllDocuments(text, { version: '1.1' }).map((d, i) => {
    assert.equal(d.errors.length, 0, `${what} document ${i}: ${d.errors.map((e) => e.message).join('; ')}`);
    return d.toJS() as Obj;
  }).filter((d) => d !== null);

// ---- the hook chart's templates, rendered --------------------------------------------------------------------------

function lookup(values: Obj, path: string, where: string): unknown {
  let v: unknown = values;
  for (const key of path.split('.')) {
    assert.ok(v && typeof v === 'object' && key in (v as Obj), `${where}: .Values.${path} is not set`);
    v = (v as Obj)[key];
  }
  return v;
}

/**
 * Helm's rendering, for the forms these templates use: `{{ .Values.a.b }}`, `{{ .Values.a.b | quote }}`, and lines
 * that are only `{{- if .Values.a.b }}` or `{{- end }}`. Any other action fails the test (a template that grew beyond
 * this must be checked some other way), as does a value that is not set (Helm would render an empty string).
 */
function renderTemplate(text: string, values: Obj, where: string): string {
  const out: string[] = [];
  const open: boolean[] = [];
  text.split('\n').forEach((line, n) => {
    const at = `${where}:${n + 1}`;
    const directive = /^\s*\{\{-?\s*(if\s+\.Values\.([\w.]+)|end)\s*-?\}\}\s*$/.exec(line);
    if (directive) {
      if (directive[1] === 'end') {
        assert.ok(open.length > 0, `${at}: end without if`);
        open.pop();
      } else {
        open.push(Boolean(lookup(values, directive[2], at)));
      }
      return;
    }
    if (open.includes(false)) return;
    out.push(line.replace(/\{\{-?\s*(.*?)\s*-?\}\}/g, (_m, action: string) => {
      const m = /^\.Values\.([\w.]+)(\s*\|\s*quote)?$/.exec(action);
      assert.ok(m, `${at}: the test renderer does not know {{ ${action} }}`);
      const value = lookup(values, m[1], at);
      assert.ok(value === null || typeof value !== 'object', `${at}: .Values.${m[1]} is not a scalar`);
      return m[2] ? JSON.stringify(String(value)) : String(value);
    }));
  });
  assert.equal(open.length, 0, `${where}: if without end`);
  return out.join('\n');
}

const hooksDir = `${HELM}om-migrate-hooks/`;
const hooksValues = yaml11(readFileSync(`${hooksDir}values.yaml`, 'utf8'), 'om-migrate-hooks/values.yaml');
const templateFiles = readdirSync(`${hooksDir}templates`).filter((f) => f.endsWith('.yaml')).sort();
const renderHooks = (values: Obj): Obj[] => templateFiles.flatMap((f) =>
  documents(renderTemplate(readFileSync(`${hooksDir}templates/${f}`, 'utf8'), values, `templates/${f}`), f));
const hookObjects = renderHooks(hooksValues);

// ---- what the files reference ---------------------------------------------------------------------------------------

const manifests = readdirSync(`${HELM}manifests`).filter((f) => f.endsWith('.yaml')).sort()
  .flatMap((f) => documents(readFileSync(`${HELM}manifests/${f}`, 'utf8'), `manifests/${f}`));
const shipped = (kind: string) => new Map(manifests.filter((o) => o.kind === kind).map((o) => [o.metadata.name as string, o]));
const secrets = shipped('Secret');
const claims = shipped('PersistentVolumeClaim');
const facts = readFileSync(`${ROOT}docs/facts/deploy.md`, 'utf8');
const secretKeys = (name: string): string[] => Object.keys({ ...(secrets.get(name)?.data ?? {}), ...(secrets.get(name)?.stringData ?? {}) });

const omValues = yaml11(readFileSync(`${HELM}openmetadata.values.yaml`, 'utf8'), 'openmetadata.values.yaml');
const depsValues = yaml11(readFileSync(`${HELM}openmetadata-dependencies.values.yaml`, 'utf8'), 'openmetadata-dependencies.values.yaml');

interface Pod { what: string; volumes: Obj[]; containers: Obj[] }
/** The pods the files put om-migrate in, as Kubernetes will see them. */
const PODS: Pod[] = [
  { what: 'openmetadata.values.yaml (server pod)', volumes: omValues.extraVolumes ?? [], containers: omValues.preMigrateInitContainers ?? [] },
  {
    what: 'openmetadata-dependencies.values.yaml (run-airflow-migrations)',
    volumes: depsValues.airflow?.migrateDatabaseJob?.extraVolumes ?? [],
    containers: [{
      name: 'run-airflow-migrations',
      image: `${depsValues.airflow?.images?.airflow?.repository}:${depsValues.airflow?.images?.airflow?.tag}`,
      args: depsValues.airflow?.migrateDatabaseJob?.args,
      env: depsValues.airflow?.migrateDatabaseJob?.env,
      volumeMounts: depsValues.airflow?.migrateDatabaseJob?.extraVolumeMounts,
    }],
  },
  ...hookObjects.filter((o) => o.kind === 'Job').map((job) => ({
    what: `om-migrate-hooks Job ${job.metadata?.name}`,
    volumes: job.spec?.template?.spec?.volumes ?? [],
    containers: job.spec?.template?.spec?.containers ?? [],
  })),
];

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const envOf = (c: Obj, name: string): Obj | undefined => (c.env ?? []).find((e: Obj) => e.name === name);
const argv = (c: Obj): string => [...(c.command ?? []), ...(c.args ?? [])].join(' ');

/** A name that is not in the manifests must be documented in docs/facts/deploy.md as someone else's. */
function assertKnownSecret(name: string, where: string): void {
  if (secrets.has(name)) return;
  assert.ok(facts.includes(`\`${name}\``), `${where}: Secret ${name} is neither shipped in deploy/helm/manifests/ nor documented as the chart's own`);
}

describe('deploy/helm/manifests', () => {
  it('every object has apiVersion, kind and a DNS-label name', () => {
    assert.ok(manifests.length >= 4);
    for (const o of manifests) {
      assert.ok(o.apiVersion && o.kind, JSON.stringify(o).slice(0, 80));
      assert.match(String(o.metadata?.name), DNS_LABEL, `${o.kind} name`);
    }
  });

  it('Secrets: v1, Opaque, with the keys the pods mount', () => {
    for (const [name, s] of secrets) {
      assert.equal(s.apiVersion, 'v1', name);
      assert.equal(s.type, 'Opaque', name);
      assert.ok(secretKeys(name).length > 0, `${name} has data`);
      for (const v of Object.values(s.data ?? {})) assert.match(String(v), /^[A-Za-z0-9+/]*={0,2}$/, `${name}: data is base64`);
    }
    assert.deepEqual(secretKeys('om-migrate-admin').sort(), ['admin-url', 'airflow-admin-url']);
    assert.deepEqual(secretKeys('om-migrate-airflow-db'), ['connection']);
  });

  it('PersistentVolumeClaims: v1, access modes and a storage request', () => {
    assert.ok(claims.size >= 2);
    for (const [name, c] of claims) {
      assert.equal(c.apiVersion, 'v1', name);
      assert.ok(Array.isArray(c.spec?.accessModes) && c.spec.accessModes.length > 0, `${name} accessModes`);
      for (const m of c.spec.accessModes) assert.ok(['ReadWriteOnce', 'ReadWriteMany', 'ReadWriteOncePod', 'ReadOnlyMany'].includes(m), `${name}: ${m}`);
      assert.match(String(c.spec?.resources?.requests?.storage), /^\d+(Ki|Mi|Gi|Ti)$/, `${name} storage`);
    }
  });
});

describe('om-migrate in every pod the files define', () => {
  for (const pod of PODS) {
    describe(pod.what, () => {
      const om = pod.containers.filter((c) => /om-migrate/.test(String(c.image)));

      it('has an om-migrate container with a name, the layered image at the OpenMetadata version, and an om-migrate command', () => {
        assert.equal(om.length, 1, 'one om-migrate container');
        const c = om[0];
        assert.match(String(c.name), DNS_LABEL);
        assert.notEqual(c.name, 'run-db-migrations', "not a second container with the chart's own name");
        assert.match(String(c.image), new RegExp(`/om-migrate/(server|ingestion):${OM_VERSION.replace(/\./g, '\\.')}$`));
        assert.match(argv(c), /\bom-migrate (up|entrypoint -- \S+)/);
      });

      it('every mount names a volume of the pod; every Secret and claim exists (or is documented as the chart\'s)', () => {
        const volumes = new Map(pod.volumes.map((v) => [v.name as string, v]));
        for (const c of pod.containers) {
          for (const m of c.volumeMounts ?? []) assert.ok(volumes.has(m.name), `${c.name} mounts ${m.name}, not a volume of the pod`);
          for (const e of c.envFrom ?? []) if (e.secretRef) assertKnownSecret(e.secretRef.name, `${c.name} envFrom`);
          for (const e of c.env ?? []) if (e.valueFrom?.secretKeyRef) assertKnownSecret(e.valueFrom.secretKeyRef.name, `${c.name} env ${e.name}`);
        }
        for (const v of pod.volumes) {
          if (v.secret) {
            assertKnownSecret(v.secret.secretName, `volume ${v.name}`);
            if (secrets.has(v.secret.secretName)) {
              for (const item of v.secret.items ?? []) assert.ok(secretKeys(v.secret.secretName).includes(item.key), `volume ${v.name}: key ${item.key}`);
            }
            assert.equal(v.secret.defaultMode, 0o440, `volume ${v.name}: mode 0440 (owner and fsGroup read, nobody else)`);
          }
          if (v.persistentVolumeClaim) assert.ok(claims.has(v.persistentVolumeClaim.claimName), `volume ${v.name}: claim ${v.persistentVolumeClaim.claimName} is shipped`);
        }
      });

      it('reads the admin URL from a mounted Secret file, never from an environment value', () => {
        const c = om[0];
        for (const name of ['OM_MIGRATE_ADMIN_URL', 'OM_MIGRATE_AIRFLOW_ADMIN_URL']) assert.equal(envOf(c, name), undefined, `${name} is not set`);
        const file = envOf(c, 'OM_MIGRATE_ADMIN_URL_FILE') ?? envOf(c, 'OM_MIGRATE_AIRFLOW_ADMIN_URL_FILE');
        assert.ok(file?.value, 'OM_MIGRATE_ADMIN_URL_FILE or OM_MIGRATE_AIRFLOW_ADMIN_URL_FILE');
        const mount = (c.volumeMounts ?? []).find((m: Obj) => String(file.value).startsWith(`${m.mountPath}/`));
        assert.ok(mount, `${file.value} is under a mount`);
        assert.equal(mount.readOnly, true, 'mounted read-only');
        const volume = pod.volumes.find((v) => v.name === mount.name);
        assert.ok(volume?.secret, `${mount.name} is a Secret volume`);
        const item = (volume.secret.items ?? []).find((i: Obj) => `${mount.mountPath}/${i.path}` === file.value);
        assert.ok(item, `${file.value} is one of the Secret's items`);
        const airflowSide = file.name === 'OM_MIGRATE_AIRFLOW_ADMIN_URL_FILE';
        assert.equal(item.key, airflowSide ? 'airflow-admin-url' : 'admin-url');
      });

      it('writes backups on a claim mounted on OM_MIGRATE_BACKUP_DIR, waits for another run\'s lock, never prompts', () => {
        const c = om[0];
        const dir = envOf(c, 'OM_MIGRATE_BACKUP_DIR')?.value;
        const mount = (c.volumeMounts ?? []).find((m: Obj) => m.mountPath === dir);
        assert.ok(mount, `a mount on ${dir}`);
        assert.ok(pod.volumes.find((v) => v.name === mount.name)?.persistentVolumeClaim, `${mount.name} is a claim`);
        assert.match(String(envOf(c, 'OM_MIGRATE_LOCK_TIMEOUT')?.value), /^\d+(ms|s|m|h)$/, 'OM_MIGRATE_LOCK_TIMEOUT');
        assert.equal(envOf(c, 'OM_MIGRATE_YES')?.value, '1');
      });
    });
  }

  it('the server side and the Airflow side use different claims (different users, pods on different nodes)', () => {
    const claimOf = (pod: Pod) => pod.volumes.find((v) => v.persistentVolumeClaim)?.persistentVolumeClaim.claimName;
    assert.notEqual(claimOf(PODS[0]), claimOf(PODS[1]));
  });
});

describe("openmetadata.values.yaml (OpenMetadata's chart)", () => {
  it('runs om-migrate in preMigrateInitContainers, before the chart\'s run-db-migrations, in entrypoint mode', () => {
    assert.ok(Array.isArray(omValues.preMigrateInitContainers));
    assert.equal(omValues.extraInitContainers, undefined, 'not after it');
    assert.deepEqual(omValues.preMigrateInitContainers[0].command, ['om-migrate', 'entrypoint', '--', 'true'],
      'every pod start: wait for the lock, no-op when nothing is pending');
  });

  it("gives it the server's environment: the chart's Secrets and the database password", () => {
    const c = omValues.preMigrateInitContainers[0];
    const names = (c.envFrom as Obj[]).map((e) => e.secretRef?.name);
    for (const part of ['config', 'omd', 'db', 'search', 'authorizer', 'secretsmanager', 'web', 'authentication', 'eventmonitor', 'pipeline', 'jwt', 'fernetkey', 'rdf']) {
      assert.ok(names.includes(`openmetadata-${part}-secret`), `openmetadata-${part}-secret`);
    }
    for (const e of c.envFrom as Obj[]) assert.equal(e.secretRef.optional, true, `${e.secretRef.name}: optional, as the chart creates some only when enabled`);
    assert.ok(envOf(c, 'DB_USER_PASSWORD')?.valueFrom?.secretKeyRef, 'DB_USER_PASSWORD');
  });

  it("pins the server image to the om-migrate image's OpenMetadata version, and sets fsGroup", () => {
    assert.equal(String(omValues.image?.tag), OM_VERSION);
    assert.equal(String(omValues.preMigrateInitContainers[0].image).split(':').pop(), String(omValues.image.tag));
    assert.equal(omValues.podSecurityContext?.fsGroup, 1000);
    assert.equal(omValues.image?.repository, undefined, "the server keeps OpenMetadata's own image");
  });
});

describe('openmetadata-dependencies.values.yaml (the Airflow chart)', () => {
  const airflow = depsValues.airflow ?? {};
  it("replaces the args of the chart's run-airflow-migrations Job with om-migrate up, keeping its hooks", () => {
    assert.deepEqual(airflow.migrateDatabaseJob?.args, ['bash', '-c', 'exec om-migrate up']);
    assert.equal(airflow.migrateDatabaseJob?.command, undefined, "the Airflow image's entrypoint stays");
    assert.notEqual(airflow.migrateDatabaseJob?.useHelmHooks, false);
  });
  it('runs Airflow on the layered ingestion image at the OpenMetadata version', () => {
    assert.match(String(airflow.images?.airflow?.repository), /\/om-migrate\/ingestion$/);
    assert.equal(String(airflow.images?.airflow?.tag), OM_VERSION);
  });
});

describe('om-migrate-hooks chart', () => {
  it('Chart.yaml: apiVersion v2, its directory name, a SemVer version', () => {
    const chart = yaml11(readFileSync(`${hooksDir}Chart.yaml`, 'utf8'), 'Chart.yaml');
    assert.equal(chart.apiVersion, 'v2');
    assert.equal(chart.name, 'om-migrate-hooks');
    assert.match(String(chart.version), /^\d+\.\d+\.\d+$/);
    assert.equal(String(chart.appVersion), OM_VERSION);
  });

  it('renders two Jobs, one per database, and nothing else', () => {
    assert.deepEqual(hookObjects.map((o) => `${o.kind}/${o.metadata?.name}`).sort(),
      ['Job/om-migrate-airflow-upgrade', 'Job/om-migrate-openmetadata-upgrade']);
  });

  for (const job of hookObjects) {
    describe(`Job ${job.metadata?.name}`, () => {
      it('is a batch/v1 Job with a pod template, restartPolicy Never and backoffLimit 0', () => {
        assert.equal(job.apiVersion, 'batch/v1');
        assert.equal(job.spec?.backoffLimit, 0);
        assert.equal(job.spec?.template?.spec?.restartPolicy, 'Never');
        assert.ok(job.spec.template.spec.containers?.length > 0);
      });

      it('is a pre-upgrade hook only (skipped on a fresh install), kept until the next upgrade replaces it', () => {
        const a = job.metadata?.annotations ?? {};
        assert.deepEqual(String(a['helm.sh/hook']).split(',').map((s) => s.trim()), ['pre-upgrade']);
        assert.match(String(a['helm.sh/hook-weight']), /^-?\d+$/);
        assert.ok(String(a['helm.sh/hook-delete-policy']).split(',').includes('before-hook-creation'));
        assert.ok(!String(a['helm.sh/hook-delete-policy']).includes('hook-failed'), 'a failed Job stays for its logs');
      });

      it("runs om-migrate up with the new release's image (the values' tag)", () => {
        const c = job.spec.template.spec.containers[0];
        assert.deepEqual(c.command, ['om-migrate', 'up']);
        const side = /airflow/.test(job.metadata.name) ? 'airflow' : 'openmetadata';
        assert.equal(c.image, `${hooksValues[side].image.repository}:${hooksValues[side].image.tag}`);
        assert.equal(job.spec.template.spec.securityContext?.fsGroup, hooksValues[side].fsGroup);
      });
    });
  }

  it('the Airflow Job reads the Airflow database URL from a Secret, and runs after OpenMetadata\'s', () => {
    const airflow = hookObjects.find((o) => o.metadata.name === 'om-migrate-airflow-upgrade')!;
    const conn = envOf(airflow.spec.template.spec.containers[0], 'AIRFLOW__DATABASE__SQL_ALCHEMY_CONN');
    assert.ok(conn?.valueFrom?.secretKeyRef, 'from a Secret, not a value');
    assert.ok(secretKeys(conn.valueFrom.secretKeyRef.name).includes(conn.valueFrom.secretKeyRef.key), 'the key exists');
    const weight = (o: Obj) => Number(o.metadata.annotations['helm.sh/hook-weight']);
    assert.ok(weight(airflow) > weight(hookObjects.find((o) => o.metadata.name === 'om-migrate-openmetadata-upgrade')!));
  });

  it('the Jobs can be switched off one by one', () => {
    const off = (side: string) => renderHooks({ ...hooksValues, [side]: { ...hooksValues[side], enabled: false } });
    assert.deepEqual(off('airflow').map((o) => o.metadata.name), ['om-migrate-openmetadata-upgrade']);
    assert.deepEqual(off('openmetadata').map((o) => o.metadata.name), ['om-migrate-airflow-upgrade']);
  });

  it('the test renderer refuses what it does not know, and values that are not set', () => {
    assert.throws(() => renderTemplate('a: {{ .Release.Name }}', {}, 't'), /does not know/);
    assert.throws(() => renderTemplate('a: {{ .Values.nope }}', {}, 't'), /not set/);
    assert.throws(() => renderTemplate('{{- if .Values.x }}\na: 1', { x: true }, 't'), /if without end/);
    assert.equal(renderTemplate('{{- if .Values.x }}\na: {{ .Values.y | quote }}\n{{- end }}', { x: true, y: 3 }, 't'), 'a: "3"');
  });
});
