import { MonoTypeOperatorFunction, Observable, Subject, tap } from 'rxjs';
import { LogLine } from './logLine';

/**
 * Live lines by app: one channel per app with subscribers, looked up once per line, so the cost
 * of a line does not grow with the number of tail clients on other apps (and a subscriber to
 * app A cannot see a line of app B: it is never offered one). Channels are hot: a subscriber
 * sees the lines published after it subscribed. An app's channel exists only while it has
 * subscribers. Every app's lines together (the firehose) are one more channel, hot alike.
 */
export class AppChannels {
  private readonly channels = new Map<string, Subject<LogLine>>();
  private readonly everyApp$ = new Subject<LogLine>();

  publish(line: LogLine): void {
    this.channels.get(line.appId)?.next(line);
    if (this.everyApp$.observed) this.everyApp$.next(line);
  }

  /** Every app's lines, as they are published after subscription. */
  everyApp(): Observable<LogLine> {
    return this.everyApp$.asObservable();
  }

  channel(appId: string): Observable<LogLine> {
    return new Observable<LogLine>(subscriber => {
      let subject = this.channels.get(appId);
      if (!subject) {
        subject = new Subject<LogLine>();
        this.channels.set(appId, subject);
      }
      const subscription = subject.subscribe(subscriber);
      return () => {
        subscription.unsubscribe();
        if (!subject.observed) this.channels.delete(appId);
      };
    });
  }

  /** Apps with at least one subscriber. */
  get size(): number {
    return this.channels.size;
  }
}

/** Publishes every line that passes to its app's channel, and passes it on. */
export function publishToChannels(channels: AppChannels): MonoTypeOperatorFunction<LogLine> {
  return tap(line => channels.publish(line));
}
