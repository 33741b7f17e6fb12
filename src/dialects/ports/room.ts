/**
 * What an application account could shape of the admin connection's room: the database the admin's session sits in
 * (PostgreSQL: its owner sets search_path, role and other settings for every session there) and om-migrate's own
 * journal of admin-made changes (who may write or create it decides what the admin "puts back"). Read from the server:
 * the account's grants with their wildcards and roles (MySQL family), or its privileges and role memberships
 * (PostgreSQL), never assumed.
 */
export interface RoomExposure {
  /** The application account: `app`@`%`, or the PostgreSQL role. */
  account: string;
  /**
   * It can itself change what the admin changes (SUPER / SYSTEM_VARIABLES_ADMIN, superuser, membership of the admin's
   * role): there is nothing to protect from it, and nothing it could gain through the admin.
   */
  privileged: boolean;
  /** Each grant, ownership or membership that lets it shape what the admin reads or runs; empty when the room is sealed. */
  problems: RoomProblem[];
}

export interface RoomProblem {
  /** "GRANT ALL PRIVILEGES ON `om\_%`.* (through role `dba`) lets `app`@`%` write or create the database om_migrate" */
  problem: string;
  /** The statement that removes it, or what to do instead. */
  fix: string;
}
