// runDrains: binding sets → one writer per binding. A writer that fails all the same (here its
// frame encoder throws on one line) is started again after a backoff, alone, and hears a stop
// that came while it was down.
import { Registry } from 'prom-client';
import { Subject } from 'rxjs';
import { DrainMetrics } from '../../../src/drain/drainMetrics';
import { runDrains } from '../../../src/drain/drains';
import { encodeSyslogMessage, octetCounted } from '../../../src/envelope/rfc5424';
import { parseStoreEntry } from '../../../streams/binding';
import { BindingSet } from '../../../streams/bindingSets';
import { LogLine } from '../../../streams/logLine';
import { DRAIN_HOST, QUICK_DRAIN, captureLogger, drainConfig } from '../../support/drainWriterHarness';
import { SyslogReceiver, startSyslogReceiver } from '../../support/syslogReceiver';
import { envelope } from '../../support/udpSender';
import { waitFor } from '../../support/waitFor';

jest.setTimeout(30_000);

function bindingTo(port: number) {
  const parsed = parseStoreEntry({ key: 'app-a/1', value: JSON.stringify({ url: `syslog://127.0.0.1:${port}` }) });
  if (!parsed.ok) throw new Error(parsed.reason);
  return parsed.binding;
}

describe('runDrains', () => {
  let receiver: SyslogReceiver;
  beforeAll(async () => {
    receiver = await startSyslogReceiver();
  });
  afterAll(() => receiver.stop());

  it('starts a writer that threw again, alone, and keeps delivering the lines after', async () => {
    const { logger, lines: logged } = captureLogger('error');
    const app$ = new Subject<LogLine>();
    const set$ = new Subject<BindingSet>();
    const frameOf = (line: LogLine) => {
      if (line.envelope.message === 'boom') throw new Error('encoder bug');
      return octetCounted(encodeSyslogMessage(line.envelope, DRAIN_HOST));
    };
    let completed = false;
    const running = runDrains(set$, {
      config: drainConfig(QUICK_DRAIN),
      appLines: () => app$,
      publish: () => undefined,
      frameOf,
      tlsCa: undefined,
      metrics: new DrainMetrics(new Registry()),
      logger,
    }).subscribe({ complete: () => (completed = true) });
    try {
      set$.next({ bindings: [bindingTo(receiver.port)], invalid: [] });
      const send = (message: string, seq: number) => app$.next(new LogLine(seq, envelope('app-a', message)));
      await waitFor(() => app$.observed, { what: 'the writer subscribed' });
      send('before', 1);
      await receiver.waitForMessages(1, 10_000);
      send('boom', 2);
      await waitFor(() => logged.some(l => l.includes('drain writer failed; starting it again')), { what: 'the failure logged' });
      await waitFor(() => app$.observed, { timeoutMs: 5_000, what: 'the writer subscribed again' });
      send('after', 3);
      const frames = await receiver.waitForMessages(2, 10_000);
      expect(frames.map(f => f.message)).toEqual(['before', 'after']);

      // Unbound: the writer stops and runDrains completes once the set does.
      set$.next({ bindings: [], invalid: [] });
      set$.complete();
      await waitFor(() => completed, { timeoutMs: 10_000, what: 'runDrains completed' });
    } finally {
      running.unsubscribe();
    }
  });
});
