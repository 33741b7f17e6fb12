import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, lstatSync, mkdirSync, readFileSync, renameSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ConnectionSpec } from '../config/ConnectionSpec.js';
import { fileNameComponent } from '../backup/backupFileName.js';
import { UNREVERTED } from '../dialects/stores/JournalTable.js';
import type { JournalEntry, JournalStatus, JournalStore } from '../dialects/types.js';

/** One file per database, named after its server and database so that a later run finds it again. */
export function journalFilePath(dir: string, spec: ConnectionSpec): string {
  const name = [spec.engine, spec.host, String(spec.port), spec.database].map(fileNameComponent).join('-');
  return join(dir, `journal-${name}.json`);
}

/**
 * The journal as a local JSON file, readable by its owner only (0600): used only when the om_migrate_journal table
 * cannot be written (read-only user, no CREATE). It does not survive a container restart, which is why it is the
 * fallback and not the rule. Each write replaces the file atomically (write, then rename).
 */
export class FileJournalStore implements JournalStore {
  constructor(readonly path: string, private readonly dir: string) {}

  get location(): string {
    return `file ${this.path}`;
  }

  async ensure(): Promise<void> {
    mkdirSync(this.dir, { recursive: true, mode: 0o700 });
    const stat = lstatSync(this.dir);
    // The journal decides what the admin connection puts back: nobody else may be able to write beside it.
    if (!stat.isDirectory() || stat.uid !== (process.getuid?.() ?? stat.uid) || (stat.mode & 0o022) !== 0) {
      throw new Error(`${this.dir} is not a private directory of this user (mode ${(stat.mode & 0o777).toString(8)}, owner ${stat.uid})`);
    }
    if (!existsSync(this.path)) this.write([]);
  }

  async insert(entry: JournalEntry): Promise<void> {
    await this.ensure();
    this.write([...this.read(), entry]);
  }

  async setStatus(id: string, status: JournalStatus, note: string | null = null): Promise<void> {
    const now = new Date().toISOString();
    this.write(this.read().map((e) => (e.id === id ? { ...e, status, note, updatedAt: now } : e)));
  }

  async unreverted(): Promise<JournalEntry[]> {
    return this.read().filter((e) => UNREVERTED.includes(e.status));
  }

  async ofRun(runId: string): Promise<JournalEntry[]> {
    return this.read().filter((e) => e.runId === runId);
  }

  exists(): boolean {
    return existsSync(this.path);
  }

  private read(): JournalEntry[] {
    if (!existsSync(this.path)) return [];
    // Files of om-migrate 0.1 carry statements too; they are ignored, and every entry is rebuilt from its data.
    return (JSON.parse(readFileSync(this.path, 'utf8')) as Array<JournalEntry & { applySql?: unknown; revertSql?: unknown }>)
      .map(({ applySql: _a, revertSql: _r, ...entry }) => ({ ...entry, via: entry.via === 'admin' ? 'admin' : 'application', object: entry.object ?? null }));
  }

  /** A fresh temporary name, created exclusively (never following a planted link), renamed over the journal. */
  private write(entries: JournalEntry[]): void {
    const tmp = `${this.path}.${randomBytes(6).toString('hex')}.tmp`;
    writeFileSync(tmp, `${JSON.stringify(entries, null, 2)}\n`, { mode: 0o600, flag: 'wx' });
    try {
      chmodSync(tmp, 0o600);
      renameSync(tmp, this.path);
    } catch (error) {
      try {
        unlinkSync(tmp);
      } catch {
        // gone already
      }
      throw error;
    }
  }
}
