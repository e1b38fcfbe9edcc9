// A router's registration record in etcd: `<prefix><routerId>` → `{"udp": "HOST:PORT", "http": "HOST:PORT"}`.
// Written by routerRegistration, read by routerDiscovery; validated here, at the edge, so the
// rest deals only in valid RouterInfo.
import Ajv, { ValidateFunction } from 'ajv';
import { RouterInfo } from '../../streams/routerInfo';

/** A router id, as config's router.id and routers.static ids: the key of its record. */
export const ROUTER_ID = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$/;

/** Longest record value accepted, in UTF-8 bytes: two addresses fit many times over. */
export const MAX_ROUTER_RECORD_BYTES = 4096;

/** 1..65535, no leading zero (the writer never writes one). */
const PORT = '(?:[1-9][0-9]{0,3}|[1-5][0-9]{4}|6[0-4][0-9]{3}|65[0-4][0-9]{2}|655[0-2][0-9]|6553[0-5])';
/**
 * HOST:PORT as config/config.schema.json's routers.static items spell it (an IPv6 host in
 * brackets), with the port range checked, and no control characters in the host nor any
 * character that would change the URL built from it (`/ @ ? # % \`).
 */
export const HOST_PORT_PATTERN = `^(?:\\[[0-9a-fA-F:.]+\\]|[^:\\s\\[\\]\\u0000-\\u001f\\u007f/@?#%\\\\]+):${PORT}$`;
const HOST_PORT = new RegExp(HOST_PORT_PATTERN, 'u');

/** Whether `text` is HOST:PORT as a router record (and routers.static) holds it. */
export function isHostPort(text: string): boolean {
  return text.length <= 300 && HOST_PORT.test(text);
}

interface RouterRecordValue {
  udp: string;
  http: string;
}

const address = { type: 'string', maxLength: 300, pattern: HOST_PORT_PATTERN };
// Unknown extra fields are allowed (and ignored): a newer router may register more than this one reads.
// Compiled on first use: loadConfig imports isHostPort from here, and most processes never read a record.
let compiled: ValidateFunction<RouterRecordValue> | undefined;
const validator = (): ValidateFunction<RouterRecordValue> =>
  (compiled ??= new Ajv({ allErrors: false }).compile<RouterRecordValue>({
    type: 'object',
    required: ['udp', 'http'],
    properties: { udp: address, http: address },
  }));

const ADDRESS_HINT = 'must be HOST:PORT (port 1-65535, an IPv6 host in brackets)';

/** The record value a router registers. Throws if the result would not parse back: a bug or a bad address. */
export function encodeRouterRecord(info: RouterInfo): string {
  if (info.http === undefined) throw new Error(`router ${info.id}: an etcd registration needs an HTTP address`);
  const value = JSON.stringify({ udp: info.udp, http: info.http });
  const parsed = parseRouterRecord(info.id, value);
  if ('invalid' in parsed) throw new Error(`router ${JSON.stringify(info.id)} cannot be registered: ${parsed.invalid}`);
  return value;
}

/** Why a record is not a router, as a short fixed label (the metrics' `reason`). */
export const INVALID_ROUTER_RECORD_REASONS = ['bad_id', 'too_large', 'invalid_utf8', 'not_json', 'not_object', 'missing_address', 'bad_address'] as const;
export type InvalidRouterRecordReason = (typeof INVALID_ROUTER_RECORD_REASONS)[number];

/** A record that is not a router: `invalid` says what is wrong in words (for the log), `reason` as a label. */
export interface InvalidRouterRecord {
  readonly invalid: string;
  readonly reason: InvalidRouterRecordReason;
}

const invalid = (reason: InvalidRouterRecordReason, text: string): InvalidRouterRecord => ({ invalid: text, reason });

/** A record (key: the router id, the prefix taken off) → the router, or what is wrong with it. Never throws. */
export function parseRouterRecord(key: string, value: string): RouterInfo | InvalidRouterRecord {
  if (!ROUTER_ID.test(key)) return invalid('bad_id', 'key: router id must be 1-128 of A-Z a-z 0-9 . _ : -, first a letter or digit');
  if (Buffer.byteLength(value, 'utf8') > MAX_ROUTER_RECORD_BYTES) return invalid('too_large', `value: longer than ${MAX_ROUTER_RECORD_BYTES} bytes`);
  // Bytes that are not UTF-8 arrive as U+FFFD (prefixEvents decodes with toString()): repaired,
  // they would make another address than the one written.
  if (value.includes('\uFFFD')) return invalid('invalid_utf8', 'value: not valid UTF-8');
  let json: unknown;
  try {
    json = JSON.parse(value);
  } catch {
    return invalid('not_json', 'not JSON (expected {"udp": "HOST:PORT", "http": "HOST:PORT"})');
  }
  const validate = validator();
  if (!validate(json)) return schemaProblem(validate.errors?.[0]);
  return { id: key, udp: json.udp, http: json.http };
}

function schemaProblem(error: { keyword: string; instancePath: string; params: Record<string, unknown> } | undefined): InvalidRouterRecord {
  if (error === undefined) return invalid('not_object', 'invalid');
  if (error.keyword === 'required') return invalid('missing_address', `${String(error.params.missingProperty)}: missing`);
  const field = error.instancePath.slice(1);
  if (field === '') return invalid('not_object', 'not a JSON object (expected {"udp": "HOST:PORT", "http": "HOST:PORT"})');
  return invalid('bad_address', `${field}: ${ADDRESS_HINT}`);
}
