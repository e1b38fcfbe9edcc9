// Ends every jest run with one plain line that any CI can read: "tests: N passed, N failed, N skipped".
// A suite that fails to load counts as failed (jest itself reports 0 failed tests for it).
// Printed on exit, so that it comes after jest's own summary (stderr writes to a pipe or file
// are synchronous, so nothing is lost).
class SummaryReporter {
  onRunComplete(_contexts, results) {
    const failed = results.numFailedTests + results.numRuntimeErrorTestSuites;
    const skipped = results.numPendingTests + results.numTodoTests;
    process.once('exit', () => process.stderr.write(`tests: ${results.numPassedTests} passed, ${failed} failed, ${skipped} skipped\n`));
  }
}
module.exports = SummaryReporter;
