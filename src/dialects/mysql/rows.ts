/** knex.raw on mysql2 resolves to [rows, fields]. */
export function rows<T>(result: unknown): T[] {
  return (result as [T[], unknown])[0];
}
