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

/** Whether a URL's host is this machine's loopback interface (where a local secret may go). */
export function isLoopbackUrl(url: URL): boolean {
  const host = url.hostname.replace(/^\[|\]$/g, '');
  return host === 'localhost' || host === '::1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host);
}
