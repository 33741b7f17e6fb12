/** The lock holder's description of itself (stores/RunRegistryTable). */
export const HOLDER_TABLE = 'om_migrate_lock_holder';

/** The schema (PostgreSQL) or database (MySQL) that holds the journal of admin-made changes, owned by the admin. */
export const OWN_SCHEMA = 'om_migrate';
