// Counts in messages: "1 line", "2 lines", "0 lines". One place for the rule.

/** The word for n of them: noun(1, 'row') is 'row', noun(2, 'row') 'rows', noun(2, 'entry', 'entries') 'entries'. */
export const noun = (n: number, word: string, words = `${word}s`): string => (n === 1 ? word : words);

/** n and the word for n of them: plural(1, 'line') is '1 line', plural(3, 'line') '3 lines'. */
export const plural = (n: number, word: string, words?: string): string => `${n} ${noun(n, word, words)}`;
