/**
 * A Python program run by the interpreter of Airflow's migrator, with the migrator's environment, that connects the
 * way Airflow will and reports what its MySQL driver does: which driver and client library, the server it reaches
 * (in ServerProbe.serverIdentity's form), and whether two statements in one call run (d59cbbef95eb's
 * `DROP FUNCTION …; CREATE FUNCTION …` needs exactly that). With the airflow package installed it takes Airflow's own
 * engine (airflow.settings: its connect args, its engine args); without it SQLAlchemy's create_engine with the options
 * Airflow gives MySQL (airflow settings.py prepare_engine_args: READ COMMITTED, pre-ping). It reads and changes nothing
 * but runs `SELECT 1; SELECT 2`. Its one line of output: "OM_MIGRATE_DRIVER_PROBE {json}".
 */
export const MYSQL_DRIVER_PROBE = String.raw`
import json, os, sys
out = {"python": sys.executable}
url = os.environ["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"]
engine = None
try:
    from airflow import settings
    if getattr(settings, "engine", None) is None:
        settings.configure_orm()
    engine = settings.engine
    out["via"] = "Airflow's own engine (airflow.settings)"
except ImportError:
    pass
except Exception as error:
    out["airflowError"] = (type(error).__name__ + ": " + str(error))[:300]
if engine is None:
    import sqlalchemy as sa
    options = {"pool_pre_ping": True}
    if sa.engine.make_url(url).get_backend_name() == "mysql":
        options["isolation_level"] = "READ COMMITTED"
    engine = sa.create_engine(url, **options)
    out["via"] = "SQLAlchemy " + sa.__version__ + " create_engine with Airflow's MySQL options (no airflow package)"
dbapi = engine.dialect.dbapi
out["driver"] = engine.dialect.driver
if out["driver"] == "pymysql":
    out["driverVersion"] = str(getattr(dbapi, "__version__", "?"))
else:
    out["driverVersion"] = ".".join(str(v) for v in getattr(dbapi, "version_info", ())[:3]) or "?"
    try:
        out["clientLibrary"] = dbapi._mysql.get_client_info()
    except Exception:
        pass
raw = engine.raw_connection()
try:
    cursor = raw.cursor()
    cursor.execute("SELECT @@hostname, @@port, @@server_id")
    host, port, server_id = cursor.fetchone()
    out["server"] = "mysql://%s:%s#%s" % (host, port, server_id)
    cursor.close()
    cursor = raw.cursor()
    try:
        cursor.execute("SELECT 1; SELECT 2")
        while cursor.nextset():
            pass
        out["multiStatements"] = True
    except Exception as error:
        out["multiStatements"] = False
        out["multiStatementsError"] = str(error)[:300]
    finally:
        try:
            cursor.close()
        except Exception:
            pass
finally:
    raw.close()
print("OM_MIGRATE_DRIVER_PROBE " + json.dumps(out), flush=True)
`;
