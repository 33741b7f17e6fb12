import type { Knex } from 'knex';

/**
 * knex prints "Acquire connection error" with the driver's stack through console.log — on stdout, where it breaks
 * --json and shows a stack trace without --verbose. The error itself reaches us through the rejected query and is
 * classified there, so knex's own log lines are dropped.
 */
export const QUIET_KNEX_LOG: Knex.Config['log'] = {
  warn() {},
  error() {},
  deprecate() {},
  debug() {},
};
