// Syslog datagrams as envelopes: RFC 5424 and RFC 3164, as `logger`, syslog(3), rsyslog,
// Python's SysLogHandler and Cloud Foundry components write them.
//
//   <165>1 2003-08-24T05:14:15.000003-07:00 192.0.2.1 myproc 8710 - - %% It's time…
//     │  │  └ TIMESTAMP → timestamp (ns)   HOSTNAME ┘   │     │    │ │ └ MSG → message
//     │  └ VERSION 1: RFC 5424; anything else after PRI: RFC 3164   │    │ └ STRUCTURED-DATA: skipped
//     └ PRI & 7 = severity: ≤ 3 → ERR, else OUT          APP-NAME ┘ PROCID └ MSGID
//                                          → appId      → APP / 8710 ("[RTR/1]" → RTR / 1, "-" → APP / 0)
//
//   <13>Nov 25 17:10:47 vm myapp[42]: hi      TAG → appId, [PID] → instance, timestamp = receive time
//
// Examples from the RFCs and from real senders, every malformation (→ bad_syslog, with a detail
// that says what was wrong), then fast-check: a generated valid frame decodes to its fields,
// and no string whatever makes the decoder throw or answer outside its contract.
import fc from 'fast-check';
import schema from '../../../config/envelope.schema.json';
import { Decoded, decodeDatagram, encodeDatagram } from '../../../src/envelope/codec';
import { Envelope, MAX_TIMESTAMP_NS, nowNs } from '../../../src/envelope/envelope';
import { decodeSyslog } from '../../../src/envelope/syslogCodec';

const RECEIVED = '1764000000123456789';
const props = schema.properties;

/** ns since the epoch of an ISO time Date can parse (ms precision), plus extra ns. */
function ns(iso: string, extraNs = 0n): string {
  const ms = Date.parse(iso);
  if (Number.isNaN(ms)) throw new Error(`bad test time ${iso}`);
  return (BigInt(ms) * 1_000_000n + extraNs).toString();
}

function accepted(text: string, receivedNs = RECEIVED): Envelope {
  const decoded = decodeSyslog(text, receivedNs);
  if (!decoded.ok) throw new Error(`expected ${JSON.stringify(text)} to decode, got ${decoded.detail}`);
  return decoded.envelope;
}

function expectBadSyslog(text: string, detail: RegExp): void {
  const decoded = decodeSyslog(text, RECEIVED);
  expect({ text, decoded }).toEqual({ text, decoded: { ok: false, reason: 'bad_syslog', detail: expect.stringMatching(detail) } });
}

const app = (fields: Partial<Envelope>): Envelope => ({
  appId: 'myapp',
  sourceType: 'APP',
  sourceInstance: '0',
  messageType: 'OUT',
  timestamp: RECEIVED,
  message: '',
  ...fields,
});

