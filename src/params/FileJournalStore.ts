import { chmodSync, existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ConnectionSpec } from '../config/ConnectionSpec.js';
import { UNREVERTED } from '../dialects/journalRows.js';
import type { JournalEntry, JournalStatus, JournalStore } from '../dialects/types.js';

/** One file per database, named after its server and database so that a later run finds it again. */
export function journalFilePath(dir: string, spec: ConnectionSpec): string {
  const safe = `${spec.engine}-${spec.host}-${spec.port}-${spec.database}`.replace(/[^A-Za-z0-9._-]/g, '_');
  return join(dir, `journal-${safe}.json`);
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
    return JSON.parse(readFileSync(this.path, 'utf8')) as JournalEntry[];
  }

  private write(entries: JournalEntry[]): void {
    const tmp = `${this.path}.${process.pid}.tmp`;
    writeFileSync(tmp, `${JSON.stringify(entries, null, 2)}\n`, { mode: 0o600 });
    chmodSync(tmp, 0o600);
    renameSync(tmp, this.path);
  }
}
