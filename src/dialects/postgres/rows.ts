/** knex.raw on pg resolves to the driver's result object. */
export function rows<T>(result: unknown): T[] {
  return (result as { rows: T[] }).rows;
}

/** Unquoted identifiers fold to lower case in PostgreSQL: OpenMetadata's SERVER_CHANGE_LOG is server_change_log. */
export function folded(name: string): string {
  return name.toLowerCase();
}
