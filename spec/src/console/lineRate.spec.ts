// LineRate(5 s): lines per second by the lines' timestamps.
//
//   now 10.5 s; lines at 6.1 7.0 7.9 10.2 10.4 (and 12.0, in the future; 4.0, too old)
//   series  [s6 s7 s8 s9 s10] = [1 2 0 0 3]
import { LineRate } from '../../../src/console/lineRate';

describe('LineRate', () => {
  it("counts lines in the second of their timestamp over the window, the sender's future in the current second, the past beyond it not at all", () => {
    const rate = new LineRate(5);
    for (const at of [6100, 7000, 7900, 10200, 10400, 12000, 4000]) rate.count(at, 10_500);
    expect(rate.series(10_500)).toEqual([1, 2, 0, 0, 3]);
  });

  it('forgets seconds as they leave the window, and reuses their slots', () => {
    const rate = new LineRate(3);
    rate.count(1000, 1000);
    rate.count(1500, 1500);
    expect(rate.series(1500)).toEqual([0, 0, 2]);
    rate.count(4000, 4000); // the same slot as second 1, three seconds later
    expect(rate.series(4000)).toEqual([0, 0, 1]);
    expect(rate.series(10_000)).toEqual([0, 0, 0]);
  });
});
