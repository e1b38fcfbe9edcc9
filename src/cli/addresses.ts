import { AddressInfo } from 'node:net';

/** HOST:PORT, with brackets around an IPv6 host. */
export function hostPort(a: Pick<AddressInfo, 'address' | 'family' | 'port'>): string {
  return a.family === 'IPv6' || a.address.includes(':') ? `[${a.address}]:${a.port}` : `${a.address}:${a.port}`;
}

/** An address to connect to for a bind address: a wildcard means "this machine". */
export function connectHost(host: string): string {
  if (host === '0.0.0.0') return '127.0.0.1';
  if (host === '::') return '::1';
  return host;
}
