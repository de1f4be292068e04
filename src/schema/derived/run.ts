// Edx.FullLoadDates: one row per weekly run (docs/original.md#the-weekly-refresh), its start, and its end once
// every step succeeded (a row without an end is a run that failed or is still going).
import { columns, type DerivedTable } from '../derived.js';

export const FullLoadDates: DerivedTable = {
  name: 'FullLoadDates',
  database: 'Edx',
  // change: InnoDB (was MyISAM); times in UTC with microseconds, so that two runs started in the
  // same second stay two runs
  columns: columns('load_start DATETIME(6) NULL, load_end DATETIME(6) NULL'),
  indexes: [['FullLoadDatesStartIdx', 'load_start']],
};
