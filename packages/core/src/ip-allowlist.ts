import ipaddr from 'ipaddr.js';

/** A parsed CIDR range (IPv4 or IPv6). */
export type Cidr = [ipaddr.IPv4 | ipaddr.IPv6, number];

/** Parses `10.0.0.0/8`, `2001:db8::/32` or a bare address (a /32 or /128). */
export function parseCidr(text: string): Cidr | undefined {
  try {
    if (text.includes('/')) {
      const [addr, bits] = ipaddr.parseCIDR(text);
      return [normalise(addr), addr.kind() === 'ipv6' && normalise(addr).kind() === 'ipv4' ? bits - 96 : bits];
    }
    const addr = normalise(ipaddr.parse(text));
    return [addr, addr.kind() === 'ipv4' ? 32 : 128];
  } catch {
    return undefined;
  }
}

/** IPv4-mapped IPv6 (`::ffff:1.2.3.4`, what dual-stack sockets report) becomes plain IPv4. */
function normalise(addr: ipaddr.IPv4 | ipaddr.IPv6): ipaddr.IPv4 | ipaddr.IPv6 {
  if (addr.kind() === 'ipv6' && (addr as ipaddr.IPv6).isIPv4MappedAddress()) {
    return (addr as ipaddr.IPv6).toIPv4Address();
  }
  return addr;
}

export function parseAddress(text: string): ipaddr.IPv4 | ipaddr.IPv6 | undefined {
  const trimmed = text.trim().replace(/^\[(.*)\]$/, '$1');
  if (!ipaddr.isValid(trimmed)) return undefined;
  return normalise(ipaddr.parse(trimmed));
}

export function inRanges(address: string | undefined, ranges: readonly Cidr[]): boolean {
  if (address === undefined) return false;
  const addr = parseAddress(address);
  if (addr === undefined) return false;
  return ranges.some(([net, bits]) => net.kind() === addr.kind() && addr.match([net, bits] as never));
}

/**
 * The client address: the TCP peer, unless the peer is a trusted proxy, in
 * which case `X-Forwarded-For` is walked from the right, skipping further
 * trusted proxies. Entries an untrusted peer wrote are never believed.
 */
export function clientAddress(
  peer: string | undefined,
  forwardedFor: string | undefined,
  trustedProxies: readonly Cidr[],
): string | undefined {
  if (peer === undefined || forwardedFor === undefined || !inRanges(peer, trustedProxies)) return peer;
  const hops = forwardedFor
    .split(',')
    .map((h) => h.trim())
    .filter((h) => h !== '');
  for (let i = hops.length - 1; i >= 0; i--) {
    const hop = hops[i] as string;
    if (parseAddress(hop) === undefined) return undefined; // a garbled chain proves nothing
    if (!inRanges(hop, trustedProxies)) return hop;
  }
  return hops[0] ?? peer;
}

/** Decides whether a request may pass; an empty allowlist allows everyone. */
export function isAllowed(
  peer: string | undefined,
  forwardedFor: string | undefined,
  allowlist: readonly Cidr[],
  trustedProxies: readonly Cidr[],
): boolean {
  if (allowlist.length === 0) return true;
  return inRanges(clientAddress(peer, forwardedFor, trustedProxies), allowlist);
}
