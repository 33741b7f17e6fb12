/**
 * Preloaded into the om-migrate process by the benchmarks (`node --import …/ownUsage.js`): at exit it writes the
 * process's own resource usage — user and system CPU of this process only, not of the dump tools it waited for, and
 * its peak RSS — to the file named by OMM_BENCH_USAGE_FILE. Nothing else changes in the process.
 */
import { writeFileSync } from 'node:fs';

const file = process.env.OMM_BENCH_USAGE_FILE;
if (file) {
  process.on('exit', () => {
    const r = process.resourceUsage();
    writeFileSync(file, JSON.stringify({ userUs: r.userCPUTime, systemUs: r.systemCPUTime, maxRssKb: r.maxRSS }));
  });
}
