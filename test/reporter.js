// Fails the run when any test is skipped or todo (a missing component must fail, never skip),
// and closes with one plain summary line.
class NoSkipsReporter {
  constructor() {
    this.error = undefined;
  }

  onRunComplete(_contexts, results) {
    const skipped = results.numPendingTests + results.numTodoTests;
    const failed = results.numFailedTests + results.numRuntimeErrorTestSuites;
    if (skipped > 0) {
      const names = [];
      for (const suite of results.testResults) {
        for (const t of suite.testResults) if (t.status === 'pending' || t.status === 'todo') names.push(`${t.fullName} (${suite.testFilePath})`);
      }
      this.error = new Error(`${skipped} test(s) skipped; skipping is a failure here:\n  ${names.join('\n  ')}`);
      process.stderr.write(`\n${this.error.message}\n`);
    }
    // Printed at exit so it is the run's last line, after jest's own summary.
    const line = `\ntests: ${results.numPassedTests} passed, ${failed + skipped} failed, ${skipped} skipped\n`;
    process.once('exit', () => process.stdout.write(line));
  }

  getLastError() {
    return this.error;
  }
}
module.exports = NoSkipsReporter;
