#!/usr/bin/env node
/**
 * Runs every test of the given files alone, one vitest process each (`vitest run <file> -t
 * "<full name>"`), then each file whole in shuffled orders: the proof that no test leans on what
 * another one did (tests/helpers/fixtures.ts gives each its own world). A host starts per
 * process, so this takes minutes: a check to run after changing how tests set up, not part of CI.
 *
 *   node tools/run-each-test.mjs [files...]   default: tests/e2e and tests/integration
 *     --shuffles N      shuffled runs of each file, each with its own seed (default 2; 0: none)
 *     --shuffled-only   skip the runs of single tests
 *
 * Exits 1 if a test fails alone, a pattern does not select exactly its one test, or a shuffled
 * run fails. One vitest at a time: the machine is shared.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
const vitest = join(root, 'node_modules/vitest/vitest.mjs');
// dist/ is only for the smoke tests; building it per process would cost seconds each time.
const env = { ...process.env, ROGER_SKIP_BUILD: '1' };

const args = process.argv.slice(2);
const shufflesAt = args.indexOf('--shuffles');
const shuffles = shufflesAt >= 0 ? Number(args.splice(shufflesAt, 2)[1]) : 2;
const shuffledOnlyAt = args.indexOf('--shuffled-only');
const shuffledOnly = shuffledOnlyAt >= 0 && args.splice(shuffledOnlyAt, 1).length > 0;
const targets = args.length > 0 ? args : ['tests/e2e', 'tests/integration'];
const files = targets.flatMap((target) =>
  target.endsWith('.ts')
    ? [target]
    : readdirSync(join(root, target))
        .filter((name) => name.endsWith('.test.ts'))
        .sort()
        .map((name) => join(target, name)),
);

const scratch = mkdtempSync(join(tmpdir(), 'run-each-test-'));
const report = join(scratch, 'report.json');

/** The failed tests of a JSON report, each with the first lines of its first failure. */
const failedIn = (summary) =>
  summary.testResults
    .flatMap((file) => file.assertionResults)
    .filter((test) => test.status === 'failed')
    .map((test) => `  ${test.fullName}\n    ${(test.failureMessages[0] ?? '').split('\n').slice(0, 6).join('\n    ')}`)
    .join('\n');

/** One vitest process; its JSON report (numPassedTests, numFailedTests, …) and wall time. */
function run(vitestArgs) {
  const started = Date.now();
  const result = spawnSync(process.execPath, [vitest, ...vitestArgs, '--reporter=json', `--outputFile.json=${report}`], {
    cwd: root,
    env,
    encoding: 'utf8',
  });
  let summary;
  try {
    summary = JSON.parse(readFileSync(report, 'utf8'));
    rmSync(report);
  } catch {
    summary = undefined;
  }
  return { summary, seconds: (Date.now() - started) / 1000, output: `${result.stdout}\n${result.stderr}` };
}

/** Full names as `vitest list` prints them: suite names and the test name joined by ' > '. */
function testNames(file) {
  const listed = spawnSync(process.execPath, [vitest, 'list', file, '--json'], { cwd: root, env, encoding: 'utf8' });
  const json = listed.stdout.slice(listed.stdout.indexOf('['));
  return JSON.parse(json).map((test) => test.name);
}

/** vitest matches -t against the suite and test names joined by spaces: anchored, it selects one test. */
const patternFor = (name) =>
  `(^| )${name
    .split(' > ')
    .join(' ')
    .replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`;

const failures = [];
let alone = 0;
let aloneSeconds = 0;
for (const file of files) {
  const names = testNames(file);
  for (const name of shuffledOnly ? [] : names) {
    const { summary, seconds, output } = run(['run', file, '-t', patternFor(name)]);
    alone += 1;
    aloneSeconds += seconds;
    const ok = summary && summary.numPassedTests === 1 && summary.numFailedTests === 0;
    console.log(`${ok ? 'pass' : 'FAIL'} ${seconds.toFixed(1).padStart(5)} s  ${relative('.', file)} > ${name}`);
    if (!ok)
      failures.push({
        what: `${file} > ${name} alone`,
        detail: summary ? `${summary.numPassedTests} passed, ${summary.numFailedTests} failed\n${failedIn(summary)}` : output.slice(-2000),
      });
  }
  for (let i = 0; i < shuffles; i++) {
    const seed = Math.floor(Math.random() * 1e9);
    const { summary, seconds, output } = run(['run', file, '--sequence.shuffle', `--sequence.seed=${seed}`]);
    const ok = summary && summary.numFailedTests === 0 && summary.numPassedTests === names.length;
    console.log(
      `${ok ? 'pass' : 'FAIL'} ${seconds.toFixed(1).padStart(5)} s  ${relative('.', file)} shuffled (seed ${seed}, ${names.length} tests)`,
    );
    if (!ok)
      failures.push({
        what: `${file} shuffled with seed ${seed}`,
        detail: summary ? `${summary.numPassedTests} passed, ${summary.numFailedTests} failed\n${failedIn(summary)}` : output.slice(-2000),
      });
  }
}
rmSync(scratch, { recursive: true, force: true });

console.log(
  `\n${alone - failures.filter((f) => f.what.endsWith(' alone')).length}/${alone} tests pass alone (${aloneSeconds.toFixed(0)} s in all); ${failures.length} failure(s).`,
);
for (const failure of failures) console.log(`\nFAIL ${failure.what}\n${failure.detail}`);
process.exit(failures.length === 0 ? 0 : 1);
