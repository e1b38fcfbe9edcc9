// The wire codecs of the envelope. Every edge (UDP, websocket, HTTP, CLI) encodes and decodes
// through this module, so there is exactly one definition of what a valid envelope is.
import { isUtf8 } from 'node:buffer';
import { createHmac, timingSafeEqual } from 'node:crypto';
import Ajv from 'ajv';
import envelopeSchema from '../../config/envelope.schema.json';
import { Envelope, MAX_TIMESTAMP_NS, nowNs } from './envelope';
import { decodeSyslog } from './syslogCodec';

/** Why a datagram or document was refused; each reason is a metric label. */
export type RejectReason =
  | 'oversized'
  | 'invalid_utf8'
  | 'not_json'
  | 'invalid_envelope'
  | 'unsigned'
  | 'bad_signature'
  | 'bad_syslog';

export type Decoded =
  /** json: the text it was decoded from, when asked for (keepText) and it is the canonical field order. */
  | { readonly ok: true; readonly envelope: Envelope; readonly json?: string }
  | { readonly ok: false; readonly reason: RejectReason; readonly detail: string };

const ajv = new Ajv({ allErrors: false });
const validate = ajv.compile<Envelope>(envelopeSchema);

const MAX_TIMESTAMP_TEXT = MAX_TIMESTAMP_NS.toString();

/** The datagram as text, or undefined when it is not valid UTF-8 (checked, not replaced). */
function utf8Text(bytes: Buffer): string | undefined {
  return isUtf8(bytes) ? bytes.toString('utf8') : undefined;
}

function reject(reason: RejectReason, detail: string): Decoded {
  return { ok: false, reason, detail };
}

/** Validates a parsed JSON value; keeps only the envelope's own fields (unknown ones are ignored). */
export function envelopeFromValue(value: unknown): Decoded {
  if (!validate(value)) {
    const e = validate.errors?.[0];
    const where = e?.instancePath ? e.instancePath.slice(1) : 'envelope';
    return reject('invalid_envelope', `${where} ${e?.message ?? 'is invalid'}`);
  }
  // Digits only and no leading zero (schema), so at equal length string order is numeric order.
  if (value.timestamp.length === 19 && value.timestamp > MAX_TIMESTAMP_TEXT) {
    return reject('invalid_envelope', 'timestamp is beyond a 64-bit nanosecond clock');
  }
  const { appId, sourceType, sourceInstance, messageType, timestamp, message } = value;
  return { ok: true, envelope: { appId, sourceType, sourceInstance, messageType, timestamp, message } };
}

/** Decodes one envelope from JSON text. Never throws. */
export function decodeEnvelopeJson(text: string, keepText = false): Decoded {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    return reject('not_json', (err as Error).message);
  }
  const decoded = envelopeFromValue(value);
  if (keepText && decoded.ok && hasCanonicalFields(value) && isMinimalText(text, decoded.envelope)) {
    return { ok: true, envelope: decoded.envelope, json: text };
  }
  return decoded;
}

const CANONICAL_FIELDS = ['appId', 'sourceType', 'sourceInstance', 'messageType', 'timestamp', 'message'];
/** The canonical JSON's length beside its values: braces, names, quotes, colons and commas. */
const CANONICAL_FRAME_LENGTH = JSON.stringify(Object.fromEntries(CANONICAL_FIELDS.map(f => [f, '']))).length;

/**
 * Whether the text is the envelope's shortest JSON: its six fields in order (checked before), no
 * whitespace, no escape and no repeated key, since any of those only adds length. Such a text is
 * exactly what encodeEnvelopeJson makes of the value (valid JSON text cannot hold a quote,
 * backslash or control character unescaped, nor, decoded from UTF-8, a lone surrogate), so it can
 * be sent on as it is.
 */
function isMinimalText(text: string, e: Envelope): boolean {
  return (
    text.length ===
    CANONICAL_FRAME_LENGTH + e.appId.length + e.sourceType.length + e.sourceInstance.length + e.messageType.length + e.timestamp.length + e.message.length
  );
}

function hasCanonicalFields(value: unknown): boolean {
  let i = 0;
  for (const key in value as object) if (key !== CANONICAL_FIELDS[i++]) return false;
  return i === CANONICAL_FIELDS.length;
}

/** The canonical JSON of an envelope: its six fields in a fixed order, nothing else. */
export function encodeEnvelopeJson(e: Envelope): string {
  return JSON.stringify({
    appId: e.appId,
    sourceType: e.sourceType,
    sourceInstance: e.sourceInstance,
    messageType: e.messageType,
    timestamp: e.timestamp,
    message: e.message,
  });
}

// Datagram framing. Unsigned: the JSON bytes alone, or a syslog message (RFC 5424 / RFC 3164,
// first byte '<'). Signed:
//   "s1:" + base64url(HMAC-SHA256(secret, json bytes)) (43 chars) + "\n" + json bytes
// A fixed-length prefix keeps verification cheap and cannot be confused with JSON ('{') or
// syslog ('<'). Syslog cannot be signed, so with a secret configured it is refused as unsigned.
const SIGNED_TAG = Buffer.from('s1:');
const SIGNATURE_CHARS = 43;
const SIGNED_PREFIX_BYTES = SIGNED_TAG.length + SIGNATURE_CHARS + 1;

