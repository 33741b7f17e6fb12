/**
 * The SHA-256 floor: CPU seconds this machine needs to hash `bytes` bytes already in memory (Node's OpenSSL, the same
 * createHash the backup uses, 4 MB updates), with no I/O at all. Prints one JSON line. Run as a child, pinned like the
 * om-migrate process it is compared with. Usage: node hashFloor.js BYTES
 */
import { createHash, randomBytes } from 'node:crypto';

const bytes = Number(process.argv[2]);
const buffer = randomBytes(4 * 1024 * 1024);
const before = process.resourceUsage();
const hash = createHash('sha256');
for (let done = 0; done < bytes; done += buffer.length) hash.update(done + buffer.length <= bytes ? buffer : buffer.subarray(0, bytes - done));
hash.digest();
const after = process.resourceUsage();
process.stdout.write(`${JSON.stringify({ cpuSeconds: (after.userCPUTime - before.userCPUTime + after.systemCPUTime - before.systemCPUTime) / 1e6 })}\n`);
