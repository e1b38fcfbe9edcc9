import { Refusal } from './refusal';

/** Where a live stream (an app's tail, the firehose) stands, as the console shows it. */
export type TailStatus =
  | { readonly kind: 'connecting' }
  /** `again`: after a disconnection. */
  | { readonly kind: 'live'; readonly again: boolean }
  | { readonly kind: 'disconnected'; readonly reason: string; readonly retryInMs: number; readonly attempt: number }
  /** The token may not read it (or no longer): no more attempts. */
  | { readonly kind: 'refused'; readonly refusal: Refusal };
