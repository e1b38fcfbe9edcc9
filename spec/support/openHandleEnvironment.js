// jest's node environment that notes, for each spec file, what it left open: the handles it made
// (timers, sockets, child processes, watchers) that still keep the event loop alive a moment
// after the file ended, with where each was made. A handle left open by
// the last files of a run makes jest force-exit its worker. Used by `npm run test:handles`,
// which sets LOGGREGATOR_SPEC_HANDLES to the file the notes go to.
const { TestEnvironment } = require('jest-environment-node');
const { createHook } = require('node:async_hooks');
const { appendFileSync } = require('node:fs');

const TRACED = new Set(['Timeout', 'TCPWRAP', 'UDPWRAP', 'PIPEWRAP', 'PROCESSWRAP', 'FSEVENTWRAP']);
/** How long a closing handle may take before it counts as left open (jest waits 500 ms). */
const GRACE_MS = 300;

/** Whether a handle still keeps the event loop alive (an unref'd one does not). */
function holds({ type, resource }) {
  if (type === 'Timeout') return resource.hasRef() && !resource._destroyed;
  return typeof resource.hasRef === 'function' ? resource.hasRef() : true;
}

class OpenHandleEnvironment extends TestEnvironment {
  constructor(config, context) {
    super(config, context);
    this.specPath = context.testPath;
    this.made = new Map();
  }

  async setup() {
    this.hook = createHook({
      init: (id, type, _trigger, resource) => {
        if (TRACED.has(type)) this.made.set(id, { type, resource, stack: new Error().stack.split('\n').slice(3, 13).join('\n') });
      },
      destroy: id => this.made.delete(id),
    }).enable();
    await super.setup();
  }

  async teardown() {
    await new Promise(resolve => setTimeout(resolve, GRACE_MS));
    this.hook.disable();
    const left = [...this.made.values()].filter(holds);
    if (left.length > 0) {
      appendFileSync(process.env.LOGGREGATOR_SPEC_HANDLES, `${this.specPath}: ${left.length} left open\n${left.map(({ type, stack }) => `  ${type} made\n${stack}`).join('\n')}\n`);
    }
    await super.teardown();
  }
}

module.exports = OpenHandleEnvironment;
