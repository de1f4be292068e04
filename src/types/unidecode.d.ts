declare module 'unidecode' {
  /** Transliterate Unicode text to ASCII (port of Python's unidecode tables). */
  export default function unidecode(text: string): string;
}
