// tokens.json, the tokens of "tokens" auth mode: which token may read which apps.
//   { "tokens": { "<token>": ["app-1", "app-2"], "<admin token>": "*", "<nozzle token>": "firehose" } }
// "firehose", alone or in a list, lets the token read every app's lines through /firehose.
// Every problem is described by position ("the 2nd token"), never by quoting the file: the file
// is made of secrets, and problem descriptions go to the log.
import Ajv, { ErrorObject } from 'ajv';
import envelopeSchema from '../../config/envelope.schema.json';
import { B64TOKEN_PATTERN, MAX_TOKEN_CHARS, TOKEN_RULE } from './bearerToken';

/** What one token may read: every app, the firehose, or the listed apps (and the firehose, if listed). */
export type AppGrant = '*' | 'firehose' | readonly string[];

export interface TokenGrant {
  readonly token: string;
  readonly apps: AppGrant;
}

export type TokensFileRead = { readonly ok: true; readonly grants: readonly TokenGrant[] } | { readonly ok: false; readonly reason: string };

/** Far more than any hand-kept list of tokens; a larger file is refused, not read into memory twice. */
export const MAX_TOKENS_FILE_CHARS = 4 * 1024 * 1024;

const SHAPE = 'expected {"tokens": {"<token>": ["app-id", …] or "*" or "firehose", …}}';
const APP_ID_RULE = '1-48 characters of A-Z a-z 0-9 . _ -, starting with a letter or digit';

const schema = {
  type: 'object',
  required: ['tokens'],
  additionalProperties: false,
  properties: {
    tokens: {
      type: 'object',
      propertyNames: { minLength: 1, maxLength: MAX_TOKEN_CHARS, pattern: B64TOKEN_PATTERN },
      // if/then/else rather than oneOf: one error per mistake, not one per branch.
      additionalProperties: {
        if: { type: 'string' },
        then: { enum: ['*', 'firehose'] },
        else: { type: 'array', items: { type: 'string', pattern: envelopeSchema.properties.appId.pattern } },
      },
    },
  },
} as const;

const validate = new Ajv({ allErrors: true }).compile<{ tokens: Record<string, AppGrant> }>(schema);

/** The file's text → its grants, in the file's order, or why the file as a whole cannot be used. */
export function parseTokensFile(text: string): TokensFileRead {
  if (text.length > MAX_TOKENS_FILE_CHARS) return { ok: false, reason: `larger than ${MAX_TOKENS_FILE_CHARS} characters` };
  // Empty is what a file looks like halfway through being rewritten in place: not "no tokens".
  if (text.trim() === '') return { ok: false, reason: `empty (${SHAPE}; {"tokens": {}} for none)` };
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (err) {
    // V8 quotes the text around the error, which may be a token: only the position is kept.
    const position = /position (\d+)/.exec((err as Error).message)?.[1];
    return { ok: false, reason: `not valid JSON${position === undefined ? '' : ` (at character ${position})`}` };
  }
  if (!validate(doc)) {
    const keys = isObject(doc) && isObject(doc.tokens) ? Object.keys(doc.tokens) : [];
    const problems = new Set((validate.errors ?? []).map(e => describe(e, keys)).filter(p => p !== undefined));
    return { ok: false, reason: [...problems].join('; ') };
  }
  return { ok: true, grants: Object.entries(doc.tokens).map(([token, apps]) => ({ token, apps })) };
}

export function formatTokensFile(grants: readonly TokenGrant[]): string {
  return `${JSON.stringify({ tokens: Object.fromEntries(grants.map(g => [g.token, g.apps])) }, null, 2)}\n`;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** One ajv error in words; paths and params hold tokens, so neither is ever quoted. */
function describe(e: ErrorObject, keys: readonly string[]): string | undefined {
  if (e.keyword === 'if') return undefined; // restates the then/else error beside it
  const [, top, key, item] = e.instancePath.split('/').map(unescapePointer);
  if (top === undefined) return e.keyword === 'type' ? `the file must hold a JSON object (${SHAPE})` : SHAPE;
  // A bad key is reported twice by ajv: the failed rule (propertyName set), then "propertyNames".
  const badKey = e.propertyName ?? (e.keyword === 'propertyNames' ? (e.params as { propertyName: string }).propertyName : undefined);
  if (badKey !== undefined) return `${nth(keys.indexOf(badKey))} token is not a well-formed token (${TOKEN_RULE})`;
  if (key === undefined) return `"tokens" must be an object (${SHAPE})`;
  const which = nth(keys.indexOf(key));
  if (item === undefined) return `${which} token must map to "*", "firehose" or a list of app ids`;
  return `${which} token: app ${Number(item) + 1} of its list is not a valid app id (${APP_ID_RULE})`;
}

function unescapePointer(segment: string): string {
  return segment.replace(/~1/g, '/').replace(/~0/g, '~');
}

function nth(index: number): string {
  if (index < 0) return 'a';
  const n = index + 1;
  const suffix = n % 100 >= 11 && n % 100 <= 13 ? 'th' : (['th', 'st', 'nd', 'rd'][n % 10] ?? 'th');
  return `the ${n}${suffix}`;
}
