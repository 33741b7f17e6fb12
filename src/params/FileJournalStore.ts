import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, renameSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ConnectionSpec } from '../config/ConnectionSpec.js';
import { fileNameComponent } from '../backup/backupFileName.js';
import { UNREVERTED } from '../dialects/stores/JournalTable.js';
import type { JournalEntry, JournalStatus, JournalStore } from '../dialects/types.js';
import { OmMigrateError } from '../errors.js';
import { directoryProblem, fileProblem } from '../process/pathTrust.js';

/** One file per database, named after its server and database so that a later run finds it again. */
export function journalFilePath(dir: string, spec: ConnectionSpec): string {
  const name = [spec.engine, spec.host, String(spec.port), spec.database].map(fileNameComponent).join('-');
  return join(dir, `journal-${name}.json`);
}

/**
 * The journal as a local JSON file, readable by its owner only (0600): used only when the om_migrate_journal table
 * cannot be written (read-only user, no CREATE). It does not survive a container restart, which is why it is the
 * fallback and not the rule. Each write replaces the file atomically (write, then rename). Its entries say which
 * connection made each change, and the admin's are put back through the admin connection: the directory and the file
 * are proven this user's own, and writable by nobody else, before the file is read as well as before it is written.
 */
export class FileJournalStore implements JournalStore {
  constructor(readonly path: string, private readonly dir: string) {}

  get location(): string {
    return `file ${this.path}`;
  }

  async ensure(): Promise<void> {
    mkdirSync(this.dir, { recursive: true, mode: 0o700 });
    this.trusted();
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

  /**
   * The journal decides what the admin connection puts back: nobody else may have been able to write it, or beside it
   * (a directory another user owns or may write lets them plant or swap the file).
   */
  private trusted(): void {
    const problem = directoryProblem(this.dir) ?? (existsSync(this.path) ? fileProblem(this.path) : undefined);
    if (problem) {
      throw new OmMigrateError('BLOCKED', `the journal file ${this.path} cannot be trusted: ${problem}; nothing in it was run`, {
        hint: `Give --journal-dir (OM_MIGRATE_JOURNAL_DIR) a directory of your own that nobody else may write (mkdir -m 0700), `
          + `and remove any journal file there that is not yours: its entries would be put back through the admin connection.`,
        details: { journal: this.path, problem },
      });
    }
  }

  private read(): JournalEntry[] {
    if (!existsSync(this.path)) return [];
    this.trusted();
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
