import { configError } from '../errors.js';
import { ConnectionSpec, DEFAULT_PORT, Engine } from './ConnectionSpec.js';

/**
 * The URL shapes OpenMetadata and Airflow use, parsed with the WHATWG URL parser built into Node rather than by hand:
 * it already handles percent-encoding, IPv6 hosts and ports for any scheme.
 */

const SQLALCHEMY_SCHEMES: Record<string, Engine> = {
  mysql: 'mysql',
  mariadb: 'mysql',
  postgresql: 'postgres',
  postgres: 'postgres',
};

/**
 * Where libmariadb (MariaDB Connector/C, which Debian's and Airflow's images build mysqlclient against) connects for
 * `localhost` when no socket is given: MYSQL_UNIX_PORT, else its compiled-in path. Read in Debian 12's libmariadb3
 * 10.11 (`strings libmariadb.so.3`: MYSQL_UNIX_PORT, /run/mysqld/mysqld.sock) and observed with python3-mysqldb 1.4.6:
 * `localhost:<any port>` gives "Localhost via UNIX socket" on /run/mysqld/mysqld.sock (docs/facts/airflow.md).
 */
export const LIBMARIADB_DEFAULT_SOCKET = '/run/mysqld/mysqld.sock';

/**
 * `mysql+mysqldb://user:pass@host:3306/airflow_db?charset=utf8` and friends, resolved to the server the URL's driver
 * reaches (`env`: the environment the migrator runs with, for MYSQL_UNIX_PORT):
 * - mysqlclient (`mysql+mysqldb`, and plain `mysql://`, SQLAlchemy's default): an empty host or `localhost` is a unix
 *   socket — `?unix_socket=`, else MYSQL_UNIX_PORT, else libmariadb's default — whatever the port; any other host is TCP;
 * - PyMySQL: `?unix_socket=` whenever given, whatever the host (pymysql/connections.py `connect`: `if self.unix_socket:`
 *   AF_UNIX, else TCP to host, default localhost); without it TCP, never a default socket;
 * - other drivers: the socket only for an empty host or `localhost`.
 * Read otherwise, om-migrate would check, back up and repair another server than the one Airflow's migrator changes.
 */
export function parseSqlAlchemyUrl(url: string, source: string, env: NodeJS.ProcessEnv = {}, asDriver = true): ConnectionSpec {
  const match = /^([a-z0-9]+)(?:\+([a-z0-9_]+))?:\/\//i.exec(url.trim());
  if (!match) {
    throw configError(
      `${source} is not a database URL (expected e.g. mysql+mysqldb://user:pass@host:3306/airflow_db)`,
      'Give the SQLAlchemy URL Airflow uses: AIRFLOW__DATABASE__SQL_ALCHEMY_CONN.',
    );
  }
  const dialect = match[1].toLowerCase();
  const engine = SQLALCHEMY_SCHEMES[dialect];
  if (!engine) {
    throw configError(
      `${source} uses the unsupported database scheme "${dialect}"`,
      'om-migrate supports mysql, mariadb and postgresql URLs.',
    );
  }
  const driver = match[2]?.toLowerCase();
  const resolveHost = engine === 'mysql' ? mysqlHost(asDriver ? driver ?? 'mysqldb' : 'none', env) : undefined;
  const spec = parseHierarchicalUrl(url.trim(), engine, source, resolveHost);
  if (driver) spec.driver = driver;
  return spec;
}

function mysqlHost(driver: string, env: NodeJS.ProcessEnv): (host: string, params: Record<string, string>) => string {
  return (host, params) => {
    const socket = params.unix_socket || undefined;
    const local = host === '' || host.toLowerCase() === 'localhost';
    if (driver === 'pymysql') return socket ?? (host || 'localhost');
    if (driver === 'mysqldb') return local ? socket ?? (env.MYSQL_UNIX_PORT || LIBMARIADB_DEFAULT_SOCKET) : host;
    return local && socket ? socket : host;
  };
}

