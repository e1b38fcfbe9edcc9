// Used by `npm run test:handles`: notes how long jest's workers took to exit after the last spec
// file ended. jest tells them to end then and force-exits, with a warning, any worker that has
// not exited 500 ms later; a worker's exit includes the OS freeing its memory, so this is the
// time that matters, not when the worker's own 'exit' event ran.
const { appendFileSync } = require('node:fs');

class WorkerExitReporter {
  onTestFileResult() {
    this.lastFileEndedAt = Date.now();
  }

  onRunComplete() {
    if (this.lastFileEndedAt === undefined) return;
    appendFileSync(process.env.LOGGREGATOR_SPEC_HANDLES, `workers exited ${Date.now() - this.lastFileEndedAt} ms after the last spec file ended (jest force-exits a worker after 500 ms)\n`);
  }
}
module.exports = WorkerExitReporter;
