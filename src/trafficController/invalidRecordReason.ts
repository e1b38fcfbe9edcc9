// The reason label of loggregator_tc_invalid_router_records_total. parseRouterRecord
// (src/cluster/routerRecord.ts) says what is wrong in a sentence for the log, with limits and
// hints; a metric label needs a short, fixed set, or every new wording would be a new series.

export const INVALID_RECORD_REASONS = ['bad_id', 'too_large', 'invalid_utf8', 'not_json', 'not_object', 'missing_address', 'bad_address', 'other'] as const;

export type InvalidRecordReason = (typeof INVALID_RECORD_REASONS)[number];

/**
 * parseRouterRecord's reason → its label. A wording this does not know is `other` (still
 * counted); spec/src/trafficController/invalidRecordReason.spec.ts keeps the two in step.
 */
export function invalidRecordReason(reason: string): InvalidRecordReason {
  if (reason.startsWith('key:')) return 'bad_id';
  if (reason.startsWith('value: longer than')) return 'too_large';
  if (reason.startsWith('value: not valid UTF-8')) return 'invalid_utf8';
  if (reason.startsWith('not JSON')) return 'not_json';
  if (reason.startsWith('not a JSON object')) return 'not_object';
  if (/^(udp|http): missing$/.test(reason)) return 'missing_address';
  if (/^(udp|http): must be HOST:PORT/.test(reason)) return 'bad_address';
  return 'other';
}
