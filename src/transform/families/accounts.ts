// Account and group events (docs/original.md#accounts-and-groups). Account rows go straight to
// EdxPrivate.Account (docs/decisions.md §15).
import countries from 'i18n-iso-countries';
import { Account } from '../../schema/tables.js';
import type { TrackEvent } from '../event.js';
import { H, isObject, sanitize, text } from '../../core/values.js';
import { anonymousIdOf } from '../personal.js';

/** Country names a mailing address may end with: English names and aliases; US forms → USA. */
const COUNTRY_NAMES: Map<string, string> = (() => {
  const m = new Map<string, string>();
  for (const names of Object.values(countries.getNames('en', { select: 'all' }))) {
    for (const n of names) if (/^[A-Za-z][A-Za-z ]*$/.test(n)) m.set(n, n);
  }
  for (const us of ['US', 'USA', 'United States', 'United States of America']) m.set(us, 'USA');
  return m;
})();

/** First words of the country names, to skip words that start none (most words of an address). */
const FIRST_WORDS = new Set([...COUNTRY_NAMES.keys()].map((n) => n.split(' ')[0]));

/** The first country phrase (4, 3, 2 then 1 words) in an address (the reference's heuristic). */
export function countryIn(address: string): string {
  const words = address.split(/[^A-Za-z0-9_]+/).filter(Boolean);
  for (let i = 0; i < words.length; i++) {
    const head = words[i].charAt(0).toUpperCase() + words[i].slice(1);
    if (!FIRST_WORDS.has(head)) continue;
    for (let len = Math.min(4, words.length - i); len >= 1; len--) {
      const hit = COUNTRY_NAMES.get([head, ...words.slice(i + 1, i + len)].join(' '));
      if (hit) return hit;
    }
  }
  return '';
}

/** zip code and country from a free-text address: a 5-digit run after a non-digit means USA. */
export function zipAndCountry(address: string): { zipcode: string; country: string } {
  const zips = [...address.matchAll(/\D(\d{5})(?!\d)/g)];
  const zip = zips.length ? zips[zips.length - 1][1] : '';
  const country = countryIn(address) || (zip ? 'USA' : '');
  return { zipcode: country === 'USA' ? zip : '', country };
}

const first = (v: unknown): unknown => (Array.isArray(v) ? v[0] : v);

/** /create_account: an EdxPrivate.Account row from the POSTed form. */
export function createAccount(ev: TrackEvent): void {
  const event = ev.event;
  const post = isObject(event) && isObject(event.POST) ? event.POST : undefined;
  if (!post) return ev.warn('/create_account event has no POST');
  const address = text(first(post.mailing_address));
  const { zipcode, country } = zipAndCountry(address);
  const year = first(post.year_of_birth);
  ev.addAux(Account, (r) =>
    r.set('screen_name', sanitize(first(post.username)))
      .set('name', sanitize(first(post.name)))
      .set('anon_screen_name', H(text(first(post.username))))
      .set('mailing_address', sanitize(address))
      .set('zipcode', zipcode)
      .set('country', country)
      .set('gender', text(first(post.gender)))
      .set('year_of_birth', year === undefined ? -1 : /^\s*\d+\s*$/.test(text(year)) ? Number(year) : 0)
      .set('level_of_education', text(first(post.level_of_education)))
      .set('goals', sanitize(first(post.goals)))
      .set('honor_code', first(post.honor_code) === 'true' ? 1 : 0)
      .set('terms_of_service', first(post.terms_of_service) === 'true' ? 1 : 0)
      .set('course_id', text(first(post.course_id)))
      // change: the reference read the key 'enrollment' and always stored ''.
      .set('enrollment_action', text(first(post.enrollment_action)))
      .set('email', text(first(post.email)))
      .set('receive_emails', text(first(post.receive_emails))),
  );
}

/** add-or-remove-user-group: the user added or removed as their anonymous id (docs/decisions.md §15). */
export function userGroup(ev: TrackEvent): void {
  const e = ev.event;
  if (!isObject(e)) return ev.warn(`${ev.type} event is not an object`);
  ev.main.set('event_name', text(e.event_name)).set('group_user', anonymousIdOf(e.user)).set('group_action', text(e.event));
}
