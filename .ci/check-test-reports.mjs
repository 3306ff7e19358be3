// Reads the Vitest JSON reports a CI run wrote (FIBSTACK_TEST_REPORT_DIR) and fails unless they show what
// the exit codes claim: every test passed, none was skipped, and each part of the suite ran at least the
// number of tests .ci/expected-tests.json declares for it (a file or project silently not collected
// would otherwise go unnoticed).
//   node .ci/check-test-reports.mjs REPORT_DIR EXPECTED_JSON   the suite's reports
//   node .ci/check-test-reports.mjs REPORT_DIR --canary         the canary's: one test passed, one failed
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const [reportDir, expectation] = process.argv.slice(2);
if (!reportDir || !expectation) {
  console.error('usage: check-test-reports.mjs REPORT_DIR (EXPECTED_JSON | --canary)');
  process.exit(2);
}

const reports = readdirSync(reportDir)
  .filter((name) => name.endsWith('.json'))
  .map((name) => ({ name, report: JSON.parse(readFileSync(join(reportDir, name), 'utf8')) }));
const tests = reports.flatMap(({ report }) =>
  report.testResults.flatMap((file) => file.assertionResults.map((test) => ({ ...test, file: file.name }))),
);
const count = (status) => tests.filter((test) => test.status === status).length;
const problems = [];

if (expectation === '--canary') {
  // The canary must have run and failed for the reason it exists, not for a broken setup.
  if (reports.length !== 1) problems.push(`expected one canary report, found ${reports.length}`);
  if (count('passed') !== 1 || count('failed') !== 1 || tests.length !== 2) {
    problems.push(
      `expected 1 passed and 1 failed canary test, got ${count('passed')} passed, ${count('failed')} failed of ${tests.length}`,
    );
  }
} else {
  if (reports.length === 0) problems.push(`no Vitest report in ${reportDir}`);
  for (const { name, report } of reports) {
    if (!report.success) problems.push(`${name}: the run did not succeed (failed tests or errors outside tests)`);
  }
  for (const test of tests.filter((test) => test.status !== 'passed')) {
    problems.push(`${test.status}: ${relative(root, test.file)} › ${test.fullName}`);
  }
  // Tests are grouped by the folder they live in: a workspace, or tests/<suite>.
  const areaOf = (file) => {
    const [first, second] = relative(root, file).split('/');
    return first === 'tests' ? second : first;
  };
  const ran = new Map();
  for (const test of tests.filter((test) => test.status === 'passed')) ran.set(areaOf(test.file), (ran.get(areaOf(test.file)) ?? 0) + 1);
  const declared = JSON.parse(readFileSync(expectation, 'utf8'));
  for (const [area, minimum] of Object.entries(declared)) {
    const actual = ran.get(area) ?? 0;
    console.log(`${area}: ${actual} tests passed (declared at least ${minimum})`);
    if (actual < minimum) problems.push(`${area}: ${actual} tests passed, fewer than the ${minimum} declared`);
  }
  for (const area of ran.keys()) if (!(area in declared)) problems.push(`${area}: tests ran but no count is declared for it`);
}

if (expectation === '--canary') console.log(`canary: ${count('passed')} passing and ${count('failed')} failing test, as intended`);
else console.log(`${count('passed')} passed, ${count('failed')} failed, ${tests.length - count('passed') - count('failed')} skipped`);
if (problems.length > 0) {
  console.error(`test reports in ${reportDir} show problems:\n  ${problems.join('\n  ')}`);
  process.exit(1);
}