export interface DatagramOptions {
  /** Shared secret; when set, every datagram must carry a valid signature. */
  readonly secret?: string;
  /** Largest datagram accepted, in bytes. */
  readonly maxBytes: number;
  /** Receive time in ns since the epoch, for syslog messages that carry none; tests fix it. */
  readonly nowNs?: () => string;
  /** Keep each envelope's text when it is canonical (Decoded's json), to forward it as is. */
  readonly keepText?: boolean;
}

const SYSLOG_START = 0x3c; // '<'

function sign(secret: string, body: Buffer): Buffer {
  return createHmac('sha256', secret).update(body).digest();
}

function isSigned(datagram: Buffer): boolean {
  return (
    datagram.length >= SIGNED_PREFIX_BYTES &&
    datagram.subarray(0, SIGNED_TAG.length).equals(SIGNED_TAG) &&
    datagram[SIGNED_PREFIX_BYTES - 1] === 0x0a
  );
}

/**
 * A datagram's checks that do not depend on what it carries: size, signature, UTF-8. Its JSON
 * body when they pass; else the one result for the whole datagram (a rejection, or a decoded
 * syslog message, which is never batched).
 */
function datagramBody(datagram: Buffer, opts: DatagramOptions): Buffer | Decoded {
  if (datagram.length > opts.maxBytes) {
    return reject('oversized', `${datagram.length} bytes > limit of ${opts.maxBytes}`);
  }
  let body = datagram;
  if (isSigned(datagram)) {
    body = datagram.subarray(SIGNED_PREFIX_BYTES);
    if (opts.secret !== undefined) {
      const given = Buffer.from(
        datagram.subarray(SIGNED_TAG.length, SIGNED_TAG.length + SIGNATURE_CHARS).toString('latin1'),
        'base64url',
      );
      const expected = sign(opts.secret, body);
      if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
        return reject('bad_signature', 'HMAC-SHA256 signature does not match the shared secret');
      }
    }
  } else if (opts.secret !== undefined) {
    return datagram[0] === SYSLOG_START
      ? reject('unsigned', 'a shared secret is configured, and a syslog datagram cannot be signed')
      : reject('unsigned', 'a shared secret is configured and the datagram carries no signature');
  } else if (datagram[0] === SYSLOG_START) {
    const text = utf8Text(datagram);
    if (text === undefined) return reject('bad_syslog', 'syslog datagram is not valid UTF-8');
    return decodeSyslog(text, (opts.nowNs ?? nowNs)());
  }
  if (!isUtf8(body)) return reject('invalid_utf8', 'datagram is not valid UTF-8');
  return body;
}

/** datagramBody's JSON body as text. */
function datagramText(datagram: Buffer, opts: DatagramOptions): string | Decoded {
  const body = datagramBody(datagram, opts);
  return Buffer.isBuffer(body) ? body.toString('utf8') : body;
}

/** Decodes a UDP datagram of one envelope, or says why not. Never throws. */
export function decodeDatagram(datagram: Buffer, opts: DatagramOptions): Decoded {
  const text = datagramText(datagram, opts);
  return typeof text === 'string' ? decodeEnvelopeJson(text) : text;
}

/**
 * Decodes a UDP datagram of one or more envelopes (a batch: envelope JSON texts separated by
 * "\n", which JSON never has unescaped; the signature covers the whole batch). Each envelope is
 * decoded on its own: a bad one is one rejection and its neighbours are delivered. A datagram
 * whose size, signature or UTF-8 is bad is one rejection for the whole of it. Never throws.
 */
export function decodeDatagramBatch(datagram: Buffer, opts: DatagramOptions): Decoded[] {
  const text = datagramText(datagram, opts);
  if (typeof text !== 'string') return [text];
  return decodeEnvelopeLines(text, opts.keepText);
}

/**
 * Envelope JSON texts separated by "\n" (a batch's body, or what a router worker is handed),
 * each decoded on its own: a bad one is one rejection and its neighbours are delivered. Blank
 * parts carry nothing. Never throws.
 */
export function decodeEnvelopeLines(text: string, keepText = false): Decoded[] {
  let newline = text.indexOf('\n');
  if (newline < 0) return [decodeEnvelopeJson(text, keepText)]; // the usual single envelope: no split
  const decoded: Decoded[] = [];
  let start = 0;
  for (;;) {
    const end = newline < 0 ? text.length : newline;
    // Blank parts (a trailing "\n", "\r\n" line ends) carry nothing; they are not rejections.
    if (end > start && !isBlankText(text, start, end)) decoded.push(decodeEnvelopeJson(text.slice(start, end), keepText));
    if (newline < 0) break;
    start = newline + 1;
    newline = text.indexOf('\n', start);
  }
  return decoded.length > 0 ? decoded : [decodeEnvelopeJson(text)];
}

