import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';

/**
 * OpenMetadata's own Helm chart (open-metadata/openmetadata-helm-charts, charts/openmetadata) at a release tag, for
 * rendering with the real Helm. Its templates are not ours to commit; they are read from a local git copy of that
 * repository: OM_MIGRATE_HELM_CHARTS_GIT, or the snapshot the development machine keeps under /work/.mirror. Without
 * one the tests that need it skip and say why.
 */
const CANDIDATES = [process.env.OM_MIGRATE_HELM_CHARTS_GIT, '/work/.mirror/open-metadata+openmetadata-helm-charts/repo'];

export function openmetadataChartsGit(): string | { skip: string } {
  for (const dir of CANDIDATES) {
    if (dir && existsSync(dir) && spawnSync('git', ['-C', dir, 'rev-parse', '--git-dir']).status === 0) return dir;
  }
  return { skip: 'no git copy of open-metadata/openmetadata-helm-charts here (set OM_MIGRATE_HELM_CHARTS_GIT)' };
}

/** charts/<chart> of that tag, unpacked into a fresh temporary directory; returns the chart's directory. */
export function chartAt(git: string, tag: string, chart = 'openmetadata'): string {
  const out = mkdtempSync(join(tmpdir(), `om-chart-${tag}-`));
  const archive = spawnSync('git', ['-C', git, 'archive', tag, `charts/${chart}`], { maxBuffer: 64 * 1024 * 1024 });
  if (archive.status !== 0) throw new Error(`git archive ${tag}: ${String(archive.stderr)}`);
  const untar = spawnSync('tar', ['-x', '-C', out], { input: archive.stdout });
  if (untar.status !== 0) throw new Error(`tar: ${String(untar.stderr)}`);
  return join(out, 'charts', chart);
}
