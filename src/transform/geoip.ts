// IP → country (docs/decisions.md §13): an openly licensed MaxMind-format country database read with
// `maxmind`; ISO alpha-3 codes as the reference stored them; reserved/private/unknown → 'ZZZ';
// empty ip → 'zzz' (the reference's marker). IPv6 works. `--geoip FILE` takes any MaxMind-format
// country database (GeoLite2-Country, DB-IP, ip-location-db).
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { Reader, type CountryResponse } from 'maxmind';
import countries from 'i18n-iso-countries';
import ipaddr from 'ipaddr.js';
import { ipv4Number } from './ipv4.js';
import { ToolError } from '../core/errors.js';
import { readFailure } from '../io/input.js';

const require = createRequire(import.meta.url);

/** The bundled database: @ip-location-db/geo-whois-asn-country-mmdb (CC BY 4.0, NRO data). */
export const BUNDLED_GEOIP = () => require.resolve('@ip-location-db/geo-whois-asn-country-mmdb/geo-whois-asn-country.mmdb');

// Two record shapes occur: ip-location-db's {country_code} and MaxMind's {country: {iso_code}}.
type CountryRecord = CountryResponse & { country_code?: string };

export class CountryLookup {
  private reader: Reader<CountryRecord>;
  private cache = new Map<string, string>();
  /**
   * IPv4 by /16 block: 1 + the index in `codes` of the country of the whole block, 0 while
   * unknown. Filled from the network the database answers with (its prefix length), when that
   * network holds the block: most addresses are in networks of /16 or wider, so most lookups of
   * a day's mostly distinct addresses become one array read.
   */
  private byBlock16 = new Uint16Array(1 << 16);
  private codes: string[] = [];

  constructor(file: string = BUNDLED_GEOIP()) {
    let bytes: Buffer;
    try {
      bytes = readFileSync(file);
    } catch (e) {
      throw new ToolError(`cannot read the country database ${file}: ${readFailure(e)}`);
    }
    try {
      // Records decoded once per data offset: a country database holds a few hundred distinct
      // records, and decoding one cost as much as finding it.
      this.reader = new Reader<CountryRecord>(bytes, { cache: new Map() });
    } catch (e) {
      throw new ToolError(`${file} is not a MaxMind-format country database (${(e as Error).message})`);
    }
  }

  country(ip: string): string {
    if (ip === '') return 'zzz';
    // A plain IPv4 address (nearly all) is read once; in a block the table knows it needs no more.
    const address = ipv4Number(ip);
    if (address >= 0) {
      if (!isGlobalIPv4(address >>> 24, (address >>> 16) & 0xff, (address >>> 8) & 0xff)) return 'ZZZ';
      const known = this.byBlock16[address >>> 16];
      if (known !== 0) return this.codes[known - 1];
    }
    let code = this.cache.get(ip);
    if (code !== undefined) return code;
    code = address >= 0 ? this.lookupV4(ip, address >>> 16) : this.lookupText(ip);
    if (this.cache.size > 20_000) this.cache.clear(); // real logs reuse few addresses; bound the rest
    this.cache.set(ip, code);
    return code;
  }

  /** Anything but a plain dotted quad: a list, spaces, brackets, IPv6, or no address at all. */
  private lookupText(raw: string): string {
    // X-Forwarded-For style lists: the first address is the client; a port after it is no part
    // of the address (1.2.3.4:443, [2a02:8108::1]:443).
    const first = raw.includes(',') ? raw.split(',')[0].trim() : raw.trim();
    const ip = first.replace(/^(\d+\.\d+\.\d+\.\d+):\d+$/, '$1').replace(/^\[([^\]]+)\]:\d+$/, '$1');
    try {
      const address = ipv4Number(ip);
      if (address >= 0) {
        if (!isGlobalIPv4(address >>> 24, (address >>> 16) & 0xff, (address >>> 8) & 0xff)) return 'ZZZ';
        return this.lookupV4(ip, address >>> 16);
      }
      const addr = ipaddr.process(ip.replace(/^\[|\]$/g, '')); // also unwraps ::ffff:a.b.c.d
      // Private, loopback, documentation, multicast … ranges belong to no country, whatever a
      // database says about them.
      if (addr.range() !== 'unicast') return 'ZZZ';
      return codeOf(this.reader.get(addr.toString()));
    } catch {
      return 'ZZZ'; // not an address at all ('unknown', a host name, …)
    }
  }

  /** A global IPv4 address in /16 block `block` (its first two bytes), from the database. */
  private lookupV4(ip: string, block: number): string {
    const known = this.byBlock16[block];
    if (known !== 0) return this.codes[known - 1];
    const [rec, prefixLength] = this.reader.getWithPrefixLength(ip);
    const code = codeOf(rec);
    if (prefixLength <= 16) {
      // The network holds 2^(16 - prefixLength) blocks, this one among them.
      let index = this.codes.indexOf(code);
      if (index < 0) index = this.codes.push(code) - 1;
      const size = 1 << (16 - prefixLength);
      const first = block & ~(size - 1);
      this.byBlock16.fill(index + 1, first, first + size);
    }
    return code;
  }
}

/** Alpha-3 code of a database record, 'ZZZ' for none. */
function codeOf(rec: CountryRecord | null): string {
  const alpha2 = rec?.country_code ?? rec?.country?.iso_code ?? rec?.registered_country?.iso_code;
  if (!alpha2) return 'ZZZ';
  return countries.alpha2ToAlpha3(alpha2.toUpperCase()) ?? 'ZZZ';
}

/**
 * False for the special-purpose IPv4 blocks (RFC 6890: this network, private, shared, loopback,
 * link-local, IETF protocol assignments, documentation, benchmarking, multicast and reserved).
 */
function isGlobalIPv4(a: number, b: number, c: number): boolean {
  if ((a === 192 && b === 0 && (c === 0 || c === 2)) || (a === 198 && b === 51 && c === 100) || (a === 203 && b === 0 && c === 113)) return false;
  if (a === 0 || a === 10 || a === 127 || a >= 224) return false;
  if (a === 100 && b >= 64 && b <= 127) return false;
  if (a === 169 && b === 254) return false;
  if (a === 172 && b >= 16 && b <= 31) return false;
  if (a === 192 && b === 168) return false;
  if (a === 198 && (b === 18 || b === 19)) return false;
  return true;
}
