// Syslog datagrams as envelopes, so that any program (or the system's `logger`) can send app logs
// to the router's UDP port: RFC 5424 and RFC 3164 (BSD), one message per datagram.
//
//   RFC 5424  <PRI>1 TIMESTAMP HOSTNAME APP-NAME PROCID MSGID STRUCTURED-DATA [SP MSG]
//   RFC 3164  <PRI>[Mmm dd hh:mm:ss HOSTNAME ]TAG[ "[" PID "]" ]: MSG
//
//   APP-NAME / TAG         → appId (an app id by the envelope schema, else rejected)
//   PROCID "[TYPE/INST]"   → sourceType TYPE, sourceInstance INST (split at the last "/")
//   other PROCID / PID     → sourceType APP, sourceInstance PROCID;  "-" or none → "0"
//   severity (PRI & 7) ≤ 3 → ERR, else OUT
//   RFC 5424 TIMESTAMP     → ns since the epoch; "-" → receive time.  RFC 3164 → receive time.
//   MSG                    → message, without a leading BOM or trailing CR / LF / NUL
//
// Parsed by index: every header field has a bounded length, and the only scans of unbounded
// length (structured data, the message's trailing bytes) are single linear passes, so a 64 KB
// datagram costs one pass. Regular expressions run only on bounded fields and have no nested
// quantifiers. Nothing here throws: every malformation is a `bad_syslog` rejection saying what
// was wrong, quoting (a bounded part of) the offending value.
import envelopeSchema from '../../config/envelope.schema.json';
import type { Decoded } from './codec';
import { Envelope, MAX_TIMESTAMP_NS } from './envelope';

const appIdPattern = new RegExp(envelopeSchema.properties.appId.pattern);
const sourceTypePattern = new RegExp(envelopeSchema.properties.sourceType.pattern);
const sourceInstancePattern = new RegExp(envelopeSchema.properties.sourceInstance.pattern);
const MAX_MESSAGE = envelopeSchema.properties.message.maxLength;

// RFC 5424 §6: field lengths.
const MAX_HOSTNAME = 255;
const MAX_APP_NAME = 48;
const MAX_PROCID = 128;
const MAX_MSGID = 32;
const MAX_SD_NAME = 32;
/** Longest RFC 3339 timestamp RFC 5424 allows: 2003-08-24T05:14:15.000003-07:00 (32). */
const MAX_TIMESTAMP = 32;
const MAX_PRIVAL = 191;
/** MAX_TIMESTAMP_NS as whole seconds and the ns beyond them. */
const MAX_SECONDS = Number(MAX_TIMESTAMP_NS / 1_000_000_000n);
const MAX_FRACTION_NS = Number(MAX_TIMESTAMP_NS % 1_000_000_000n);

const SP = 0x20;
const BOM = '\ufeff';
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

type Step<T> = { readonly ok: true; readonly value: T; readonly next: number } | { readonly ok: false; readonly error: string };

interface Parsed {
  readonly appId: string;
  /** The PROCID as sent; undefined when it is the NILVALUE or absent. */
  readonly procId: string | undefined;
  readonly severity: number;
  readonly timestamp: string;
  readonly message: string;
}

/** Decodes one syslog message (RFC 5424 or RFC 3164) into an envelope, or says why not. Never throws. */
export function decodeSyslog(text: string, receivedNs: string): Decoded {
  const pri = parsePri(text);
  if (!pri.ok) return bad(pri.error);
  const parsed = isVersion5424(text, pri.next)
    ? parse5424(text, pri.next, pri.value, receivedNs)
    : parse3164(text, pri.next, pri.value, receivedNs);
  if (!parsed.ok) return bad(parsed.error);
  const decoded = toEnvelope(parsed.value);
  return decoded.ok && text.length > retainedLength(decoded.envelope) + 256 ? { ok: true, envelope: ownStrings(decoded.envelope) } : decoded;
}

