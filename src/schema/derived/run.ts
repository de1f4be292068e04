// Edx.FullLoadDates: one row per weekly run (operations.md §10.0), its start, and its end once
// every step succeeded (a row without an end is a run that failed or is still going).
import { columns, type DerivedTable } from '../derived.js';

export const FullLoadDates: DerivedTable = {
  name: 'FullLoadDates',
  database: 'Edx',
  // change: InnoDB (was MyISAM), times in UTC
  columns: columns('load_start DATETIME NULL, load_end DATETIME NULL'),
  indexes: [['FullLoadDatesStartIdx', 'load_start']],
};
