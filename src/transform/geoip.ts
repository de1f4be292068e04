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
    this.reader = new Reader<CountryRecord>(readFileSync(file));
  }

  country(ip: string): string {
    if (ip === '') return 'zzz';
    let code = this.cache.get(ip);
    if (code !== undefined) return code;
    code = this.lookup(ip);
    if (this.cache.size > 200_000) this.cache.clear();
    this.cache.set(ip, code);
    return code;
  }

  private lookup(raw: string): string {
    // X-Forwarded-For style lists: the first address is the client.
    const ip = raw.split(',')[0].trim().replace(/^\[|\]$/g, '');
    let rec: CountryRecord | null = null;
    try {
      const addr = ipaddr.process(ip); // also unwraps ::ffff:a.b.c.d
      // Private, loopback, documentation, multicast … ranges belong to no country, whatever a
      // database says about them.
      if (addr.range() !== 'unicast') return 'ZZZ';
      rec = this.reader.get(addr.toString());
    } catch {
      return 'ZZZ'; // not an address at all ('unknown', a host name, …)
    }
    const alpha2 = rec?.country_code ?? rec?.country?.iso_code ?? rec?.registered_country?.iso_code;
    if (!alpha2) return 'ZZZ';
    return countries.alpha2ToAlpha3(alpha2.toUpperCase()) ?? 'ZZZ';
  }
}
