import { hash32 } from './rendezvousHash';

/**
 * The worker (0 … shards − 1) of a multi-worker router that owns an app: all of the app's lines,
 * its recent buffer, its tail clients and its drains live there, so they stay in order and in
 * one place. A plain hash, not the routers' rendezvous weights: the worker count is fixed for a
 * router's life, and a hash independent of the router's own choice spreads a router's apps evenly.
 */
export function shardOf(appId: string, shards: number): number {
  return shards <= 1 ? 0 : hash32(appId) % shards;
}
