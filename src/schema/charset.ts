// The warehouse's text: any character (utf8mb4), one collation for every database, table,
// connection and routine parameter, so that text from any of them compares without a collation
// error and sorts the same everywhere.

export const CHARSET = 'utf8mb4';
export const COLLATION = 'utf8mb4_unicode_ci';
