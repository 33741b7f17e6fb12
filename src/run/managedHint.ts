/** Where a managed service keeps server parameters that SET GLOBAL / ALTER SYSTEM cannot change. */
export function parameterGroupHint(parameter: string, value: string, managed: string | undefined): string {
  const where: Record<string, string> = {
    RDS: 'the DB parameter group (RDS console → Parameter groups)',
    Aurora: 'the DB cluster parameter group',
    'Cloud SQL': 'the instance\'s database flags (gcloud sql instances patch --database-flags)',
    Azure: 'the server parameters (az mysql/postgres flexible-server parameter set)',
  };
  const place = managed ? where[managed] : 'the server configuration (my.cnf / postgresql.conf), or a managed service\'s parameter group';
  return `Give --admin-url with an account allowed to change it, or set ${parameter} = ${value} in ${place} and run again with --params skip.`;
}
