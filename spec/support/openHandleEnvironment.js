// jest's node environment that notes what spec files leave open: the handles they made (timers,
// sockets, child processes, worker threads, watchers) that still keep the event loop alive a
// moment after the file ended, with where each was made; and, when jest tells the worker to end,
// whatever still holds the worker then (a worker that does not exit within jest's 500 ms is
// force-exited, with a warning). Used by `npm run test:handles`, which sets
// LOGGREGATOR_SPEC_HANDLES to the file the notes go to.
const { TestEnvironment } = require('jest-environment-node');
const { createHook } = require('node:async_hooks');
const { appendFileSync } = require('node:fs');

/** Requests, callbacks and resources that hold nothing open by themselves; too many to trace. */
const UNTRACED = new Set([
  'PROMISE', 'TickObject', 'Microtask', 'FSREQCALLBACK', 'FSREQPROMISE', 'WRITEWRAP', 'SHUTDOWNWRAP', 'QUERYWRAP',
  'GETADDRINFOREQWRAP', 'GETNAMEINFOREQWRAP', 'TCPCONNECTWRAP', 'PIPECONNECTWRAP', 'RANDOMBYTESREQUEST', 'PBKDF2REQUEST',
  'ZLIB', 'HTTPCLIENTREQUEST', 'HTTPINCOMINGMESSAGE', 'SENDWRAP', 'FILEHANDLE', 'PendingRequest', 'DNSCHANNEL',
  'HTTP2SETTINGS', 'HTTP2PING', 'TLSWRAP', 'HTTP2SESSION', 'HTTP2STREAM', 'ELDHISTOGRAM', 'SIGNREQUEST', 'JSSTREAM',
]);
/** How long a closing handle may take before it counts as left open (jest waits 500 ms). */
const GRACE_MS = 300;
/** jest-worker's message to a worker that the run is over. */
const CHILD_MESSAGE_END = 2;

/** Whether a handle still keeps the event loop alive (an unref'd one does not). */
function holds({ type, resource }) {
  if (type === 'Timeout' || type === 'Immediate') return resource.hasRef() && !resource._destroyed;
  return typeof resource.hasRef === 'function' ? resource.hasRef() : true;
}

function describe(handles) {
  return handles.map(({ type, spec, stack }) => `  ${type} made by ${spec}\n${stack}`).join('\n');
}

/** Every live handle of this worker process, by async id, with the spec file that made it. */
const live = new Map();
let currentSpec = '(between spec files)';

function traceWorker() {
  if (live.traced) return;
  live.traced = true;
  createHook({
    init: (id, type, _trigger, resource) => {
      if (!UNTRACED.has(type)) live.set(id, { type, resource, spec: currentSpec, stack: new Error().stack.split('\n').slice(3, 13).join('\n') });
    },
    destroy: id => live.delete(id),
  }).enable();
  // A 'message' listener keeps the worker's IPC channel open: this one goes at the end.
  process.on('message', function ended(message) {
    if (!Array.isArray(message) || message[0] !== CHILD_MESSAGE_END) return;
    process.off('message', ended);
    // Whether a worker jest force-exits is held (no 'exit' line) or only slow to exit.
    const endedAt = Date.now();
    const note = text => appendFileSync(process.env.LOGGREGATOR_SPEC_HANDLES, `worker ${process.pid} ${text}\n`);
    // The process ends after 'exit' once the OS has freed its memory (about half a second for a
    // worker of a gigabyte, so its size is noted too) and any garbage collection under way ends.
    const megabytes = Math.round(process.memoryUsage.rss() / 2 ** 20);
    note(`told the run is over, at ${megabytes} MiB resident; active then: ${process.getActiveResourcesInfo().join(', ')}`);
    process.once('exit', () => note(`ran its 'exit' event ${Date.now() - endedAt} ms after`));
    setTimeout(() => {
      const holding = [...live.values()].filter(holds);
      if (holding.length > 0) note(`still held ${GRACE_MS} ms after the end of the run by\n${describe(holding)}`);
      else note(`still running ${GRACE_MS} ms after the end of the run; active: ${process.getActiveResourcesInfo().join(', ')}`);
    }, GRACE_MS).unref();
  });
}

class OpenHandleEnvironment extends TestEnvironment {
  constructor(config, context) {
    super(config, context);
    this.specPath = context.testPath;
    traceWorker();
  }

  async setup() {
    currentSpec = this.specPath;
    await super.setup();
  }

  async teardown() {
    await new Promise(resolve => setTimeout(resolve, GRACE_MS));
    const left = [...live.values()].filter(handle => handle.spec === this.specPath && holds(handle));
    if (left.length > 0) appendFileSync(process.env.LOGGREGATOR_SPEC_HANDLES, `${this.specPath}: ${left.length} left open\n${describe(left)}\n`);
    currentSpec = '(between spec files)';
    await super.teardown();
  }
}

module.exports = OpenHandleEnvironment;
