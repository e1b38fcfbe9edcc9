// AppChannels: one hot channel per app, alive only while it has subscribers
//
//   lines$ (published)     -a-B-c-D-|      lower case: app-a, upper case: app-b
//   channel('app-a')       -a---c----
//   channel('app-b')       ---B---D--
//   channel('app-a') @4    -----c----      hot: a late subscriber sees only later lines
//
// A subscriber is never offered another app's line; the channels' `.size` falls back to 0 when
// the last subscriber of each app leaves.
import { map, take } from 'rxjs';
import { AppChannels, publishToChannels } from '../../streams/appChannels';
import { line, newTestScheduler } from './fixtures';

const v = {
  a: line(1, 'app-a'),
  B: line(2, 'app-b'),
  c: line(3, 'app-a'),
  D: line(4, 'app-b'),
  e: line(5, 'app-a'),
};

describe('AppChannels', () => {
  let testScheduler: ReturnType<typeof newTestScheduler>;
  let channels: AppChannels;
  beforeEach(() => {
    testScheduler = newTestScheduler();
    channels = new AppChannels();
  });

  it('passes every line on, whether or not its app has subscribers', () => {
    testScheduler.run(({ hot, expectObservable, expectSubscriptions }) => {
      const lines = hot('-a-B-c-D-|', v);
      expectObservable(lines.pipe(publishToChannels(channels))).toBe('-a-B-c-D-|', v);
      expectSubscriptions(lines.subscriptions).toBe('^--------!');
    });
    expect(channels.size).toBe(0);
  });

  it("gives each subscriber its own app's lines and never another app's", () => {
    testScheduler.run(({ hot, expectObservable }) => {
      const lines = hot('-a-B-c-D-|', v);
      expectObservable(channels.channel('app-a'), '^-------!').toBe('-a---c---', v);
      expectObservable(channels.channel('app-b'), '^-------!').toBe('---B---D-', v);
      expectObservable(channels.channel('app-c'), '^-------!').toBe('---------', v);
      expectObservable(lines.pipe(publishToChannels(channels))).toBe('-a-B-c-D-|', v);
    });
  });

  it("gives everyApp's subscribers every app's lines published while they are subscribed, in order", () => {
    testScheduler.run(({ hot, expectObservable }) => {
      const lines = hot('-a-B-c-D-e-|', v);
      expectObservable(channels.everyApp(), '^------!').toBe('-a-B-c-', v);
      expectObservable(channels.everyApp(), '--^-------!').toBe('---B-c-D-e', v);
      expectObservable(lines.pipe(publishToChannels(channels))).toBe('-a-B-c-D-e-|', v);
    });
    expect(channels.size).toBe(0); // the firehose is not an app's channel
  });

  it('is hot: a late subscriber sees only the lines published after it subscribed', () => {
    testScheduler.run(({ hot, expectObservable }) => {
      const lines = hot('-a-B-c-D-e-|', v);
      expectObservable(channels.channel('app-a'), '----^-----!').toBe('-----c---e-', v);
      expectObservable(lines.pipe(publishToChannels(channels))).toBe('-a-B-c-D-e-|', v);
    });
  });

  it('creates a channel on the first subscriber and removes it when the last one leaves', () => {
    testScheduler.run(({ cold, hot, expectObservable }) => {
      const lines = hot('--------e---|', v);
      // app-a: one subscriber from 2 to 7, another from 4 to 9; app-b: one from 3 to 6
      expectObservable(channels.channel('app-a'), '--^----!').toBe('-');
      expectObservable(channels.channel('app-a'), '----^----!').toBe('--------e-', v);
      expectObservable(channels.channel('app-b'), '---^--!').toBe('-');
      expectObservable(lines.pipe(publishToChannels(channels))).toBe('--------e---|', v);
      const size$ = cold('-x---x--x-x|').pipe(map(() => channels.size));
      expectObservable(size$).toBe('-0---2--1-0|', { 0: 0, 1: 1, 2: 2 });
    });
    expect(channels.size).toBe(0);
  });

  it('does not create a channel for a published line whose app has no subscriber', () => {
    testScheduler.run(({ hot, expectObservable }) => {
      const lines = hot('-a-B-|', v);
      const size$ = hot('--x-x-|').pipe(map(() => channels.size));
      expectObservable(lines.pipe(publishToChannels(channels))).toBe('-a-B-|', v);
      expectObservable(size$).toBe('--0-0-|', { 0: 0 });
    });
  });

  it('removes the channel when its only subscriber leaves from inside next()', () => {
    testScheduler.run(({ hot, expectObservable }) => {
      const lines = hot('-a-B-c-|', v);
      const size$ = hot('--x---x|').pipe(map(() => channels.size));
      expectObservable(channels.channel('app-a').pipe(take(1))).toBe('-(a|)', v);
      expectObservable(channels.channel('app-b'), '^-----!').toBe('---B---', v);
      expectObservable(lines.pipe(publishToChannels(channels))).toBe('-a-B-c-|', v);
      expectObservable(size$).toBe('--1---0|', { 0: 0, 1: 1 });
    });
  });

  it('gives a subscriber after a clean-up a working new channel', () => {
    testScheduler.run(({ hot, expectObservable }) => {
      const lines = hot('-a---c---e-|', v);
      expectObservable(channels.channel('app-a'), '^--!').toBe('-a--', v);
      expectObservable(channels.channel('app-a'), '----^-------').toBe('-----c---e-', v);
      expectObservable(lines.pipe(publishToChannels(channels))).toBe('-a---c---e-|', v);
    });
  });
});
