/** Distinct apps remembered for the app filter's choices; past it, new ones are not offered (the text filter finds them). */
export const MAX_APPS = 500;

/**
 * The apps seen so far in the firehose, for the app filter to offer, sorted. Bounded: a platform
 * with ever more apps cannot grow it without limit.
 */
export class AppCatalog {
  private readonly apps = new Set<string>();
  /** Whether an app was left out for the bound. */
  full = false;
  /** Grows by one each time an app is added, so a view can tell it changed. */
  version = 0;

  add(appId: string): void {
    if (this.apps.has(appId)) return;
    if (this.apps.size >= MAX_APPS) {
      this.full = true;
      return;
    }
    this.apps.add(appId);
    this.version++;
  }

  choices(): string[] {
    return [...this.apps].sort((a, b) => a.localeCompare(b, undefined, { numeric: true }));
  }
}
