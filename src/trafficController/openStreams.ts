import { Subject, filter, firstValueFrom, map, of, startWith, timeout } from 'rxjs';

/** Which routers' streams of one app are open, and a way to wait until given ones are. */
export class OpenStreams {
  private readonly ids = new Set<string>();
  private readonly changed$ = new Subject<void>();

  add(id: string): void {
    this.ids.add(id);
    this.changed$.next();
  }

  delete(id: string): void {
    this.ids.delete(id);
  }

  waitFor(wanted: () => readonly string[], timeoutMs: number): Promise<void> {
    return firstValueFrom(
      this.changed$.pipe(
        startWith(undefined),
        filter(() => wanted().every(id => this.ids.has(id))),
        map(() => undefined),
        timeout({ first: timeoutMs, with: () => of(undefined) }),
      ),
    );
  }
}
