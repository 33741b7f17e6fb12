const UNITS: Record<string, number> = { b: 1, kb: 1024, mb: 1024 ** 2, gb: 1024 ** 3, tb: 1024 ** 4 };

/** A PostgreSQL memory setting as written ("32MB", "4096" in kB, "1GB") → bytes. */
export function pgMemoryToBytes(text: string, defaultUnit = 'kb'): number {
  const match = /^\s*(\d+)\s*([a-z]*)\s*$/i.exec(text);
  if (!match) throw new Error(`not a PostgreSQL memory value: ${text}`);
  const unit = UNITS[(match[2] || defaultUnit).toLowerCase()];
  if (unit === undefined) throw new Error(`unknown PostgreSQL memory unit in ${text}`);
  return Number(match[1]) * unit;
}

/** bytes → the value to write in SET/ALTER: whole kB, as PostgreSQL stores work_mem. */
export function bytesToPgMemory(bytes: number): string {
  const kb = Math.ceil(bytes / 1024);
  return kb % 1024 === 0 ? `${kb / 1024}MB` : `${kb}kB`;
}
