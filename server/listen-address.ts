import { isIP } from 'node:net';

/** The WebSockets listen multiaddr for a host (IPv4, IPv6 or DNS name) and TCP port (0: any free port). */
export function wsListenAddress(host: string, port: number): string {
  const kind = isIP(host);
  const proto = kind === 4 ? 'ip4' : kind === 6 ? 'ip6' : 'dns';
  return `/${proto}/${host}/tcp/${port}/ws`;
}