function retainedLength(e: Envelope): number {
  return e.appId.length + e.sourceType.length + e.sourceInstance.length + e.message.length;
}

/**
 * The fields as strings of their own. V8 makes a slice of a long string point into it, so a
 * short message behind 60 KB of STRUCTURED-DATA would keep the whole datagram alive in the
 * recent buffer while being counted as its own length. Copied only when the datagram is much
 * larger than what is kept, so the usual line pays nothing.
 */
function ownStrings(e: Envelope): Envelope {
  const own = (s: string) => Buffer.from(s, 'utf8').toString('utf8');
  return {
    appId: own(e.appId),
    sourceType: own(e.sourceType),
    sourceInstance: own(e.sourceInstance),
    messageType: e.messageType,
    timestamp: e.timestamp,
    message: own(e.message),
  };
}

function bad(detail: string): Decoded {
  return { ok: false, reason: 'bad_syslog', detail };
}

function fail<T>(error: string): Step<T> {
  return { ok: false, error };
}

function step<T>(value: T, next: number): Step<T> {
  return { ok: true, value, next };
}

/** A bounded, quoted excerpt of an offending value, for error details. */
function quote(value: string, max = 40): string {
  return JSON.stringify(value.length > max ? value.slice(0, max) + '…' : value);
}

/** What is at `at`, for "found …" in error details. */
function found(text: string, at: number): string {
  return at >= text.length ? 'the end of the datagram' : quote(text.slice(at, at + 20));
}

// ── PRI ─────────────────────────────────────────────────────────────────────────────────────

/** "<" 1–3 digits ">", 0..191, no leading zero (RFC 5424 §6.2.1, RFC 3164 §4.1.1). */
function parsePri(text: string): Step<number> {
  if (text.charCodeAt(0) !== 0x3c) return fail(`no PRI: a syslog message starts with "<", found ${found(text, 0)}`);
  let i = 1;
  while (i < text.length && i <= 4 && isDigit(text.charCodeAt(i))) i++;
  const digits = text.slice(1, i);
  if (i >= text.length) return fail(`truncated PRI ${quote(text.slice(0, 5))}: expected "<0>" to "<191>"`);
  if (text.charCodeAt(i) !== 0x3e || digits.length === 0 || digits.length > 3) {
    let shown = 1;
    while (shown < 6 && shown < text.length && text.charCodeAt(shown - 1) !== 0x3e) shown++;
    return fail(`bad PRI ${quote(text.slice(0, shown))}: expected "<" 1 to 3 digits ">", "<0>" to "<191>"`);
  }
  if (digits.length > 1 && digits[0] === '0') return fail(`bad PRI ${quote(text.slice(0, i + 1))}: leading zeros are not allowed`);
  const value = Number(digits);
  if (value > MAX_PRIVAL) return fail(`bad PRI ${quote(text.slice(0, i + 1))}: the priority value must be 0 to ${MAX_PRIVAL}`);
  return step(value, i + 1);
}

/** RFC 5424 puts VERSION (a digit 1–9 and up to two more digits) and a space right after PRI. */
function isVersion5424(text: string, at: number): boolean {
  const first = text.charCodeAt(at);
  if (!(first >= 0x31 && first <= 0x39)) return false;
  let i = at + 1;
  while (i < at + 3 && isDigit(text.charCodeAt(i))) i++;
  return i >= text.length || text.charCodeAt(i) === SP;
}

// ── RFC 5424 ────────────────────────────────────────────────────────────────────────────────

