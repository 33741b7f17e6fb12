/** The ports a dialect implements, one file each under ports/; this file gathers them for importers. */
export type * from './ports/server.js';
export type * from './ports/schema.js';
export type * from './ports/sessions.js';
export type * from './ports/swap.js';
export type * from './ports/openmetadata.js';
export type * from './ports/airflow.js';
export type * from './ports/lock.js';
export type * from './ports/params.js';
export type * from './ports/journal.js';
export type * from './ports/room.js';
export type * from './ports/dump.js';
export type * from './ports/privileges.js';
export * from './ports/ledger.js';
export type * from './ports/Dialect.js';
export type { ToolInvocation } from '../process/ToolInvocation.js';
