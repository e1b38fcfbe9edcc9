// The reason label of loggregator_tc_invalid_router_records_total, for every kind of invalid
// router record parseRouterRecord knows: kept in step with its wording, so a reworded reason
// shows here instead of turning into `other` on a dashboard.
import { parseRouterRecord } from '../../../src/cluster/routerRecord';
import { InvalidRecordReason, invalidRecordReason } from '../../../src/trafficController/invalidRecordReason';

const GOOD = '{"udp": "10.0.0.1:3456", "http": "10.0.0.1:8082"}';

const cases: [string, string, string, InvalidRecordReason][] = [
  ['a bad id', 'bad id!', GOOD, 'bad_id'],
  ['a value over 4 KiB', 'r1', JSON.stringify({ udp: '10.0.0.1:3456', http: '10.0.0.1:8082', pad: 'x'.repeat(5000) }), 'too_large'],
  ['bytes that were not UTF-8', 'r1', '{"udp": "10.0.0.1:3456", "http": "\uFFFD:8082"}', 'invalid_utf8'],
  ['not JSON', 'r1', '{udp: 10.0.0.1:3456', 'not_json'],
  ['JSON but not an object', 'r1', '["10.0.0.1:3456"]', 'not_object'],
  ['no http address', 'r1', '{"udp": "10.0.0.1:3456"}', 'missing_address'],
  ['no udp address', 'r1', '{"http": "10.0.0.1:8082"}', 'missing_address'],
  ['a port out of range', 'r1', '{"udp": "10.0.0.1:3456", "http": "10.0.0.1:99999"}', 'bad_address'],
  ['an address that is not HOST:PORT', 'r1', '{"udp": "10.0.0.1", "http": "10.0.0.1:8082"}', 'bad_address'],
  ['an address that is not a string', 'r1', '{"udp": 3456, "http": "10.0.0.1:8082"}', 'bad_address'],
];

describe('invalidRecordReason', () => {
  it.each(cases.map(([what, key, value, label]) => ({ what, key, value, label })))('labels $what "$label"', ({ key, value, label }) => {
    const parsed = parseRouterRecord(key, value);
    expect('invalid' in parsed).toBe(true);
    expect(invalidRecordReason((parsed as { invalid: string }).invalid)).toBe(label);
  });

  it('labels a reason it does not know `other`', () => {
    expect(invalidRecordReason('something new')).toBe('other');
  });
});
