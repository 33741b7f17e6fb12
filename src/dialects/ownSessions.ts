/**
 * The server sessions this process opened, by server and session id: every pinned connection registers its id when the
 * pool creates it (connections are replaced after a drop, and the new one registers too). Session listings leave them
 * out, so that om-migrate never counts itself as "another session" of the application's user.
 */
const own = new Set<string>();

export function serverKey(engine: string, host: string, port: number): string {
  return `${engine}://${host}:${port}`;
}

export function registerOwnSession(server: string, id: string | number): void {
  own.add(`${server}#${String(id)}`);
}

export function isOwnSession(server: string, id: string | number): boolean {
  return own.has(`${server}#${String(id)}`);
}

/** What om-migrate's own sessions call themselves (connect.ts programName) and its run lock's name prefix (lockName.ts). */
export const OM_MIGRATE_PROGRAM = /^om-migrate /;
export const OM_MIGRATE_LOCK_WAIT = /GET_LOCK\('om-migrate:/i;