function parse5424(text: string, at: number, pri: number, receivedNs: string): Step<Parsed> {
  const end = text.indexOf(' ', at); // within 4 characters: isVersion5424 saw it
  const version = text.slice(at, end < 0 ? text.length : end);
  if (version !== '1') return fail(`unsupported syslog VERSION ${quote(version)}: only 1 (RFC 5424) is known`);
  if (end < 0) return fail('truncated header: nothing after VERSION (expected TIMESTAMP)');

  const timestamp = field(text, end + 1, 'TIMESTAMP', MAX_TIMESTAMP, 'HOSTNAME');
  if (!timestamp.ok) return timestamp;
  const hostname = field(text, timestamp.next, 'HOSTNAME', MAX_HOSTNAME, 'APP-NAME');
  if (!hostname.ok) return hostname;
  const appName = field(text, hostname.next, 'APP-NAME', MAX_APP_NAME, 'PROCID');
  if (!appName.ok) return appName;
  const procId = field(text, appName.next, 'PROCID', MAX_PROCID, 'MSGID');
  if (!procId.ok) return procId;
  const msgId = field(text, procId.next, 'MSGID', MAX_MSGID, 'STRUCTURED-DATA');
  if (!msgId.ok) return msgId;

  let ns = receivedNs;
  if (timestamp.value !== '-') {
    const parsed = timestampNs(timestamp.value);
    if (!parsed.ok) return fail(`invalid TIMESTAMP ${quote(timestamp.value)}: ${parsed.error}`);
    ns = parsed.ns;
  }
  if (appName.value === '-') return fail('APP-NAME is "-" (nil): the app id is required');

  const sd = skipStructuredData(text, msgId.next);
  if (!sd.ok) return sd;
  let message = '';
  if (sd.next < text.length) {
    if (text.charCodeAt(sd.next) !== SP) return fail(`expected a space or the end after STRUCTURED-DATA, found ${found(text, sd.next)}`);
    message = text.slice(sd.next + 1);
  }
  const proc = procId.value === '-' ? undefined : procId.value;
  return step({ appId: appName.value, procId: proc, severity: pri & 7, timestamp: ns, message }, text.length);
}

/**
 * One header field: 1..max printable US-ASCII characters, then one space. Returns the field and
 * the index after that space. Scans at most max + 1 characters.
 */
function field(text: string, at: number, name: string, max: number, nextName: string): Step<string> {
  if (at >= text.length) return fail(`truncated header: no ${name}`);
  let i = at;
  const limit = Math.min(text.length, at + max + 1);
  while (i < limit && isPrintUsAscii(text.charCodeAt(i))) i++;
  if (i === at) {
    return text.charCodeAt(at) === SP
      ? fail(`empty ${name} (two spaces in a row?)`)
      : fail(`${name} has a character that is not printable US-ASCII: ${found(text, at)}`);
  }
  if (i - at > max) return fail(`${name} ${quote(text.slice(at, i))} is longer than ${max} characters`);
  if (i >= text.length) return fail(`truncated header: nothing after ${name} ${quote(text.slice(at, i))} (expected ${nextName})`);
  if (text.charCodeAt(i) !== SP) return fail(`${name} has a character that is not printable US-ASCII: ${found(text, i)}`);
  return step(text.slice(at, i), i + 1);
}

/**
 * STRUCTURED-DATA: "-", or one or more [SD-ID *(SP PARAM-NAME="PARAM-VALUE")] with no space
 * between elements; inside a value, a backslash escapes the next character (\" \\ \]). Skipped,
 * not kept: the envelope has no place for it. One linear pass.
 */
