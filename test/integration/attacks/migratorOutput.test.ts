import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { CLI } from '../../fixtures/upScenario.js';
import { ledgerRows, omVersion, upTestServers } from '../../helpers/upHarness.js';

/**
 * What a migrator prints is shown, kept in the ledger and put in --json: it must never carry a configured secret or a
 * URL's password, a single enormous line must not fail the run after the migration succeeded (the ledger's TEXT column),
 * and millions of lines must not grow om-migrate's memory.
 */
const { engines, scenario } = upTestServers();
const dirs: string[] = [];
after(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

const URL_SECRET = 'Url-Embedded-pw';
const LINES = 2_000_000;

/** Prints the secrets (one straddling the 4096-character cut of a 300 KB line, one across a 64 KB pipe chunk), then 2 M lines. */
const NOISY = `
const { once } = require('node:events');
const pw = process.env.DB_USER_PASSWORD;
const out = process.stdout;
(async () => {
  const write = async (text) => { if (!out.write(text)) await once(out, 'drain'); };
  await write('connecting as ' + process.env.DB_USER + ' with password ' + pw + ' via postgresql://someone:${URL_SECRET}@db.example/x\\n');
  await write('a'.repeat(4090) + pw + 'b'.repeat(300 * 1024) + '\\n');
  await write('c'.repeat(65530) + pw + 'd'.repeat(1000) + '\\n');
  let buf = '';
  for (let i = 0; i < ${LINES}; i += 1) {
    buf += 'line ' + i + '\\n';
    if (buf.length > 65536) { await write(buf); buf = ''; }
  }
  await write(buf + 'noisy: done\\n');
})();
`;

interface Measured {
  code: number | null;
  stdout: string;
  stderr: string;
  peakRssKb: number;
}

/** Runs `up` under /usr/bin/time (peak RSS), its output to files: 2 M lines do not belong in the test's memory. */
function measuredUp(env: NodeJS.ProcessEnv, dir: string): Promise<Measured> {
  const outFile = join(dir, 'stdout');
  const errFile = join(dir, 'stderr');
  const rssFile = join(dir, 'rss');
  const out = openSync(outFile, 'w');
  const err = openSync(errFile, 'w');
  const child = spawn('/usr/bin/time', ['-o', rssFile, '-f', '%M', process.execPath, CLI, 'up', '--json'], { env, stdio: ['ignore', out, err] });
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (code) => {
      closeSync(out);
      closeSync(err);
      resolve({ code, stdout: readFileSync(outFile, 'utf8'), stderr: readFileSync(errFile, 'utf8'), peakRssKb: Number(readFileSync(rssFile, 'utf8').trim().split('\n').pop()) });
    });
  });
}

for (const engine of engines) {
  describe(`migrator output: ${engine.label}`, () => {
    it('a secret, a URL password, a 300 KB line and 2 M lines: redacted, bounded, the run succeeds and its ledger row fits', async () => {
      const sc = await scenario(engine.server());
      const dir = mkdtempSync(join(tmpdir(), 'omm-noisy-'));
      dirs.push(dir);
      writeFileSync(join(dir, 'noisy.cjs'), NOISY);
      const secret = sc.om.appSpec.password!;
      const run = await measuredUp({
        ...sc.env, NO_COLOR: '1',
        OM_MIGRATE_OM_COMMAND: `'${process.execPath}' '${join(dir, 'noisy.cjs')}' && exec ./bootstrap/openmetadata-ops.sh migrate`,
      }, dir);
      assert.equal(run.code, 0, `${run.stdout}\n${run.stderr.slice(-3000)}`);
      assert.equal(await omVersion(sc), '1.11.0');
      assert.match(run.stderr, /noisy: done/, 'the output was read to its end');

      for (const [name, text] of [['stdout', run.stdout], ['stderr', run.stderr]] as const) {
        assert.ok(!text.includes(secret), `${name} never shows the password`);
        assert.doesNotMatch(text, /a{100}pw-/, `${name} shows no part of a password the line cut went through`);
        assert.ok(!text.includes(URL_SECRET), `${name} never shows a URL's password`);
      }
      let longest = 0;
      for (const l of run.stderr.split('\n')) longest = Math.max(longest, l.length);
      assert.ok(longest < 5000, `no printed line is longer than the cut (${longest})`);
      assert.match(run.stderr, /characters cut/);
      assert.equal(run.stderr.split('\n').filter((l) => /^ +a{100}/.test(l)).length, 1, 'the 300 KB line is printed once, cut, not in pieces');

      const rows = (await ledgerRows(sc))!;
      const step = rows.find((r) => r.step === 'openmetadata/server-migrate');
      assert.equal(step?.status, 'done');
      for (const r of rows) {
        const tail = r.outputTail ?? '';
        assert.ok(tail.length <= 16 * 1024 + 100, `${r.step}: the kept output is bounded (${tail.length})`);
        assert.ok(!tail.includes(secret) && !tail.includes(URL_SECRET), `${r.step}: no secret in the ledger`);
      }
      assert.ok(!JSON.stringify(JSON.parse(run.stdout)).includes(secret), 'nor in --json');
      // 2 M lines held in memory took 400 MB; streaming, om-migrate stays near its usual ~100 MB.
      assert.ok(run.peakRssKb < 250 * 1024, `peak RSS ${Math.round(run.peakRssKb / 1024)} MB`);
    });
  });
}

/** A password with a space, both quotes, a backslash, %, +, &, = and characters beyond ASCII (two bytes, three, four). */
const ODD_PASSWORD = 'Sp ce"Qu\\ot%41+&=é\'€😀-pw';

