/**
 * One router of the cluster, as discovery knows it: its id (stable across restarts; what app
 * ownership is hashed on) and where to reach it, as HOST:PORT. `http` is absent only in a static
 * list written for agents alone; the traffic controller needs it.
 */
export interface RouterInfo {
  readonly id: string;
  readonly udp: string;
  readonly http?: string;
}

/** Routers' identity for runKeyed: a router that re-registers elsewhere is a new one. */
export function routerKey(router: RouterInfo): string {
  return `${router.id}\u0000${router.udp}\u0000${router.http ?? ''}`;
}