function skipStructuredData(text: string, at: number): Step<null> {
  if (at >= text.length) return fail('truncated header: no STRUCTURED-DATA (expected "-" or "[")');
  if (text.charCodeAt(at) === 0x2d) return step(null, at + 1);
  if (text.charCodeAt(at) !== 0x5b) return fail(`STRUCTURED-DATA must be "-" or start with "[", found ${found(text, at)}`);
  let i = at;
  while (text.charCodeAt(i) === 0x5b) {
    const idAt = i + 1;
    const idEnd = sdNameEnd(text, idAt);
    if (idEnd === idAt || idEnd - idAt > MAX_SD_NAME) return fail(badSdName(text, idAt, idEnd, 'SD-ID'));
    i = idEnd;
    for (;;) {
      if (i >= text.length) return fail(`unterminated SD-ELEMENT [${text.slice(idAt, idEnd)}: no "]"`);
      const c = text.charCodeAt(i);
      if (c === 0x5d) {
        i++;
        break;
      }
      if (c !== SP) return fail(`in SD-ELEMENT [${text.slice(idAt, idEnd)}: expected " " or "]", found ${found(text, i)}`);
      const nameAt = i + 1;
      const nameEnd = sdNameEnd(text, nameAt);
      if (nameEnd === nameAt || nameEnd - nameAt > MAX_SD_NAME) return fail(badSdName(text, nameAt, nameEnd, 'PARAM-NAME'));
      i = nameEnd;
      if (text.charCodeAt(i) !== 0x3d || text.charCodeAt(i + 1) !== 0x22) {
        const name = quote(text.slice(nameAt, nameEnd));
        return fail(`in SD-ELEMENT [${text.slice(idAt, idEnd)}: expected ="…" after PARAM-NAME ${name}, found ${found(text, i)}`);
      }
      i += 2;
      for (;;) {
        if (i >= text.length) {
          const name = quote(text.slice(nameAt, nameEnd));
          return fail(`unterminated PARAM-VALUE of ${name} in SD-ELEMENT [${text.slice(idAt, idEnd)}: no closing quote`);
        }
        const v = text.charCodeAt(i);
        if (v === 0x22) break;
        i += v === 0x5c ? 2 : 1;
      }
      i++;
    }
  }
  return step(null, i);
}

/** Where an SD-NAME starting at `at` ends (printable US-ASCII except = SP ] "), scanning at most 33 characters. */
function sdNameEnd(text: string, at: number): number {
  const limit = Math.min(text.length, at + MAX_SD_NAME + 1);
  let i = at;
  for (; i < limit; i++) {
    const c = text.charCodeAt(i);
    if (!isPrintUsAscii(c) || c === 0x3d || c === 0x5d || c === 0x22) break;
  }
  return i;
}

function badSdName(text: string, at: number, end: number, what: string): string {
  return end === at
    ? `empty or invalid ${what} in STRUCTURED-DATA, found ${found(text, at)}`
    : `${what} ${quote(text.slice(at, end))} in STRUCTURED-DATA is longer than ${MAX_SD_NAME} characters`;
}

/**
 * RFC 5424 TIMESTAMP (RFC 3339 with an upper-case T and Z, at most 6 fraction digits):
 * YYYY-MM-DDThh:mm:ss[.f{1,6}](Z|±hh:mm) → ns since the epoch as a decimal string, or why not.
 */
