/**
 * The bound on recent merges at once: each holds every router's answer in memory until it is
 * merged. A plain GET /recent takes a slot or is refused at once (503: its client retries); a
 * recent=true tail may wait for one, bounded in time, since its client is connected anyway and
 * would otherwise miss the lines it asked for (clients dropped together come back together).
 * A released slot passes straight to the longest waiter.
 */
export class RecentSlots {
  private used = 0;
  /** Waiters, oldest first; at most one per tail client being admitted. */
  private readonly waiting: ((granted: boolean) => void)[] = [];

  constructor(readonly size: number) {}

  get inUse(): number {
    return this.used;
  }

  tryTake(): boolean {
    if (this.used >= this.size) return false;
    this.used++;
    return true;
  }

  /** Resolves true with a slot (at once if one is free), false after `timeoutMs` or once `signal` aborts. */
  take(timeoutMs: number, signal: AbortSignal): Promise<boolean> {
    if (this.tryTake()) return Promise.resolve(true);
    if (signal.aborted) return Promise.resolve(false);
    return new Promise<boolean>(resolve => {
      const settle = (granted: boolean) => {
        clearTimeout(timer);
        signal.removeEventListener('abort', giveUp);
        resolve(granted);
      };
      const giveUp = () => {
        const at = this.waiting.indexOf(settle);
        if (at >= 0) this.waiting.splice(at, 1);
        settle(false);
      };
      const timer = setTimeout(giveUp, timeoutMs);
      signal.addEventListener('abort', giveUp, { once: true });
      this.waiting.push(settle);
    });
  }

  release(): void {
    const next = this.waiting.shift();
    if (next) next(true); // the slot passes on: still in use
    else this.used--;
  }
}
