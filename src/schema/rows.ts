// What the transform hands to a writer: rows in schema order, grouped by source (input file).
import type { TableDef, Value } from './table.js';

export interface Row {
  table: TableDef;
  /** One value per column of `table`, in schema order; already fitted (see schema/fit.ts). */
  values: Value[];
}

/** One input of a run (a log file, or stdin). */
export interface Source {
  /** What the user named: a path, `-` for stdin, or an s3:// URL given with --source-name. */
  name: string;
  /** LoadInfo.load_file: `file://` + path as given, or the URL (docs/tables.md#loadinfo). */
  loadFile: string;
  /** LoadInfo.load_info_id = H(load_file). */
  loadInfoId: string;
}

/** Per-source counts a writer receives at the end of the source. */
export interface SourceCounts {
  rows: Record<string, number>;
}

/**
 * A destination for rows: the SQL script (sql/script.ts), a CSV collection (csv/), a row stream
 * for edx-csvload. write() may return a promise when the destination wants the producer to wait
 * (backpressure); the producer awaits it.
 */
export interface RowWriter {
  startSource(source: Source): Promise<void> | void;
  write(row: Row): Promise<void> | void;
  endSource(source: Source, counts: SourceCounts): Promise<void> | void;
  /**
   * The source failed part-way (unreadable, corrupt gzip): what was written of it must not count.
   * Returns what of it stays loaded all the same, if anything, to be said.
   */
  abortSource?(source: Source, error: Error): Promise<string | void> | string | void;
  /** After the last source; flushes and closes what the writer opened (not stdout). */
  close(): Promise<void> | void;
}
