// The CSV of edx-screennames: RFC 4180 fields (quoted only when they must be, quotes doubled),
// LF line ends as Unix tools expect. Not the LOAD DATA dialect of src/csv/encode.ts: this file
// is for people and spreadsheets, and a name with a newline stays one quoted field.
export const HEADER = 'screen_name,anon_screen_name\n';

export function csvField(s: string): string {
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

export function csvLine(name: string, anon: string): string {
  return `${csvField(name)},${anon}\n`;
}
