// Ports for a process that a spec stops and starts again on the same addresses (a router killed
// by PID and restarted): each is free on 127.0.0.1 for both TCP and UDP when picked, and lies
// outside the kernel's ephemeral port range, so that while its owner is down no outgoing
// connection or unbound UDP socket of another process (which the kernel gives ephemeral ports,
// the ones freeLoopbackPorts hands out) can be given it.
import { createSocket } from 'node:dgram';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { freeLoopbackPorts } from './peerProcess';

/** Lowest port picked: above the well-known and most registered service ports. */
const LOWEST = 10_000;

function ephemeralRange(): [number, number] {
  try {
    const [low, high] = readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/).map(Number);
    if (Number.isInteger(low) && Number.isInteger(high) && low > 0 && high >= low) return [low, high];
  } catch {
    // not Linux: assume the IANA range
  }
  return [49152, 65535];
}

function tcpFree(port: number): Promise<boolean> {
  return new Promise(resolve => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

function udpFree(port: number): Promise<boolean> {
  return new Promise(resolve => {
    const socket = createSocket('udp4');
    socket.once('error', () => {
      socket.close();
      resolve(false);
    });
    socket.bind(port, '127.0.0.1', () => socket.close(() => resolve(true)));
  });
}

/**
 * `n` distinct ports, each free for TCP and UDP on 127.0.0.1 a moment ago, outside the ephemeral
 * range when there is room for them (else, as freeLoopbackPorts, inside it).
 */
export async function fixedLoopbackPorts(n: number): Promise<number[]> {
  const [low, high] = ephemeralRange();
  const ranges: [number, number][] = [];
  if (low - 1 - LOWEST >= 1000) ranges.push([LOWEST, low - 1]);
  if (65535 - (high + 1) >= 1000) ranges.push([high + 1, 65535]);
  if (ranges.length === 0) return freeLoopbackPorts(n);
  const picked = new Set<number>();
  for (let attempt = 0; picked.size < n; attempt++) {
    if (attempt > 500) throw new Error(`found only ${picked.size} of ${n} free loopback ports outside ${low}-${high}`);
    const [from, to] = ranges[attempt % ranges.length];
    const port = from + Math.floor(Math.random() * (to - from + 1));
    if (picked.has(port)) continue;
    if ((await tcpFree(port)) && (await udpFree(port))) picked.add(port);
  }
  return [...picked];
}
