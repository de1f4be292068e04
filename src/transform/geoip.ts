// IP → country (decisions.md §6): an openly licensed MaxMind-format country database read with
// `maxmind`; ISO alpha-3 codes as the reference stored them; reserved/private/unknown → 'ZZZ';
// empty ip → 'zzz' (the reference's marker). IPv6 works. `--geoip FILE` takes any MaxMind-format
// country database (GeoLite2-Country, DB-IP, ip-location-db).
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { Reader, type CountryResponse } from 'maxmind';
import countries from 'i18n-iso-countries';
import ipaddr from 'ipaddr.js';

const require = createRequire(import.meta.url);

/** The bundled database: @ip-location-db/geo-whois-asn-country-mmdb (CC BY 4.0, NRO data). */
export const BUNDLED_GEOIP = () => require.resolve('@ip-location-db/geo-whois-asn-country-mmdb/geo-whois-asn-country.mmdb');

// Two record shapes occur: ip-location-db's {country_code} and MaxMind's {country: {iso_code}}.
type CountryRecord = CountryResponse & { country_code?: string };

export class CountryLookup {
  private reader: Reader<CountryRecord>;
  private cache = new Map<string, string>();

  constructor(file: string = BUNDLED_GEOIP()) {
    // Records decoded once per data offset: a country database holds a few hundred distinct
    // records, and decoding one cost as much as finding it.
    this.reader = new Reader<CountryRecord>(readFileSync(file), { cache: new Map() });
  }

  country(ip: string): string {
    if (ip === '') return 'zzz';
    let code = this.cache.get(ip);
    if (code !== undefined) return code;
    code = this.lookup(ip);
    if (this.cache.size > 20_000) this.cache.clear(); // real logs reuse few addresses; bound the rest
    this.cache.set(ip, code);
    return code;
  }

  private lookup(raw: string): string {
    // X-Forwarded-For style lists: the first address is the client.
    const ip = raw.includes(',') ? raw.split(',')[0].trim() : raw.trim();
    let rec: CountryRecord | null = null;
    try {
      let address = ip;
      const v4 = DOTTED_QUAD.exec(ip);
      if (v4) {
        // The common case, checked without building an address object.
        if (!isGlobalIPv4(Number(v4[1]), Number(v4[2]), Number(v4[3]))) return 'ZZZ';
      } else {
        const addr = ipaddr.process(ip.replace(/^\[|\]$/g, '')); // also unwraps ::ffff:a.b.c.d
        // Private, loopback, documentation, multicast … ranges belong to no country, whatever a
        // database says about them.
        if (addr.range() !== 'unicast') return 'ZZZ';
        address = addr.toString();
      }
      rec = this.reader.get(address);
    } catch {
      return 'ZZZ'; // not an address at all ('unknown', a host name, …)
    }
    const alpha2 = rec?.country_code ?? rec?.country?.iso_code ?? rec?.registered_country?.iso_code;
    if (!alpha2) return 'ZZZ';
    return countries.alpha2ToAlpha3(alpha2.toUpperCase()) ?? 'ZZZ';
  }
}

const DOTTED_QUAD = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)$/;

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
