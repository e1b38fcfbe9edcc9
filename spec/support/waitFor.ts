// Bounded waiting for real-socket specs: poll a condition until it holds or a deadline passes,
// instead of sleeping a fixed time and hoping the sockets were quick enough.

export interface WaitOptions {
  /**
   * Give up after this long (default 15 s: an upper limit only, a wait that holds returns at once;
   * kept under jest's testTimeout of 30 s, so a wait that fails says what it waited for rather
   * than being cut off); the error names `what` and the last value seen.
   */
  readonly timeoutMs?: number;
  readonly intervalMs?: number;
  readonly what?: string;
}

/** Resolves with the probe's first truthy value; rejects once `timeoutMs` has passed without one. */
export async function waitFor<T>(probe: () => T | Promise<T>, opts: WaitOptions = {}): Promise<T> {
  const { timeoutMs = 15_000, intervalMs = 10, what = 'condition' } = opts;
  const deadline = Date.now() + timeoutMs;
  let last: T | undefined;
  for (;;) {
    last = await probe();
    if (last) return last;
    if (Date.now() >= deadline) {
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what} (last value: ${describe(last)})`);
    }
    await new Promise(resolve => setTimeout(resolve, intervalMs));
  }
}

/** Resolves with the promise's value, or rejects if it has not settled within `timeoutMs`. */
export function within<T>(promise: Promise<T>, timeoutMs: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not happen within ${timeoutMs} ms`)), timeoutMs);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/** One turn of the event loop, so sockets (ours and the router's: same process) get to read. */
export function nextTurn(): Promise<void> {
  return new Promise(resolve => setImmediate(resolve));
}

function describe(value: unknown): string {
  try {
    const text = JSON.stringify(value);
    return text === undefined ? String(value) : text.slice(0, 200);
  } catch {
    return String(value);
  }
}
