import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { grantedRoles, grantsSetGlobal, grantsWriting, parseGrant, patternMatches } from '../../src/dialects/mysql/grants.js';
import { MysqlDumpScanner } from '../../src/dialects/mysql/MysqlDumpScanner.js';

/**
 * The pieces behind the admin room and the restore's scan, on the exact text the servers and tools give. Lines are as
 * MariaDB 10.11 prints them here (SHOW GRANTS through mysql2) and as MySQL 8's manual shows them (roles with a host,
 * dynamic privileges, column lists): MySQL 8 itself cannot run on this machine.
 */
describe('SHOW GRANTS lines', () => {
  const lines = [
    'GRANT USAGE ON *.* TO `app`@`%` IDENTIFIED BY PASSWORD \'*D821809F681A40A6E379B50D0463EFAE20BDD122\'',
    'GRANT ALL PRIVILEGES ON `om\\_%`.* TO `app`@`%`',
    'GRANT INSERT ON `om_%`.* TO `app`@`%`',
    'GRANT SELECT ON `om_migrate`.* TO `app`@`%`',
    'GRANT UPDATE (`status`, `x ON y`) ON `om_migrate`.`om_migrate_journal` TO `app`@`%`',
    'GRANT SELECT, INSERT ON `openmetadata_db`.* TO `app`@`%`',
    'GRANT PROCESS ON *.* TO `app`@`%`',
    'GRANT SYSTEM_VARIABLES_ADMIN ON *.* TO `app`@`%`',
    'GRANT `dba` TO `app`@`%`',
    'GRANT `dba`@`%`,`ops`@`%` TO `app`@`%`',
    'GRANT SELECT ON `omm_pub`.* TO PUBLIC',
    'GRANT EXECUTE ON FUNCTION `om_migrate`.`f` TO `app`@`%`',
    'GRANT PROXY ON \'root\'@\'localhost\' TO \'app\'@\'%\'',
  ];

  it('reads level, object, privileges and grantee, and never keeps the password hash', () => {
    const g = lines.map(parseGrant);
    assert.deepEqual(g[0]?.on, { level: 'global' });
    assert.equal(g[0]?.text, 'GRANT USAGE ON *.*');
    assert.deepEqual(g[1]?.on, { level: 'database', pattern: 'om\\_%' });
    assert.deepEqual(g[1]?.privileges, ['ALL PRIVILEGES']);
    assert.deepEqual(g[4]?.on, { level: 'table', database: 'om_migrate', table: 'om_migrate_journal' });
    assert.deepEqual(g[4]?.privileges, ['UPDATE']);
    assert.equal(g[4]?.privilegeText, 'UPDATE (`status`, `x ON y`)');
    assert.equal(g[8], undefined, 'a role grant is not a privilege grant');
    assert.equal(g[10]?.grantee, 'PUBLIC');
    assert.deepEqual(g[11]?.on, { level: 'routine', database: 'om_migrate' });
    assert.deepEqual(g[12]?.on, { level: 'proxy' });
    assert.deepEqual(grantedRoles(lines[8]), ['`dba`']);
    assert.deepEqual(grantedRoles(lines[9]), ['`dba`@`%`', '`ops`@`%`']);
  });

  it('database patterns: `_` one character, `%` any run, a backslash makes either itself; case folds', () => {
    assert.ok(patternMatches('om\\_%', 'om_migrate'));
    assert.ok(patternMatches('om_%', 'om_migrate'));
    assert.ok(patternMatches('om_migrat_', 'om_migrate'));
    assert.ok(patternMatches('%', 'om_migrate'));
    assert.ok(patternMatches('OM\\_MIGRATE', 'om_migrate'));
    assert.ok(!patternMatches('om\\_migrate\\_%', 'om_migrate'));
    assert.ok(!patternMatches('om\\%', 'om_migrate'));
    assert.ok(!patternMatches('omm\\_%', 'om_migrate'));
    assert.ok(patternMatches('om\\_%', 'om_x') && !patternMatches('om\\_%', 'omxx'), 'an escaped underscore is only itself');
  });

  it('the grants that reach om_migrate: write and DDL privileges at any level, and PROXY; never SELECT, EXECUTE or other databases', () => {
    const reaching = grantsWriting(lines.flatMap((l) => parseGrant(l) ?? []), 'om_migrate').map((g) => g.text);
    assert.deepEqual(reaching, [
      'GRANT ALL PRIVILEGES ON `om\\_%`.*',
      'GRANT INSERT ON `om_%`.*',
      'GRANT UPDATE (`status`, `x ON y`) ON `om_migrate`.`om_migrate_journal`',
      'GRANT PROXY ON \'root\'@\'localhost\'',
    ]);
    assert.ok(grantsSetGlobal(lines.flatMap((l) => parseGrant(l) ?? [])), 'SYSTEM_VARIABLES_ADMIN sets globals itself');
    assert.ok(!grantsSetGlobal([parseGrant(lines[6])!]), 'PROCESS does not');
  });
});

describe('the restore\'s scan of a SQL dump (the client in --binary-mode)', () => {
  const scan = (text: string, chunk = 7): string[] => {
    const s = new MysqlDumpScanner();
    const buf = Buffer.from(text);
    for (let i = 0; i < buf.length; i += chunk) s.push(buf.subarray(i, i + chunk));
    return s.end();
  };

  it('accepts what mariadb-dump writes: the sandbox line, executable comments, DELIMITER blocks, quotes of every kind', () => {
    const dump = [
      '/*M!999999\\- enable the sandbox mode */ ',
      '-- MariaDB dump 10.19  Distrib 10.11.19-MariaDB',
      '/*!40101 SET NAMES utf8mb4 */;',
      '-- Table structure for table `x',
      '-- USE other;',
      '-- y`',
      'CREATE TABLE `x\nUSE other;\ny` (`a` int);',
      "INSERT INTO `t` VALUES (1,'USE other;\\n\\' ; \\\\',\"USE x\"),(2,'it''s');",
      'DELIMITER ;;',
      '/*!50003 CREATE*/ /*!50017 DEFINER=`app`@`%`*/ /*!50003 TRIGGER `tr` BEFORE INSERT ON `t` FOR EACH ROW BEGIN',
      '  SET @a = \'; USE other\';',
      'END */;;',
      'DELIMITER ;',
      '# USE no',
      '/* USE no; */ SELECT 1;',
      '-- Dump completed on 2031-01-01',
    ].join('\n');
    for (const chunk of [1, 3, 7, 4096]) assert.deepEqual(scan(dump, chunk), [], `chunks of ${chunk}`);
  });

  it('names client commands and statements that leave the database, with their lines', () => {
    const found = scan([
      'CREATE TABLE a (b int);',
      '\\! touch /tmp/x',
      'system touch /tmp/y',
      '  use `other` ;',
      '/*!USE other2*/;',
      "INSERT INTO a VALUES (1);CREATE DATABASE z;",
    ].join('\n'));
    assert.deepEqual(found, [
      'line 2: the client command \\! (\\! touch /tmp/x)',
      'line 3: the client command system (system touch /tmp/y)',
      'line 4: a USE statement (use `other`), which takes the restore out of the database it restores',
      'line 5: a USE statement (USE other2), which takes the restore out of the database it restores',
      'line 6: a statement on a whole database (CREATE DATABASE z)',
    ]);
  });
});