/** Encodes one envelope as a datagram, signed when a secret is given. */
export function encodeDatagram(e: Envelope, secret?: string): Buffer {
  const body = Buffer.from(encodeEnvelopeJson(e), 'utf8');
  if (secret === undefined) return body;
  const signature = sign(secret, body).toString('base64url');
  return Buffer.concat([SIGNED_TAG, Buffer.from(signature + '\n', 'latin1'), body]);
}

/**
 * Several envelopes' JSON texts (encodeEnvelopeJson) as one datagram, signed when a secret is
 * given: what decodeDatagramBatch reads. One text makes the same datagram as encodeDatagram.
 */
export function encodeDatagramBatch(jsonTexts: readonly string[], secret?: string): Buffer {
  const body = Buffer.from(jsonTexts.join('\n'), 'utf8');
  if (secret === undefined) return body;
  const signature = sign(secret, body).toString('base64url');
  return Buffer.concat([SIGNED_TAG, Buffer.from(signature + '\n', 'latin1'), body]);
}

/** Bytes a datagram adds around the message text, so senders can split long lines to fit. */
export function datagramOverhead(e: Omit<Envelope, 'message'>, secret?: string): number {
  return encodeDatagram({ ...e, message: '' }, secret).length;
}

const appIdPattern = new RegExp(envelopeSchema.properties.appId.pattern);

/** Whether a string is a valid app id (the envelope schema's rule), for edges that take one. */
export function isValidAppId(appId: string): boolean {
  return appIdPattern.test(appId);
}

/** One envelope's text in a datagram, and the app it claims (undefined: none could be read). */
export interface DatagramPart {
  readonly appId: string | undefined;
  readonly text: Buffer;
}

const NEWLINE = 0x0a;
const QUOTE = 0x22;
const BACKSLASH = 0x5c;
/** How every encoder here (encodeEnvelopeJson) starts an envelope: the app id is read without parsing. */
const CANONICAL_START = Buffer.from('{"appId":"');

/**
 * The app an envelope text claims: read straight from the canonical form, else from a parse.
 * undefined when it has none that is a string (the envelope's own decoder rejects it later).
 */
function claimedAppId(text: Buffer): string | undefined {
  const from = CANONICAL_START.length;
  if (text.length > from && text.compare(CANONICAL_START, 0, from, 0, from) === 0) {
    const end = text.indexOf(QUOTE, from);
    // An escape inside the id (never in a valid one): read it as JSON would instead.
    if (end > from && text.subarray(from, end).indexOf(BACKSLASH) < 0) return text.toString('latin1', from, end);
  }
  try {
    const value: unknown = JSON.parse(text.toString('utf8'));
    const appId = (value as { appId?: unknown } | null)?.appId;
    return typeof appId === 'string' ? appId : undefined;
  } catch {
    return undefined;
  }
}

/** Whether text[start, end) holds only JSON whitespace (a batch's blank part, e.g. a trailing "\r"). */
function isBlankText(text: string, start: number, end: number): boolean {
  for (let i = start; i < end; i++) {
    const c = text.charCodeAt(i);
    if (c !== 0x20 && c !== 0x09 && c !== 0x0d && c !== 0x0a) return false;
  }
  return true;
}

/** Whether bytes hold only JSON whitespace (a batch's blank part, e.g. a trailing "\r"). */
function isBlank(bytes: Buffer): boolean {
  for (const b of bytes) if (b !== 0x20 && b !== 0x09 && b !== 0x0d && b !== 0x0a) return false;
  return true;
}

/**
 * A datagram's checks that hold for the whole of it (size, signature, UTF-8; a syslog message
 * decoded, as it is never batched), then its envelopes' texts, each with the app it claims:
 * what a multi-worker router needs to hand each envelope to the worker that owns its app
 * without decoding it. The envelopes are decoded and counted by that worker
 * (decodeEnvelopeLines). Never throws.
 */
export function splitDatagram(datagram: Buffer, opts: DatagramOptions): DatagramPart[] | Decoded {
  const body = datagramBody(datagram, opts);
  if (!Buffer.isBuffer(body)) {
    if (!body.ok) return body;
    // A syslog message, decoded here with its receive time: passed on as a canonical envelope.
    return [{ appId: body.envelope.appId, text: Buffer.from(encodeEnvelopeJson(body.envelope), 'utf8') }];
  }
  // Nothing but blanks (an empty datagram too): the rejection decodeEnvelopeLines would make.
  if (isBlank(body)) return decodeEnvelopeJson(body.toString('utf8'));
  if (body.indexOf(NEWLINE) < 0) return [{ appId: claimedAppId(body), text: body }]; // the usual single envelope
  const parts: DatagramPart[] = [];
  let start = 0;
  while (start < body.length) {
    let end = body.indexOf(NEWLINE, start);
    if (end < 0) end = body.length;
    const part = body.subarray(start, end);
    if (!isBlank(part)) parts.push({ appId: claimedAppId(part), text: part });
    start = end + 1;
  }
  return parts;
}