/** `jdbc:mysql://host:3306/openmetadata_db?useSSL=false` as in openmetadata.yaml. */
export function parseJdbcUrl(url: string, source: string): ConnectionSpec {
  const match = /^jdbc:([a-z0-9]+):\/\//i.exec(url.trim());
  if (!match) {
    throw configError(`${source} is not a JDBC URL (expected jdbc:mysql://host:3306/db or jdbc:postgresql://…)`);
  }
  const engine = SQLALCHEMY_SCHEMES[match[1].toLowerCase()];
  if (!engine) {
    throw configError(`${source} uses the unsupported JDBC scheme "${match[1]}"`, 'Use jdbc:mysql:// or jdbc:postgresql://.');
  }
  return parseHierarchicalUrl(url.trim().slice('jdbc:'.length), engine, source);
}

/**
 * An admin URL: `mysql://root:pw@host:3306`, `postgresql://postgres@host:5432/postgres`, SQLAlchemy forms too. It is
 * om-migrate's own, read by no Python driver: its host is the host (TCP), `?unix_socket=` only with an empty host or
 * `localhost`.
 */
export function parseAdminUrl(url: string, source: string): ConnectionSpec {
  return parseSqlAlchemyUrl(url, source, {}, false);
}

function parseHierarchicalUrl(text: string, engine: Engine, source: string,
  resolveHost?: (host: string, params: Record<string, string>) => string): ConnectionSpec {
  // The WHATWG parser refuses user info without a host (postgresql://user@/db?host=/run/postgresql), which libpq
  // accepts: parse it with a placeholder host and take the host from the query.
  const emptyHost = /^[a-z0-9+]+:\/\/[^/?#]*@(?=[/?#]|$)/i.exec(text);
  const parseable = emptyHost ? `${emptyHost[0]}host-from-query${text.slice(emptyHost[0].length)}` : text;
  let url: URL;
  try {
    url = new URL(parseable);
  } catch {
    throw configError(`${source} is not a valid URL`, 'Check for unescaped characters: write @ : / # ? % in a password as %40 %3A %2F %23 %3F %25.');
  }
  const decode = (part: string, what: string) => {
    try {
      return decodeURIComponent(part);
    } catch {
      throw configError(`${source}: the ${what} holds a % that is not followed by two hex digits`,
        'Write a literal % in a URL as %25.');
    }
  };
  const params: Record<string, string> = {};
  url.searchParams.forEach((value, key) => {
    params[key] = value;
  });
  // libpq allows the host (a socket directory) as a query parameter: postgresql://user@/db?host=/run/postgresql
  let host = (emptyHost ? '' : decode(url.hostname.replace(/^\[|\]$/g, ''), 'host')) || params.host || '';
  if (resolveHost) host = resolveHost(host, params);
  if (!host) throw configError(`${source} has no host`, 'Write the server as user@host:port in the URL.');
  let port = DEFAULT_PORT[engine];
  if (url.port) port = parsePort(url.port, source);
  else if (params.port) port = parsePort(params.port, source);
  return {
    engine,
    host,
    port,
    user: decode(url.username, 'user name'),
    password: url.password ? decode(url.password, 'password') : undefined,
    database: decode(url.pathname.replace(/^\//, ''), 'database name'),
    params,
    source,
  };
}

export function parsePort(value: string, source: string): number {
  const port = Number(value);
  if (!/^\d+$/.test(value.trim()) || port < 1 || port > 65535) {
    throw configError(`${source}: port "${value}" is not a number between 1 and 65535`);
  }
  return port;
}

/** `allowPublicKeyRetrieval=true&useSSL=false` → { allowPublicKeyRetrieval: 'true', useSSL: 'false' } */
export function parseParams(text: string | undefined): Record<string, string> {
  const params: Record<string, string> = {};
  if (!text) return params;
  new URLSearchParams(text.replace(/^\?/, '')).forEach((value, key) => {
    params[key] = value;
  });
  return params;
}
