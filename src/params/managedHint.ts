/** Parameters that are switches (0/1), not sizes: set "to 1", never "to at least 1 bytes". */
const SWITCHES = new Set(['log_bin_trust_function_creators']);

/** What an operator of a managed service does instead: set the value in the service's parameter store, then --params skip. */
export function parameterGroupHint(engine: 'mysql' | 'postgres', parameter: string, value: string, managed: string | undefined): string {
  const where = managed === 'RDS' || managed === 'Aurora'
    ? 'the DB parameter group (RDS/Aurora; reboot-free for these dynamic parameters)'
    : managed === 'Cloud SQL' ? 'the instance\'s database flags (Cloud SQL)'
      : managed === 'Azure' ? 'the server parameters (Azure)'
        : 'the server configuration (on RDS/Aurora: the DB parameter group; Cloud SQL: database flags; Azure: server parameters)';
  if (SWITCHES.has(parameter)) return `set ${parameter} to ${value} in ${where} yourself and run with --params skip.`;
  const shown = engine === 'mysql' && /^\d+$/.test(value) ? `${value} bytes` : value;
  return `set ${parameter} to at least ${shown} in ${where} yourself and run with --params skip.`;
}