function timestampNs(s: string): { readonly ok: true; readonly ns: string } | { readonly ok: false; readonly error: string } {
  const invalid = (error: string) => ({ ok: false, error }) as const;
  const year = digits(s, 0, 4);
  const month = digits(s, 5, 2);
  const day = digits(s, 8, 2);
  const hour = digits(s, 11, 2);
  const minute = digits(s, 14, 2);
  const second = digits(s, 17, 2);
  if (
    year < 0 || s[4] !== '-' || month < 0 || s[7] !== '-' || day < 0 || s[10] !== 'T' ||
    hour < 0 || s[13] !== ':' || minute < 0 || s[16] !== ':' || second < 0
  ) {
    return invalid('expected YYYY-MM-DDThh:mm:ss[.ffffff](Z|±hh:mm)');
  }
  if (month < 1 || month > 12) return invalid(`month ${month} is not 1 to 12`);
  if (day < 1 || day > daysInMonth(year, month)) return invalid(`day ${day} is not in ${year}-${String(month).padStart(2, '0')}`);
  if (hour > 23 || minute > 59 || second > 59) return invalid('time of day out of range');
  let i = 19;
  let fractionNs = 0;
  if (s[i] === '.') {
    const start = ++i;
    while (i < s.length && i - start <= 6 && isDigit(s.charCodeAt(i))) i++;
    const n = i - start;
    if (n === 0 || n > 6) return invalid('the fraction of a second must have 1 to 6 digits');
    fractionNs = digits(s, start, n) * 10 ** (9 - n);
  }
  let offsetSeconds = 0;
  if (s[i] === 'Z' && i + 1 === s.length) {
    // UTC
  } else if ((s[i] === '+' || s[i] === '-') && i + 6 === s.length && s[i + 3] === ':') {
    const oh = digits(s, i + 1, 2);
    const om = digits(s, i + 4, 2);
    if (oh < 0 || om < 0 || oh > 23 || om > 59) return invalid('the offset must be Z or ±hh:mm');
    offsetSeconds = (s[i] === '+' ? 1 : -1) * (oh * 3600 + om * 60);
  } else {
    return invalid('the offset must be Z or ±hh:mm, and nothing may follow it');
  }
  // Whole seconds fit a double exactly (|s| < 2^53); the ns string is seconds and 9 fraction digits.
  const seconds = daysFromCivil(year, month, day) * 86400 + hour * 3600 + minute * 60 + second - offsetSeconds;
  if (seconds < 0) return invalid('before 1970-01-01T00:00:00Z');
  if (seconds > MAX_SECONDS || (seconds === MAX_SECONDS && fractionNs > MAX_FRACTION_NS)) {
    return invalid('beyond a 64-bit nanosecond clock (2262)');
  }
  return { ok: true, ns: seconds === 0 ? String(fractionNs) : String(seconds) + String(fractionNs).padStart(9, '0') };
}

/** Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's days_from_civil). */
function daysFromCivil(year: number, month: number, day: number): number {
  const y = month <= 2 ? year - 1 : year;
  const era = Math.floor(y / 400);
  const yoe = y - era * 400;
  const doy = Math.floor((153 * (month + (month > 2 ? -3 : 9)) + 2) / 5) + day - 1;
  const doe = yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy;
  return era * 146097 + doe - 719468;
}

