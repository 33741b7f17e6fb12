import type { JournalEntry, ParameterSetting } from '../dialects/types.js';
import { OmMigrateError } from '../errors.js';
import { parameterGroupHint } from './managedHint.js';
import { firstLine, needKey, type ParameterRequest, type ParameterRun } from './ParameterRun.js';
import { revertParameterChanges } from './revertParameterChanges.js';

/**
 * Journals, then applies each request whose value is not high enough yet, through the admin connection when one is
 * configured, else the application user. Requests already satisfied still register the run's need for a shared value.
 * A privilege refusal puts back what this call already changed and throws BLOCKED; the refused entry is marked
 * `refused` (nothing changed). Returns the entries applied.
 */
export async function applyParameterChanges(run: ParameterRun, requests: ParameterRequest[]): Promise<JournalEntry[]> {
  const applied: JournalEntry[] = [];
  for (const request of requests) {
    const { dialect: executor, via } = await run.executorFor(request.target);
    const server = await executor.params.serverIdentity();
    const key = needKey(server, request.parameter, request.scope, request.object);
    const change = async (): Promise<void> => {
      if (run.closed) {
        throw new OmMigrateError('INTERRUPTED', 'the run is putting its parameters back; no further change is made');
      }
      if (key !== undefined) {
        if (run.changedKeys.has(key)) return;
        if (!run.needs.has(key)) {
          // On the connection that changes the value: only its account's needs count (an application session can
          // take the same lock names, and must not keep a value raised by taking them).
          await executor.coordination.holdNeed(key);
          run.needs.set(key, executor);
        }
      }
      // Planned now, under the mutex and after the need is held, so that no run can revert the value in between.
      const plan = await request.plan(executor);
      if (!plan) return;
      const journal = await run.journalFor(request.target, via);
      const now = new Date().toISOString();
      const entry: JournalEntry = {
        ...plan, id: run.nextEntryId(), runId: run.runId, database: request.target.spec.database, server, via,
        status: 'pending', holder: run.holder, createdAt: now, updatedAt: now, note: null,
      };
      await journal.insert(entry);
      await run.observer.journaled?.(entry);
      try {
        await executor.params.apply(plan);
      } catch (error) {
        if (!executor.params.isPrivilegeRefusal(error)) throw error; // the entry stays pending: the revert covers it
        await journal.setStatus(entry.id, 'refused', firstLine(error));
        if (applied.length > 0) await revertParameterChanges(run, { entries: applied, releaseNeeds: false });
        throw await refusalError(run, request, plan, executor.params.applyStatements(plan), error);
      }
      await journal.setStatus(entry.id, 'applied');
      entry.status = 'applied';
      if (key !== undefined) run.changedKeys.add(key);
      applied.push(entry);
      await run.observer.applied?.(entry);
    };
    if (key === undefined) await change();
    else await executor.coordination.exclusive(change);
  }
  return applied;
}

async function refusalError(run: ParameterRun, request: ParameterRequest, plan: ParameterSetting, sql: string[],
  error: unknown): Promise<OmMigrateError> {
  const { target } = request;
  const viaAdmin = (await run.adminFor(target)) !== undefined;
  const who = viaAdmin ? 'the --admin-url account' : `${target.spec.user} (no --admin-url given)`;
  const managed = target.server.managed;
  const place = parameterGroupHint(target.dialect.engine, plan.parameter, plan.next, managed);
  return new OmMigrateError('BLOCKED',
    `${target.role}: the server refused ${sql[0]} for ${who}: ${firstLine(error)}; nothing was changed`,
    {
      cause: error,
      hint: `${viaAdmin ? '' : 'Give --admin-url (OM_MIGRATE_ADMIN_URL) with an account that may change server parameters, or '}${place}`,
      details: { target: target.role, parameter: plan.parameter, scope: plan.scope, sql, managed: managed ?? null },
    });
}