/** The forms a migrator (Java, Python, a shell) may print a password in, each on a line of its own. */
const ENCODINGS = `
const pw = process.env.DB_USER_PASSWORD;
const asciiJson = (s) => JSON.stringify(s).replace(/[\\u0080-\\uffff]/g, (c) => '\\\\u' + c.charCodeAt(0).toString(16).padStart(4, '0'));
const forms = {
  json: JSON.stringify({ password: pw }),
  asciiJson: '{"password": ' + asciiJson(pw) + '}',
  upperAsciiJson: asciiJson(pw).replace(/\\\\u([0-9a-f]{4})/g, (m, h) => '\\\\u' + h.toUpperCase()),
  form: new URLSearchParams({ user: 'x', password: pw }).toString(),
  lowerPercent: 'jdbc:x?password=' + encodeURIComponent(pw).replace(/%[0-9A-F]{2}/g, (m) => m.toLowerCase()),
  shellSingle: "PGPASSWORD='" + pw.replace(/'/g, "'\\\\''") + "'",
  shellDouble: 'PASSWORD="' + pw.replace(/["\\\\$\`]/g, (c) => '\\\\' + c) + '"',
  sql: "IDENTIFIED BY '" + pw.replace(/'/g, "''") + "'",
  base64: 'Basic ' + Buffer.from(pw).toString('base64'),
};
for (const [name, text] of Object.entries(forms)) console.error(name + ': ' + text);
process.exit(Number(process.env.ENCODINGS_EXIT ?? '0'));
`;

/** What each form looks like, for the checks: the printed value without the label. */
function encodings(pw: string): Record<string, string> {
  const asciiJson = (s: string) => JSON.stringify(s).replace(/[\u0080-\uffff]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
  return {
    plain: pw,
    json: JSON.stringify(pw).slice(1, -1),
    asciiJson: asciiJson(pw).slice(1, -1),
    upperAsciiJson: asciiJson(pw).slice(1, -1).replace(/\\u([0-9a-f]{4})/g, (m, h: string) => `\\u${h.toUpperCase()}`),
    form: new URLSearchParams({ password: pw }).toString().slice('password='.length),
    lowerPercent: encodeURIComponent(pw).replace(/%[0-9A-F]{2}/g, (m) => m.toLowerCase()),
    shellSingle: pw.replace(/'/g, "'\\''"),
    shellDouble: pw.replace(/["\\$`]/g, (c) => `\\${c}`),
    sql: pw.replace(/'/g, "''"),
    base64: Buffer.from(pw).toString('base64'),
  };
}

async function setPassword(sc: { server: { engine: string }; om: { appSpec: { user: string }; root: { knex: { raw(sql: string, bindings?: unknown[]): Promise<unknown> } } } }, pw: string): Promise<void> {
  const knex = sc.om.root.knex;
  if (sc.server.engine === 'mysql') {
    for (const host of ['%', 'localhost']) await knex.raw('ALTER USER ?@? IDENTIFIED BY ?', [sc.om.appSpec.user, host, pw]);
  } else {
    // PASSWORD takes a literal, not a parameter: quoted here (no backslash escapes in a standard string).
    await knex.raw(`ALTER ROLE "${sc.om.appSpec.user}" PASSWORD '${pw.replace(/'/g, "''")}'`);
  }
}

for (const engine of engines) {
  describe(`migrator output, every encoding of a password: ${engine.label}`, () => {
    for (const outcome of ['succeeds', 'fails'] as const) {
      it(`JSON-escaped, form-encoded, lower-case %xx, quoted and base64 forms are redacted when the step ${outcome}: stderr, --json, ledger, status --json`, async () => {
        const sc = await scenario(engine.server());
        const dir = mkdtempSync(join(tmpdir(), 'omm-encodings-'));
        dirs.push(dir);
        writeFileSync(join(dir, 'encodings.cjs'), ENCODINGS);
        await setPassword(sc, ODD_PASSWORD);
        const env = {
          ...sc.env, NO_COLOR: '1', DB_USER_PASSWORD: ODD_PASSWORD, ENCODINGS_EXIT: outcome === 'fails' ? '3' : '0',
          OM_MIGRATE_OM_COMMAND: `'${process.execPath}' '${join(dir, 'encodings.cjs')}' && exec ./bootstrap/openmetadata-ops.sh migrate`,
        };
        const run = await measuredUp(env, dir);
        assert.equal(run.code, outcome === 'fails' ? 8 : 0, `${run.stdout}\n${run.stderr.slice(-3000)}`);
        const status = spawnSync(process.execPath, [CLI, 'status', '--json'], { env, encoding: 'utf8' });
        assert.equal(status.status, 0, status.stderr);
        const rows = (await ledgerRows(sc))!;
        const places: Array<[string, string]> = [
          ['stderr', run.stderr], ['--json', run.stdout], ['status --json', status.stdout],
          ['ledger', rows.map((r) => `${r.outputTail ?? ''}\n${r.stateBefore ?? ''}\n${r.stateAfter ?? ''}`).join('\n')],
        ];
        for (const [place, text] of places) {
          for (const [form, encoded] of Object.entries(encodings(ODD_PASSWORD))) {
            assert.ok(!text.includes(encoded), `${place} shows the password ${form}: ${encoded}`);
          }
          // The distinctive inner part, as a migrator might print it cut or re-quoted some other way.
          assert.ok(!/Qu.{0,4}ot/.test(text), `${place} shows part of the password`);
        }
        for (const form of ['json', 'asciiJson', 'form', 'lowerPercent', 'shellSingle', 'sql', 'base64']) {
          assert.match(run.stderr, new RegExp(`${form}: .*\\*\\*\\*`), `the migrator's ${form} line was printed, redacted`);
        }
      });
    }
  });
}
