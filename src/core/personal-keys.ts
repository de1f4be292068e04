// The keys whose values are personal (docs/decisions.md §15), kept in one place: the transform scrubs the
// text it keeps in public columns by them (transform/personal.ts), and a payload kept for the public
// database (the modern events' side table) must leave their values out the same way.

/**
 * Keys whose values identify a person or are a secret: the Account columns, usernames and e-mails
 * under the names the LMS, its instructor dashboard, its forms and its loggers give them, IPs, the
 * user's ids, passwords. Lowercase; compare with isPersonalKey.
 */
export const PERSONAL_KEYS: readonly string[] = [
  // who: usernames and ids
  'username', 'user', 'user_name', 'screen_name', 'student', 'unique_student_identifier', 'identifiers',
  'instructor_id', 'user_id', 'anonymous_user_id',
  // names and contact
  'name', 'full_name', 'fullname', 'first_name', 'last_name',
  'email', 'emails', 'email_address', 'new_email', 'old_email', 'user_email',
  'mailing_address', 'address', 'zipcode', 'zip', 'postal_code', 'country', 'phone', 'phone_number',
  // profile
  'year_of_birth', 'gender', 'level_of_education', 'goals',
  // secrets
  'password', 'password1', 'password2', 'new_password', 'new_password1', 'new_password2', 'old_password',
  'confirm_password', 'activation_key',
  // where from
  'ip', 'remote_ip', 'remote_addr', 'ip_address', 'client_ip', 'x_forwarded_for',
];

/**
 * Keys personal in one event type only: `edx.user.settings.changed` names the setting in `setting`
 * and carries its values (an e-mail, a name, a year of birth…) in `old` and `new`.
 */
export const PERSONAL_KEYS_OF_TYPE: Readonly<Record<string, readonly string[]>> = {
  'edx.user.settings.changed': ['old', 'new'],
};

const KEYS = new Set(PERSONAL_KEYS);

/**
 * Whether a key's value is personal, in an event of `eventType` when known. A GELF additional field
 * (`_remote_ip`, `_username`) is its key with a leading underscore; case does not matter.
 */
export function isPersonalKey(key: string, eventType?: string): boolean {
  const k = key.toLowerCase().replace(/^_/, '');
  if (KEYS.has(k)) return true;
  return eventType !== undefined && (PERSONAL_KEYS_OF_TYPE[eventType]?.includes(k) ?? false);
}
