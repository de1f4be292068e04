// Dotted-quad IPv4 text as a number: read once per event by the IP → country lookup and the
// per-address downtime table, without a regular expression's captures.

/**
 * The address a.b.c.d as the unsigned number a·2²⁴ + b·2¹⁶ + c·2⁸ + d, or -1 for anything that
 * is not exactly four decimal parts of at most 255 without leading zeros (spaces, lists, IPv6, …).
 */
export function ipv4Number(ip: string): number {
  let address = 0, parts = 0, value = 0, digits = 0;
  for (let i = 0; i <= ip.length; i++) {
    const c = i < ip.length ? ip.charCodeAt(i) : 0x2e; // the end closes the last part like a dot
    if (c >= 0x30 && c <= 0x39) {
      if (digits === 1 && value === 0) return -1; // a leading zero
      value = value * 10 + c - 0x30;
      if (++digits > 3 || value > 255) return -1;
    } else if (c === 0x2e && digits > 0) {
      if (++parts > 4) return -1;
      address = address * 256 + value;
      value = 0;
      digits = 0;
    } else return -1;
  }
  return parts === 4 ? address : -1;
}