describe('decodeSyslog, RFC 5424', () => {
  describe('the examples of RFC 5424 §6.5', () => {
    it('example 1: a BOM before the message, NILVALUE PROCID and STRUCTURED-DATA, severity 2 → ERR', () => {
      const text = "<34>1 2003-10-11T22:14:15.003Z mymachine.example.com su - ID47 - \ufeff'su root' failed for lonvick on /dev/pts/8";
      expect(accepted(text)).toEqual({
        appId: 'su',
        sourceType: 'APP',
        sourceInstance: '0',
        messageType: 'ERR',
        timestamp: ns('2003-10-11T22:14:15.003Z'),
        message: "'su root' failed for lonvick on /dev/pts/8",
      });
    });

    it('example 2: microseconds and a negative offset, a numeric PROCID, no BOM', () => {
      const text = "<165>1 2003-08-24T05:14:15.000003-07:00 192.0.2.1 myproc 8710 - - %% It's time to make the do-nuts.";
      expect(accepted(text)).toEqual({
        appId: 'myproc',
        sourceType: 'APP',
        sourceInstance: '8710',
        messageType: 'OUT',
        timestamp: ns('2003-08-24T12:14:15.000Z', 3_000n),
        message: "%% It's time to make the do-nuts.",
      });
    });

    it('example 3: STRUCTURED-DATA with parameters, then a message', () => {
      const text =
        '<165>1 2003-10-11T22:14:15.003Z mymachine.example.com evntslog - ID47 ' +
        '[exampleSDID@32473 iut="3" eventSource="Application" eventID="1011"] \ufeffAn application event log entry...';
      expect(accepted(text)).toEqual(
        app({ appId: 'evntslog', timestamp: ns('2003-10-11T22:14:15.003Z'), message: 'An application event log entry...' }),
      );
    });

    it('example 4: two SD-ELEMENTs and no message at all', () => {
      const text =
        '<165>1 2003-10-11T22:14:15.003Z mymachine.example.com evntslog - ID47 ' +
        '[exampleSDID@32473 iut="3" eventSource="Application" eventID="1011"][examplePriority@32473 class="high"]';
      expect(accepted(text)).toEqual(app({ appId: 'evntslog', timestamp: ns('2003-10-11T22:14:15.003Z'), message: '' }));
    });
  });

  it('decodes what util-linux logger sends (timeQuality SD, local offset, --id)', () => {
    const text = '<11>1 2026-11-25T17:10:47.185997+00:00 vm myapp 42 - [timeQuality tzKnown="1" isSynced="0"] hello';
    expect(accepted(text)).toEqual(
      app({ sourceInstance: '42', messageType: 'ERR', timestamp: ns('2026-11-25T17:10:47.185Z', 997_000n), message: 'hello' }),
    );
    // logger --rfc5424=notime: NILVALUE TIMESTAMP → the receive time.
    expect(accepted('<13>1 - vm myapp - - - nt')).toEqual(app({ message: 'nt' }));
  });

  describe('PROCID', () => {
    it.each([
      ['-', 'APP', '0'],
      ['8710', 'APP', '8710'],
      ['web.1', 'APP', 'web.1'],
      ['10.0.0.1:8080', 'APP', '10.0.0.1:8080'],
      ['RTR/1', 'APP', 'RTR/1'], // no brackets: just an instance name
      ['[RTR/1]', 'RTR', '1'],
      ['[STG/staging-7]', 'STG', 'staging-7'],
      ['[APP/PROC/WEB/0]', 'APP/PROC/WEB', '0'], // Cloud Foundry's own PROCIDs: split at the last "/"
      ['p'.repeat(64), 'APP', 'p'.repeat(64)],
    ])('%s → sourceType %s, sourceInstance %s', (procId, sourceType, sourceInstance) => {
      const e = accepted(`<14>1 2026-11-25T12:00:00Z host myapp ${procId} - - line`);
      expect([e.sourceType, e.sourceInstance]).toEqual([sourceType, sourceInstance]);
    });

    it.each([
      ['[RTR]', /PROCID "\[RTR\]" is not a valid source instance/],
      ['[RTR/]', /source instance ""/],
      ['[/1]', /source type ""/],
      ['[-RTR/1]', /source type "-RTR"/],
      ['[' + 'T'.repeat(33) + '/1]', /source type/],
      ['pid!', /PROCID "pid!" is not a valid source instance/],
      ['p'.repeat(65), /not a valid source instance/],
      ['p'.repeat(129), /PROCID "p+…" is longer than 128 characters/],
    ])('rejects PROCID %s', (procId, detail) => {
      expectBadSyslog(`<14>1 2026-11-25T12:00:00Z host myapp ${procId} - - line`, detail);
    });
  });

  it('maps severity (PRI & 7) 0–3 to ERR and 4–7 to OUT, for every facility', () => {
    for (let pri = 0; pri <= 191; pri++) {
      const e = accepted(`<${pri}>1 - host myapp - - - x`);
      expect({ pri, type: e.messageType }).toEqual({ pri, type: pri % 8 <= 3 ? 'ERR' : 'OUT' });
    }
  });

  describe('TIMESTAMP', () => {
    it.each([
      ['1970-01-01T00:00:00Z', '0'],
      ['1970-01-01T00:00:00.000001Z', '1000'],
      ['2003-10-11T22:14:15Z', ns('2003-10-11T22:14:15Z')],
      ['2003-10-11T22:14:15.5Z', ns('2003-10-11T22:14:15.500Z')],
      ['2003-10-11T22:14:15.12Z', ns('2003-10-11T22:14:15.120Z')],
      ['2003-10-11T22:14:15.123456Z', ns('2003-10-11T22:14:15.123Z', 456_000n)],
      ['2003-10-11T22:14:15.003+02:00', ns('2003-10-11T20:14:15.003Z')],
      ['2003-10-11T22:14:15.003-07:30', ns('2003-10-12T05:44:15.003Z')],
      ['2003-10-11T00:30:00+01:00', ns('2003-10-10T23:30:00Z')],
      ['2024-02-29T12:00:00Z', ns('2024-02-29T12:00:00Z')],
      ['2000-02-29T12:00:00Z', ns('2000-02-29T12:00:00Z')],
      ['2262-04-11T23:47:16.854775Z', '9223372036854775000'],
      ['-', RECEIVED],
    ])('%s → %s ns', (timestamp, expected) => {
      expect(accepted(`<14>1 ${timestamp} host myapp - - - x`).timestamp).toBe(expected);
    });

    it.each([
      ['2003-10-11T22:14:15.1234567Z', /1 to 6 digits/],
      ['2003-10-11T22:14:15.Z', /1 to 6 digits/],
      ['2003-10-11t22:14:15Z', /expected YYYY-MM-DDThh:mm:ss/],
      ['2003-10-11T22:14:15z', /offset must be Z/],
      ['2003-10-11T22:14:15', /offset must be Z/],
      ['2003-10-11T22:14:15+0200', /offset must be Z/],
      ['2003-10-11T22:14:15+24:00', /offset must be Z/],
      ['2003-10-11T22:14:15Zjunk', /nothing may follow/],
      ['2003-13-11T22:14:15Z', /month 13/],
      ['2003-00-11T22:14:15Z', /month 0/],
      ['2003-10-32T22:14:15Z', /day 32/],
      ['2023-02-29T12:00:00Z', /day 29 is not in 2023-02/],
      ['1900-02-29T12:00:00Z', /day 29 is not in 1900-02/],
      ['2003-04-31T12:00:00Z', /day 31/],
      ['2003-10-11T24:00:00Z', /time of day/],
      ['2003-10-11T22:60:00Z', /time of day/],
      ['2003-10-11T22:14:60Z', /time of day/],
      ['1969-12-31T23:59:59.999999Z', /before 1970/],
      ['1970-01-01T00:30:00+01:00', /before 1970/],
      ['2263-01-01T00:00:00Z', /beyond a 64-bit nanosecond clock/],
      ['yesterday', /expected YYYY-MM-DDThh:mm:ss/],
      ['03-10-11T22:14:15Z', /expected YYYY-MM-DDThh:mm:ss/],
      ['2003-10-11T22:14:15.003Z'.padEnd(33, '0'), / "2003.*" is longer than 32 characters/],
    ])('rejects %s', (timestamp, detail) => {
      expectBadSyslog(`<14>1 ${timestamp} host myapp - - - x`, new RegExp(`TIMESTAMP.*${detail.source}`));
    });
  });

  describe('STRUCTURED-DATA', () => {
    const withSd = (sd: string, rest = ' the message') => `<14>1 - host myapp - - ${sd}${rest}`;

    it.each([
      ['-'],
      ['[id]'],
      ['[id a=""]'],
      ['[exampleSDID@32473 iut="3"]'],
      ['[x@1 a="q\\"b\\]c\\\\"]'], // \" \] \\ escaped, as logger --sd-param writes them
      ['[x@1 a="\\\\" b="2"]'], // an escaped backslash right before the closing quote
      ['[x@1 a="a ] b"]'], // an unescaped "]" inside quotes is still inside the value
      ['[x@1 a="no [nested] ele=\\"ments\\" here"]'],
      ['[x@1 a="ünïcödé ✓"]'],
      ['[a][b c="d"][e@1 f="g" h="i"]'],
      ['[x@1 a="\\x"]'], // a backslash before another character: kept, and skipped alike
    ])('skips %s', sd => {
      expect(accepted(withSd(sd)).message).toBe('the message');
      expect(accepted(withSd(sd, '')).message).toBe('');
    });

    it('keeps an element after a space as part of the message (RFC 5424 §6.3.5)', () => {
      expect(accepted(withSd('[a x="1"]', ' [b y="2"] text')).message).toBe('[b y="2"] text');
    });

    it('keeps everything after the structured data and its one space, spaces and brackets included', () => {
      expect(accepted(withSd('-', '  two spaces ] and "quotes" \\ ')).message).toBe(' two spaces ] and "quotes" \\ ');
    });

    it.each([
      ['', /truncated header: no STRUCTURED-DATA/, ''],
      ['x', /STRUCTURED-DATA must be "-" or start with "\["/, ''],
      ['--', /expected a space or the end after STRUCTURED-DATA/, ''],
      ['[', /empty or invalid SD-ID/, ''],
      ['[ id a="1"]', /empty or invalid SD-ID/, ''],
      ['[id', /unterminated SD-ELEMENT \[id/, ''],
      ['[id a="1"', /unterminated SD-ELEMENT \[id/, ''],
      ['[id a]', /expected ="…" after PARAM-NAME "a"/, ''],
      ['[id a=1]', /expected ="…" after PARAM-NAME "a"/, ''],
      ['[id a="1" ]', /empty or invalid PARAM-NAME/, ''],
      ['[id a="1"b="2"]', /expected " " or "\]"/, ''],
      ['[id a="x]', /unterminated PARAM-VALUE of "a"/, ''],
      ['[id a="x\\"]', /unterminated PARAM-VALUE of "a"/, ''],
      ['[id a="x\\', /unterminated PARAM-VALUE of "a"/, ''],
      ['[id a="1"]x', /expected a space or the end after STRUCTURED-DATA, found "x"/, ''],
      ['[' + 'i'.repeat(33) + ']', /SD-ID "i+" in STRUCTURED-DATA is longer than 32/, ''],
      ['[id ' + 'p'.repeat(33) + '="1"]', /PARAM-NAME "p+" in STRUCTURED-DATA is longer than 32/, ''],
      ['[id a="1"]', /expected a space or the end after STRUCTURED-DATA, found "\\tx"/, '\tx'],
    ])('rejects %j', (sd, detail, rest) => {
      expectBadSyslog(`<14>1 - host myapp - - ${sd}${rest}`, detail);
    });
  });

  describe('MSG', () => {
    it.each([
      ['line\n', 'line'],
      ['line\r\n', 'line'],
      ['line\0', 'line'],
      ['line\n\0', 'line'],
      ['line\n\n', 'line'],
      ['\ufeffline\r\n', 'line'],
      ['\ufeff', ''],
      ['\n', ''],
      ['  indented\ttab', '  indented\ttab'],
      ['mid\nline', 'mid\nline'],
      ['one BOM \ufeff inside stays', 'one BOM \ufeff inside stays'],
      ['\ufeff\ufeffonly the first BOM goes', '\ufeffonly the first BOM goes'],
      ['żółć 日本語 🚀', 'żółć 日本語 🚀'],
    ])('%j → %j', (msg, message) => {
      expect(accepted(`<14>1 - host myapp - - - ${msg}`).message).toBe(message);
    });

    it('takes a message of 65,000 characters whole', () => {
      const long = 'm'.repeat(65_000);
      expect(accepted(`<14>1 - host myapp - - - ${long}`).message).toBe(long);
    });

    it('rejects a message longer than the envelope allows (only possible outside a datagram)', () => {
      expectBadSyslog(`<14>1 - host myapp - - - ${'m'.repeat(props.message.maxLength + 1)}`, /longer than 65536 characters/);
    });
  });

  describe('header', () => {
    it.each([
      ['<14>1', /truncated header: nothing after VERSION/],
      ['<14>1 ', /truncated header: no TIMESTAMP/],
      ['<14>1 -', /truncated header: nothing after TIMESTAMP "-" \(expected HOSTNAME\)/],
      ['<14>1 2003-10-11T22:14:15.003Z', /nothing after TIMESTAMP/],
      ['<14>1 - host', /nothing after HOSTNAME "host" \(expected APP-NAME\)/],
      ['<14>1 - host myapp', /nothing after APP-NAME "myapp" \(expected PROCID\)/],
      ['<14>1 - host myapp -', /nothing after PROCID "-" \(expected MSGID\)/],
      ['<14>1 - host myapp - ID47', /nothing after MSGID "ID47" \(expected STRUCTURED-DATA\)/],
      ['<14>1 - host myapp - ID47 ', /truncated header: no STRUCTURED-DATA/],
      ['<14>1  - host myapp - - - x', /empty TIMESTAMP/],
      ['<14>1 -  host myapp - - - x', /empty HOSTNAME/],
      ['<14>1 - host  myapp - - - x', /empty APP-NAME/],
      ['<14>1 - host myapp  - - - x', /empty PROCID/],
      ['<14>1 - host myapp -  - - x', /empty MSGID/],
      ['<14>1 - host\tname myapp - - - x', /HOSTNAME has a character that is not printable US-ASCII/],
      ['<14>1 - host ålesund - - - x', /APP-NAME has a character that is not printable US-ASCII/],
      ['<14>1 - host myapp - ' + 'M'.repeat(33) + ' - x', /MSGID "M+" is longer than 32/],
      ['<14>1 - ' + 'h'.repeat(256) + ' myapp - - - x', /HOSTNAME "h+…" is longer than 255/],
      ['<14>2 - host myapp - - - x', /unsupported syslog VERSION "2"/],
      ['<14>10 - host myapp - - - x', /unsupported syslog VERSION "10"/],
    ])('rejects %j', (text, detail) => {
      expectBadSyslog(text, detail);
    });

    it.each([
      ['-', /APP-NAME is "-" \(nil\): the app id is required/],
      ['-leading-dash', /app name "-leading-dash" is not a valid app id/],
      ['.hidden', /app name ".hidden" is not a valid app id/],
      ['my/app', /app name "my\/app" is not a valid app id/],
      ['my:app', /not a valid app id/],
      ['a'.repeat(49), /APP-NAME "a+…" is longer than 48 characters/],
    ])('rejects APP-NAME %s', (appName, detail) => {
      expectBadSyslog(`<14>1 - host ${appName} - - - x`, detail);
    });

    it('accepts any valid app id as APP-NAME, up to 48 characters', () => {
      for (const appId of ['a', '0', '5f0c3b1e-9a7d-4c1f-8f0e-2b6d1a9c7e43', 'My_App.v2', 'a'.repeat(48)]) {
        expect(accepted(`<14>1 - host ${appId} - - - x`).appId).toBe(appId);
      }
    });
  });
});

describe('decodeSyslog, RFC 3164', () => {
  it('the example of RFC 3164 §5.4: TAG → appId, its timestamp ignored for the receive time', () => {
    expect(accepted("<34>Oct 11 22:14:15 mymachine su: 'su root' failed for lonvick on /dev/pts/8")).toEqual({
      appId: 'su',
      sourceType: 'APP',
      sourceInstance: '0',
      messageType: 'ERR',
      timestamp: RECEIVED,
      message: "'su root' failed for lonvick on /dev/pts/8",
    });
  });

  it('rejects the RFC 3164 examples that carry no TAG (nothing says which app they are for)', () => {
    expectBadSyslog('<13>Feb  5 17:32:18 10.0.0.99 Use the BFG!', /no TAG: expected "app-id: message".*found "Use the BFG!"/);
    expectBadSyslog(
      "<165>Aug 24 05:34:00 CST 1987 mymachine myproc[10]: %% It's time to make the do-nuts.  %%  Ingredients: Mix=OK, Jumble=OK",
      /no TAG.*found "1987 mymachine/,
    );
    expectBadSyslog("<0>1990 Oct 22 10:52:01 TZ-6 scapegoat.dmz.example.org 10.1.2.3 sched[0]: That's All Folks!", /no TAG/);
  });

  it.each([
    ['logger --rfc3164', '<13>Nov 25 17:10:47 vm myapp: hi', app({ message: 'hi' })],
    ['logger --rfc3164 -i', '<13>Nov 25 17:10:47 vm myapp[16596]: withpid', app({ sourceInstance: '16596', message: 'withpid' })],
    ['logger -p user.err', '<11>Nov 25 17:10:47 vm myapp: oops', app({ messageType: 'ERR', message: 'oops' })],
    ['a space-padded day', '<13>Feb  5 17:32:18 10.0.0.99 myapp: x', app({ message: 'x' })],
    ['a zero-padded day', '<13>Feb 05 17:32:18 host myapp: x', app({ message: 'x' })],
    ['syslog(3) on the local socket: no HOSTNAME', '<13>Nov 25 17:10:47 myapp[7]: x', app({ sourceInstance: '7', message: 'x' })],
    ['no HOSTNAME, no PID', '<13>Nov 25 17:10:47 myapp: x', app({ message: 'x' })],
    ['an IPv6 HOSTNAME', '<13>Nov 25 17:10:47 fe80::1 myapp: x', app({ message: 'x' })],
    ["Python's SysLogHandler: no header, a NUL at the end", '<14>myapp: hello\0', app({ message: 'hello' })],
    ['no space after the colon', '<14>myapp:hello', app({ message: 'hello' })],
    ['an empty message', '<14>myapp:', app({ message: '' })],
    ['a GUID app id', '<14>5f0c3b1e-9a7d-4c1f-8f0e-2b6d1a9c7e43: x', app({ appId: '5f0c3b1e-9a7d-4c1f-8f0e-2b6d1a9c7e43', message: 'x' })],
    ['a TYPE/INSTANCE PID', '<14>Nov 25 17:10:47 gorouter myapp[RTR/1]: GET / 200', app({ sourceType: 'RTR', sourceInstance: '1', message: 'GET / 200' })],
    ['a BOM and CRLF', '<14>myapp: \ufeffline\r\n', app({ message: 'line' })],
    ['colons in the message', '<14>myapp: a: b: c', app({ message: 'a: b: c' })],
    [
      "rsyslog's forwarding format (an RFC 3339 timestamp, used)",
      '<14>2026-11-25T17:10:47.123456+01:00 host myapp[3]: x',
      app({ sourceInstance: '3', timestamp: ns('2026-11-25T16:10:47.123Z', 456_000n), message: 'x' }),
    ],
  ])('%s', (_, text, expected) => {
    expect(accepted(text)).toEqual(expected);
  });

  it.each([
    ['<13>Oct 32 22:14:15 host myapp: x', /invalid RFC 3164 TIMESTAMP "Oct 32 22:14:15": day 32/],
    ['<13>Oct  0 22:14:15 host myapp: x', /day 0/],
    ['<13>Oct 11 25:14:15 host myapp: x', /time of day/],
    ['<13>Oct 11 22:14 host myapp: x', /invalid RFC 3164 TIMESTAMP.*expected "Mmm dd hh:mm:ss"/],
    ['<13>Oct 11', /truncated: expected "Mmm dd hh:mm:ss"/],
    ['<13>Oct 11 22:14:15', /truncated header: nothing after TIMESTAMP/],
    ['<13>Oct 11 22:14:15host myapp: x', /expected a space after TIMESTAMP/],
    ['<13>Oct 11 22:14:15 host', /truncated header: nothing after HOSTNAME "host" \(expected TAG\)/],
    ['<13>Oct 11 22:14:15  myapp: x', /empty HOSTNAME/],
    ['<13>Oct 11 22:14:15 host myapp', /no TAG.*found "myapp"/],
    ['<13>Oct 11 22:14:15 host myapp hello', /no TAG/],
    ['<13>just some words', /no TAG/],
    ['<13>', /no TAG.*found the end of the datagram/],
    ['<13>-x: a', /app name "-x" is not a valid app id/],
    ['<13>: a', /app name "" is not a valid app id/],
    ['<13>my.app/x: hi', /app name "my.app\/x" is not a valid app id/],
    ['<13>' + 'a'.repeat(49) + ': hi', /TAG "a+…" is not a valid app id \(at most 48 characters\)/],
    ['<13>myapp[12: x', /unterminated PID after TAG "myapp"/],
    ['<13>myapp[' + '1'.repeat(129) + ']: x', /unterminated PID/],
    ['<13>myapp[12] x', /expected ":" after "myapp\[12\]"/],
    ['<13>myapp[]: x', /PROCID "" is not a valid source instance/],
    ['<13>myapp[a b]: x', /PROCID "a b" is not a valid source instance/],
    ['<13>myapp[RTR/]: x', /source instance ""/],
    ['<14>2026-11-25T17:10:47 host myapp: x', /invalid TIMESTAMP "2026-11-25T17:10:47": the offset must be Z/],
    ['<14>2026-02-30T17:10:47Z host myapp: x', /day 30/],
  ])('rejects %j', (text, detail) => {
    expectBadSyslog(text, detail);
  });
});

describe('decodeSyslog, PRI', () => {
  it.each([
    ['<999>1 - host myapp - - - x', /bad PRI "<999>": the priority value must be 0 to 191/],
    ['<192>1 - host myapp - - - x', /bad PRI "<192>"/],
    ['<1a>1 - host myapp - - - x', /bad PRI "<1a>": expected "<" 1 to 3 digits ">"/],
    ['<>1 - host myapp - - - x', /bad PRI "<>"/],
    ['<-1>1 - host myapp - - - x', /bad PRI "<-1>"/],
    ['<1234>1 - host myapp - - - x', /bad PRI "<1234>": expected "<" 1 to 3 digits/],
    ['<013>1 - host myapp - - - x', /bad PRI "<013>": leading zeros/],
    ['<00>myapp: x', /leading zeros/],
    ['< 13>myapp: x', /bad PRI/],
    ['<', /truncated PRI "<"/],
    ['<13', /truncated PRI "<13"/],
    ['13>myapp: x', /no PRI: a syslog message starts with "<"/],
    ['', /no PRI.*found the end of the datagram/],
  ])('rejects %j', (text, detail) => {
    expectBadSyslog(text, detail);
  });

  it('accepts <0> and <191>', () => {
    expect(accepted('<0>myapp: x').messageType).toBe('ERR');
    expect(accepted('<191>myapp: x').messageType).toBe('OUT');
  });
});

describe('decodeDatagram with syslog', () => {
  const opts = { maxBytes: 65_507, nowNs: () => RECEIVED };
  const datagram = (text: string) => Buffer.from(text, 'utf8');

  it('sends a datagram that starts with "<" to the syslog decoder, with the receive time from nowNs', () => {
    expect(decodeDatagram(datagram('<13>Nov 25 17:10:47 vm myapp: hi'), opts)).toEqual({ ok: true, envelope: app({ message: 'hi' }) });
    expect(decodeDatagram(datagram('<13>1 - vm myapp [RTR/1] - - hi'), opts)).toEqual({
      ok: true,
      envelope: app({ sourceType: 'RTR', sourceInstance: '1', message: 'hi' }),
    });
  });

  it('uses the wall clock when no nowNs is given', () => {
    const before = BigInt(nowNs());
    const decoded = decodeDatagram(datagram('<13>myapp: hi'), { maxBytes: 1024 });
    const after = BigInt(nowNs());
    expect(decoded.ok).toBe(true);
    const at = BigInt(decoded.ok ? decoded.envelope.timestamp : '0');
    expect(at >= before && at <= after).toBe(true);
  });

  it('still decodes JSON envelopes, and signed ones', () => {
    const e = app({ message: 'json', timestamp: '1' });
    expect(decodeDatagram(encodeDatagram(e), opts)).toEqual({ ok: true, envelope: e });
    expect(decodeDatagram(encodeDatagram(e, 'secret'), { ...opts, secret: 'secret' })).toEqual({ ok: true, envelope: e });
  });

  it('rejects syslog that is not UTF-8 as bad_syslog', () => {
    for (const bad of [[0xc3, 0x28], [0xff], [0xed, 0xa0, 0x80], [0xe2, 0x82]]) {
      const bytes = Buffer.concat([datagram('<13>1 - vm myapp - - - caf'), Buffer.from(bad)]);
      expect(decodeDatagram(bytes, opts)).toEqual({ ok: false, reason: 'bad_syslog', detail: 'syslog datagram is not valid UTF-8' });
    }
  });

  it('keeps a BOM-prefixed MSG (RFC 5424 MSG-UTF8) from the raw bytes', () => {
    const bytes = Buffer.concat([datagram('<13>1 - vm myapp - - - '), Buffer.from([0xef, 0xbb, 0xbf]), datagram('ünï')]);
    expect(decodeDatagram(bytes, opts)).toEqual({ ok: true, envelope: app({ message: 'ünï' }) });
  });

  it('refuses syslog as unsigned when a shared secret is configured (it cannot be signed)', () => {
    expect(decodeDatagram(datagram('<13>myapp: hi'), { ...opts, secret: 'sixteen-chars-secret!' })).toEqual({
      ok: false,
      reason: 'unsigned',
      detail: expect.stringMatching(/syslog datagram cannot be signed/),
    });
  });

  it('treats a signed body as JSON even when it starts with "<"', () => {
    const body = datagram('<13>myapp: hi');
    const signed = Buffer.concat([Buffer.from('s1:' + 'A'.repeat(43) + '\n'), body]);
    expect(decodeDatagram(signed, opts)).toMatchObject({ ok: false, reason: 'not_json' });
  });

  it('checks the size before anything else', () => {
    expect(decodeDatagram(datagram('<13>myapp: ' + 'x'.repeat(100)), { ...opts, maxBytes: 50 })).toMatchObject({ ok: false, reason: 'oversized' });
  });
});

describe('decodeSyslog on 64 KB inputs', () => {
  // Inputs that would make a backtracking parser crawl: long runs inside every part of a frame.
  const K64 = 65_000;
  const hostile = [
    '<' + '1'.repeat(K64),
    '<13>' + ' '.repeat(K64),
    '<13>1 ' + '2'.repeat(K64),
    '<13>1 - ' + 'h'.repeat(K64),
    '<13>1 - h ' + 'a'.repeat(K64),
    '<13>1 - h a - - [' + 'x'.repeat(K64),
    '<13>1 - h a - - [x a="' + '\\'.repeat(K64),
    '<13>1 - h a - - [x a="' + '\\"'.repeat(K64 / 2),
    '<13>1 - h a - - ' + '[x a="1"]'.repeat(K64 / 9),
    '<13>1 - h a - - ' + '[x a="1"]'.repeat(K64 / 9) + ' msg',
    '<13>1 - h a - - [x' + ' a="1"'.repeat(K64 / 6) + ']',
    '<13>1 - h a - - - ' + '\n'.repeat(K64),
    '<13>1 - h a - - - ' + '\0\r\n'.repeat(K64 / 3) + 'x',
    '<13>Oct 11 22:14:15 ' + 'h'.repeat(K64),
    '<13>Oct 11 22:14:15 ' + 'h:'.repeat(K64 / 2),
    '<13>' + 'a'.repeat(K64) + ': x',
    '<13>myapp[' + '1'.repeat(K64),
    '<13>myapp: ' + '\ufeff'.repeat(K64),
    '<13>2026-11-25T17:10:47' + '.1'.repeat(K64 / 2),
  ];

  // Each is answered (decoded or rejected) without throwing. How fast is a benchmark's question,
  // not a test's: the parser reads each field in one pass by index, with no backtracking regex.
  it('decodes or rejects each, without throwing', () => {
    for (const text of hostile) expectWellFormed(decodeSyslog(text, RECEIVED));
  });
});

/** An answer is a bad_syslog rejection with a detail, or an envelope the schema accepts. */
function expectWellFormed(decoded: Decoded): void {
  if (!decoded.ok) {
    expect(decoded.reason).toBe('bad_syslog');
    expect(typeof decoded.detail).toBe('string');
    expect(decoded.detail.length).toBeGreaterThan(0);
    expect(decoded.detail.length).toBeLessThan(400);
    return;
  }
  const e = decoded.envelope;
  expect(Object.keys(e)).toEqual(['appId', 'sourceType', 'sourceInstance', 'messageType', 'timestamp', 'message']);
  expect(e.appId).toMatch(new RegExp(props.appId.pattern));
  expect(e.sourceType).toMatch(new RegExp(props.sourceType.pattern));
  expect(e.sourceInstance).toMatch(new RegExp(props.sourceInstance.pattern));
  expect(['OUT', 'ERR']).toContain(e.messageType);
  expect(e.timestamp).toMatch(new RegExp(props.timestamp.pattern));
  expect(BigInt(e.timestamp) <= MAX_TIMESTAMP_NS).toBe(true);
  expect(e.message.length).toBeLessThanOrEqual(props.message.maxLength);
}

describe('decodeSyslog properties (fast-check)', () => {
  const utf16Unit = fc.integer({ min: 0, max: 0xffff }).map(c => String.fromCharCode(c));
  // Pieces of real frames, so that generated strings get deep into the parser, not only to PRI.
  const fragment = fc.constantFrom(
    '<', '>', '<13>', '<165>', '<0>', '<191>', '<999>', '1', '1 ', ' ', '  ', '-', '- ', ':', ': ', '[', ']', '="', '"', '\\', '\\"', '\\]',
    '2003-10-11T22:14:15.003Z', '2003-08-24T05:14:15.000003-07:00', '2026-11-25T17:10:47', '.123456', '+01:00', 'Z', 'T',
    'Oct 11 22:14:15', 'Feb  5 17:32:18', 'Oct ', 'host', 'myapp', 'myapp[42]:', '[RTR/1]', '[APP/PROC/WEB/0]', 'RTR/', '/',
    '[x@1 a="1"]', '[x@1', ' a="', 'ID47', '\ufeff', '\n', '\r\n', '\0', 'ü', '🚀', '\ud800',
  );
  const framey = fc.array(fc.oneof(fragment, fc.string({ maxLength: 3 })), { maxLength: 16 }).map(parts => parts.join(''));

  it('never throws on arbitrary strings, and answers within its contract', () => {
    fc.assert(
      fc.property(fc.oneof(fc.string({ unit: 'binary', maxLength: 300 }), fc.string({ unit: utf16Unit, maxLength: 300 })), text => {
        expectWellFormed(decodeSyslog(text, RECEIVED));
      }),
      { numRuns: 2000 },
    );
  });

  it('never throws on strings that start with "<", nor on strings made of pieces of frames', () => {
    const startsWithLt = fc.oneof(fc.string({ unit: 'binary', maxLength: 300 }), fc.string({ unit: utf16Unit, maxLength: 100 }), framey).map(s => '<' + s);
    fc.assert(
      fc.property(fc.oneof(startsWithLt, framey, framey.map(s => '<13>1 ' + s), framey.map(s => '<13>1 - h a - - ' + s)), text => {
        expectWellFormed(decodeSyslog(text, RECEIVED));
      }),
      { numRuns: 5000 },
    );
  });

  it('decodeDatagram never throws on arbitrary bytes after "<"', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), bytes => {
        const decoded = decodeDatagram(Buffer.concat([Buffer.from('<'), Buffer.from(bytes)]), { maxBytes: 400, nowNs: () => RECEIVED });
        expectWellFormed(decoded);
      }),
      { numRuns: 2000 },
    );
  });

  // A valid RFC 5424 frame built from random fields decodes to exactly those fields.
  const printUsAscii = (min: number, max: number) =>
    fc.string({ unit: fc.integer({ min: 0x21, max: 0x7e }).map(c => String.fromCharCode(c)), minLength: min, maxLength: max });
  const sdName = fc.string({
    unit: fc.integer({ min: 0x21, max: 0x7e }).filter(c => c !== 0x3d && c !== 0x5d && c !== 0x22).map(c => String.fromCharCode(c)),
    minLength: 1,
    maxLength: 32,
  });
  const sdValue = fc.string({ unit: 'grapheme', maxLength: 20 }).map(v => v.replace(/[\\"\]]/g, c => '\\' + c));
  const sdElement = fc
    .tuple(sdName, fc.array(fc.tuple(sdName, sdValue), { maxLength: 3 }))
    .map(([id, params]) => `[${id}${params.map(([n, v]) => ` ${n}="${v}"`).join('')}]`);
  const frame = fc.record({
    pri: fc.integer({ min: 0, max: 191 }),
    micros: fc.bigInt({ min: 0n, max: MAX_TIMESTAMP_NS / 1000n }),
    offsetMinutes: fc.integer({ min: -(23 * 60 + 59), max: 23 * 60 + 59 }),
    hostname: printUsAscii(1, 255),
    appId: fc.stringMatching(new RegExp(props.appId.pattern)),
    procId: fc.oneof(
      fc.constant({ text: '-', sourceType: 'APP', sourceInstance: '0' }),
      fc
        .stringMatching(new RegExp(props.sourceInstance.pattern))
        .filter(i => i !== '-') // "-" is the NILVALUE
        .map(i => ({ text: i, sourceType: 'APP', sourceInstance: i })),
      fc
        .tuple(fc.stringMatching(new RegExp(props.sourceType.pattern)), fc.stringMatching(/^[A-Za-z0-9._:-]{1,64}$/))
        .filter(([t, i]) => t.length + i.length + 3 <= 128)
        .map(([t, i]) => ({ text: `[${t}/${i}]`, sourceType: t, sourceInstance: i })),
    ),
    msgId: fc.oneof(fc.constant('-'), printUsAscii(1, 32)),
    sd: fc.oneof(fc.constant('-'), fc.array(sdElement, { minLength: 1, maxLength: 3 }).map(els => els.join(''))),
    message: fc.option(fc.string({ unit: 'grapheme', maxLength: 200 }), { nil: undefined }),
  });

  /** RFC 3339 text for a microsecond instant at a given offset from UTC. */
  function rfc3339(micros: bigint, offsetMinutes: number): string {
    const local = new Date(Number(micros / 1000n) + offsetMinutes * 60_000);
    const frac = String(micros % 1_000_000n).padStart(6, '0');
    const sign = offsetMinutes < 0 ? '-' : '+';
    const abs = Math.abs(offsetMinutes);
    const offset = offsetMinutes === 0 && micros % 2n === 0n ? 'Z' : `${sign}${String(Math.floor(abs / 60)).padStart(2, '0')}:${String(abs % 60).padStart(2, '0')}`;
    return `${local.toISOString().slice(0, 19)}.${frac}${offset}`;
  }

  it('decodes a generated valid RFC 5424 frame to its own fields', () => {
    fc.assert(
      fc.property(frame, f => {
        const local = Number(f.micros / 1000n) + f.offsetMinutes * 60_000;
        fc.pre(local >= 0 && local < Date.UTC(10000, 0, 1)); // a four-digit local year
        const text =
          `<${f.pri}>1 ${rfc3339(f.micros, f.offsetMinutes)} ${f.hostname} ${f.appId} ${f.procId.text} ${f.msgId} ${f.sd}` +
          (f.message === undefined ? '' : ` ${f.message}`);
        const expectedMessage = (f.message ?? '').replace(/^\ufeff/, '').replace(/[\r\n\0]+$/, '');
        expect(decodeSyslog(text, RECEIVED)).toEqual({
          ok: true,
          envelope: {
            appId: f.appId,
            sourceType: f.procId.sourceType,
            sourceInstance: f.procId.sourceInstance,
            messageType: f.pri % 8 <= 3 ? 'ERR' : 'OUT',
            timestamp: (f.micros * 1000n).toString(),
            message: expectedMessage,
          },
        });
      }),
      { numRuns: 1000 },
    );
  });
});