function daysInMonth(year: number, month: number): number {
  if (month === 2) return (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0 ? 29 : 28;
  return month === 4 || month === 6 || month === 9 || month === 11 ? 30 : 31;
}

// ── RFC 3164 ────────────────────────────────────────────────────────────────────────────────

/**
 * <PRI> [TIMESTAMP SP [HOSTNAME SP]] TAG ["[" PID "]"] ":" [SP] MSG
 * TIMESTAMP is "Mmm dd hh:mm:ss" (checked, then ignored: it has no year and no zone), or the
 * RFC 3339 one of rsyslog's forwarding format (used). Without a timestamp (as Python's
 * SysLogHandler sends) there is no hostname either. The TAG must end in ":" or "[PID]:", as
 * syslog(3), `logger` and journald write it: without one, nothing says which app a line is for.
 */
function parse3164(text: string, at: number, pri: number, receivedNs: string): Step<Parsed> {
  let i = at;
  let ns = receivedNs;
  let stamped = false;
  if (isMonthAt(text, i)) {
    const problem = checkBsdTimestamp(text, i);
    if (problem !== undefined) return fail(`invalid RFC 3164 TIMESTAMP ${quote(text.slice(i, i + 15))}: ${problem}`);
    i += 15;
    stamped = true;
  } else if (isIsoDateAt(text, i)) {
    let end = i;
    while (end < text.length && end - i <= MAX_TIMESTAMP && text.charCodeAt(end) !== SP) end++;
    const token = text.slice(i, end);
    const parsed = timestampNs(token);
    if (!parsed.ok) return fail(`invalid TIMESTAMP ${quote(token)}: ${parsed.error}`);
    ns = parsed.ns;
    i = end;
    stamped = true;
  }
  if (stamped) {
    if (i >= text.length) return fail('truncated header: nothing after TIMESTAMP (expected HOSTNAME and TAG)');
    if (text.charCodeAt(i) !== SP) return fail(`expected a space after TIMESTAMP, found ${found(text, i)}`);
    i++;
    // HOSTNAME, unless the next word is already the tag ("app:" or "app[pid]:", as syslog(3)
    // writes to the local socket, without a hostname).
    let end = i;
    while (end < text.length && end - i <= MAX_HOSTNAME && text.charCodeAt(end) !== SP) end++;
    if (end === i) return fail('empty HOSTNAME (two spaces in a row?)');
    if (end - i <= MAX_HOSTNAME && text.charCodeAt(end - 1) !== 0x3a) {
      if (end >= text.length) return fail(`truncated header: nothing after HOSTNAME ${quote(text.slice(i, end))} (expected TAG)`);
      i = end + 1;
    }
  }

  // TAG: up to "[", ":" or a space; at most an app id's length.
  let j = i;
  const limit = Math.min(text.length, i + MAX_APP_NAME + 1);
  for (; j < limit; j++) {
    const c = text.charCodeAt(j);
    if (c === 0x5b || c === 0x3a || c === SP) break;
  }
  const tag = text.slice(i, j);
  const terminator = text.charCodeAt(j);
  if (j - i > MAX_APP_NAME) return fail(`TAG ${quote(tag)} is not a valid app id (at most ${MAX_APP_NAME} characters)`);
  if (terminator !== 0x5b && terminator !== 0x3a) {
    return fail(`no TAG: expected "app-id: message" or "app-id[instance]: message" after the header, found ${found(text, i)}`);
  }
  let procId: string | undefined;
  if (terminator === 0x5b) {
    let k = j + 1;
    const pidLimit = Math.min(text.length, k + MAX_PROCID + 1);
    while (k < pidLimit && text.charCodeAt(k) !== 0x5d) k++;
    if (k >= pidLimit) return fail(`unterminated PID after TAG ${quote(tag)}: expected "${tag}[PID]:" with a PID of at most ${MAX_PROCID} characters`);
    const pid = text.slice(j + 1, k);
    // "app[RTR/1]:" names a source type, as RFC 5424's PROCID "[RTR/1]" does.
    procId = pid.includes('/') ? `[${pid}]` : pid;
    j = k + 1;
    if (text.charCodeAt(j) !== 0x3a) return fail(`expected ":" after ${quote(text.slice(i, j))}, found ${found(text, j)}`);
  }
  j++;
  if (text.charCodeAt(j) === SP) j++;
  return step({ appId: tag, procId, severity: pri & 7, timestamp: ns, message: text.slice(j) }, text.length);
}

function isMonthAt(text: string, at: number): boolean {
  return text.charCodeAt(at + 3) === SP && MONTHS.includes(text.slice(at, at + 3));
}

/** "Mmm dd hh:mm:ss", the day space-padded (" 5") or, leniently, zero-padded ("05"). */
function checkBsdTimestamp(text: string, at: number): string | undefined {
  if (at + 15 > text.length) return 'truncated: expected "Mmm dd hh:mm:ss"';
  const dayText = text.slice(at + 4, at + 6);
  const day = dayText[0] === ' ' ? digits(dayText, 1, 1) : digits(dayText, 0, 2);
  const hour = digits(text, at + 7, 2);
  const minute = digits(text, at + 10, 2);
  const second = digits(text, at + 13, 2);
  if (day < 0 || text[at + 6] !== ' ' || hour < 0 || text[at + 9] !== ':' || minute < 0 || text[at + 12] !== ':' || second < 0) {
    return 'expected "Mmm dd hh:mm:ss"';
  }
  if (day < 1 || day > 31) return `day ${day} is not 1 to 31`;
  if (hour > 23 || minute > 59 || second > 59) return 'time of day out of range';
  return undefined;
}

/** "YYYY-MM-DDT": rsyslog's forwarding format puts an RFC 3339 timestamp where 3164's goes. */
function isIsoDateAt(text: string, at: number): boolean {
  return digits(text, at, 4) >= 0 && text[at + 4] === '-' && digits(text, at + 5, 2) >= 0 && text[at + 7] === '-' && text[at + 10] === 'T';
}

// ── Envelope ────────────────────────────────────────────────────────────────────────────────

function toEnvelope(p: Parsed): Decoded {
  if (!appIdPattern.test(p.appId)) {
    return bad(`app name ${quote(p.appId)} is not a valid app id: 1 to 48 of A-Z a-z 0-9 . _ -, starting with a letter or digit`);
  }
  const source = sourceOf(p.procId);
  if (typeof source === 'string') return bad(source);
  const message = trimMessage(p.message);
  if (message.length > MAX_MESSAGE) return bad(`message is longer than ${MAX_MESSAGE} characters`);
  return {
    ok: true,
    envelope: {
      appId: p.appId,
      sourceType: source.sourceType,
      sourceInstance: source.sourceInstance,
      messageType: p.severity <= 3 ? 'ERR' : 'OUT',
      timestamp: p.timestamp,
      message,
    },
  };
}

/** "[TYPE/INST]" → TYPE and INST (split at the last "/"); any other PROCID → APP and itself. */
function sourceOf(procId: string | undefined): { sourceType: string; sourceInstance: string } | string {
  if (procId === undefined) return { sourceType: 'APP', sourceInstance: '0' };
  if (procId.length > 2 && procId[0] === '[' && procId[procId.length - 1] === ']') {
    const inner = procId.slice(1, -1);
    const slash = inner.lastIndexOf('/');
    if (slash >= 0) {
      const sourceType = inner.slice(0, slash);
      const sourceInstance = inner.slice(slash + 1);
      if (!sourceTypePattern.test(sourceType)) {
        return `PROCID ${quote(procId)}: source type ${quote(sourceType)} must be 1 to 32 of A-Z a-z 0-9 / . _ -, starting with a letter or digit`;
      }
      if (!sourceInstancePattern.test(sourceInstance)) {
        return `PROCID ${quote(procId)}: source instance ${quote(sourceInstance)} must be 1 to 64 of A-Z a-z 0-9 . _ : / -`;
      }
      return { sourceType, sourceInstance };
    }
  }
  if (!sourceInstancePattern.test(procId)) {
    return `PROCID ${quote(procId)} is not a valid source instance: 1 to 64 of A-Z a-z 0-9 . _ : / -, or "[TYPE/INSTANCE]"`;
  }
  return { sourceType: 'APP', sourceInstance: procId };
}

/** Without a leading BOM (RFC 5424's MSG-UTF8) and trailing CR, LF and NUL (one pass from the end). */
function trimMessage(message: string): string {
  const start = message.startsWith(BOM) ? 1 : 0;
  let end = message.length;
  while (end > start) {
    const c = message.charCodeAt(end - 1);
    if (c !== 0x0a && c !== 0x0d && c !== 0x00) break;
    end--;
  }
  return start === 0 && end === message.length ? message : message.slice(start, end);
}

// ── Characters ──────────────────────────────────────────────────────────────────────────────

function isDigit(c: number): boolean {
  return c >= 0x30 && c <= 0x39;
}

/** PRINTUSASCII = %d33-126 */
function isPrintUsAscii(c: number): boolean {
  return c >= 0x21 && c <= 0x7e;
}

/** The n digits at `at` as a number, or -1 if any is not a digit (or the text ends). */
function digits(text: string, at: number, n: number): number {
  let value = 0;
  for (let k = at; k < at + n; k++) {
    const c = text.charCodeAt(k);
    if (!isDigit(c)) return -1;
    value = value * 10 + (c - 0x30);
  }
  return value;
}
