/** The backup library: what `om-migrate backup` / `restore` and the backup gate of `up` call. */
export { runBackup } from './runBackup.js';
export type { BackupOptions, BackupProgress, BackupSource } from './runBackup.js';
export { verifyBackup } from './verifyBackup.js';
export type { BackupVerification } from './verifyBackup.js';
export { restoreBackup, restoreTarget } from './restoreBackup.js';
export type { RestoreOptions, RestoreProgress, RestoreResult } from './restoreBackup.js';
export { NOTHING_SPARED, pruneBackups, sparedBackups } from './pruneBackups.js';
export type { SparedBackups } from './pruneBackups.js';
export { manifestPathFor, readManifest } from './BackupManifest.js';
export type { BackupManifest } from './BackupManifest.js';
export { backupFileName } from './backupFileName.js';
export type { Compression } from './backupFileName.js';
