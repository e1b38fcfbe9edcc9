/**
 * An HTTP Retry-After header (delay-seconds or an HTTP date) in ms; 0 when absent or unreadable.
 * Callers cap it: a misconfigured or hostile value must not park a client for hours.
 */
export function retryAfterMs(value: string | string[] | null | undefined, nowMs = Date.now()): number {
  const text = Array.isArray(value) ? value[0] : value;
  if (text === undefined || text === null || text.trim() === '') return 0;
  const seconds = Number(text);
  if (Number.isFinite(seconds)) return Math.max(0, seconds * 1000);
  const at = Date.parse(text);
  return Number.isFinite(at) ? Math.max(0, at - nowMs) : 0;
}
