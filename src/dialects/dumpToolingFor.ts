import type { Engine } from '../config/ConnectionSpec.js';
import type { DumpTooling } from './types.js';

/** An engine's dump tooling without a connection: verifying a backup file needs no database. */
export async function dumpToolingFor(engine: Engine): Promise<DumpTooling> {
  if (engine === 'mysql') {
    const { MysqlDumpTool } = await import('./mysql/MysqlDumpTool.js');
    return new MysqlDumpTool();
  }
  const { PostgresDumpTool } = await import('./postgres/PostgresDumpTool.js');
  return new PostgresDumpTool();
}
