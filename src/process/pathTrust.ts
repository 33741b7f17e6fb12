import { lstatSync, type Stats } from 'node:fs';

/**
 * Whether another local user could have written or replaced a file om-migrate is about to read and act on (a journal
 * it puts parameters back from, a backup it restores). Whoever owns a directory can rename, remove and plant files in
 * it; whoever may write it can plant them too. Root is trusted as an owner: it could do anything anyway.
 */
export interface PathRules {
  /** Group members may write the directory (a Kubernetes volume with fsGroup, OpenShift's group 0): the backup directory. */
  groupMayWrite?: boolean;
  /** Every user may write it, if it has the sticky bit: they can add files, never rename or remove another's. */
  othersIfSticky?: boolean;
}

/** Why a directory is not this user's own, or undefined when it is (it must exist). */
export function directoryProblem(dir: string, rules: PathRules = {}): string | undefined {
  const stat = lstatOrUndefined(dir);
  if (!stat) return `${dir} does not exist`;
  if (stat.isSymbolicLink()) return `${dir} is a symbolic link`;
  if (!stat.isDirectory()) return `${dir} is not a directory`;
  const sticky = rules.othersIfSticky === true && (stat.mode & 0o1000) !== 0;
  return ownerProblem(dir, stat) ?? writersProblem(dir, stat, (rules.groupMayWrite ? 0 : 0o020) | (sticky ? 0 : 0o002));
}

/** Why a file is not one only this user (or root) could have written, or undefined. */
export function fileProblem(path: string): string | undefined {
  const stat = lstatOrUndefined(path);
  if (!stat) return `${path} does not exist`;
  if (stat.isSymbolicLink()) return `${path} is a symbolic link`;
  if (!stat.isFile()) return `${path} is not a regular file`;
  return ownerProblem(path, stat) ?? writersProblem(path, stat, 0o022);
}

function ownerProblem(path: string, stat: Stats): string | undefined {
  const uid = process.getuid?.();
  if (uid === undefined || stat.uid === uid || stat.uid === 0) return undefined;
  return `${path} is owned by uid ${stat.uid}, not by this user (uid ${uid}) or root`;
}

function writersProblem(path: string, stat: Stats, mask: number): string | undefined {
  if ((stat.mode & mask) === 0) return undefined;
  const who = (stat.mode & 0o002) !== 0 ? 'every user' : 'its group';
  return `${path} is writable by ${who} (mode ${(stat.mode & 0o7777).toString(8)})`;
}

function lstatOrUndefined(path: string): Stats | undefined {
  try {
    return lstatSync(path);
  } catch {
    return undefined;
  }
}
