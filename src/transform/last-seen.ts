// When each client address was last seen in a source (docs/decisions.md §6, downtime_for). One entry
// per distinct address, so memory grows with a file's addresses, never with its lines; and kept
// small: an IPv4 address is an integer key and the times sit in one typed array, about 50 bytes
// an address where a Map from address text to a boxed time took 140.
import { ipv4Number } from './ipv4.js';

export class LastSeen {
  /** IPv4 address (as a signed 32-bit integer, a small integer to V8) → slot in `times`. */
  private byIPv4 = new Map<number, number>();
  /** Any other address text (IPv6, a list, '', …) → slot in `times`. */
  private byText = new Map<string, number>();
  /** Times in µs since the epoch, by slot. */
  private times = new Float64Array(1024);
  private used = 0;

  /** Record `micros` as the address's latest time; returns its time before, if it had one. */
  swap(ip: string, micros: number): number | undefined {
    const address = ipv4Number(ip);
    const slot = address >= 0 ? this.byIPv4.get(address | 0) : this.byText.get(ip);
    if (slot === undefined) {
      const added = this.add(micros);
      if (address >= 0) this.byIPv4.set(address | 0, added);
      else this.byText.set(ip, added);
      return undefined;
    }
    const previous = this.times[slot];
    this.times[slot] = micros;
    return previous;
  }

  /** Addresses seen so far. */
  get size(): number {
    return this.used;
  }

  private add(micros: number): number {
    if (this.used === this.times.length) {
      const grown = new Float64Array(this.times.length * 2);
      grown.set(this.times);
      this.times = grown;
    }
    this.times[this.used] = micros;
    return this.used++;
  }
}
