// Edx.FullLoadDates: one row per weekly run (docs/original.md#the-weekly-refresh), its start, and its end once
// every step succeeded (a row without an end is a run that failed or is still going).
import { defineTable } from '../table.js';

export const FullLoadDates = defineTable({
  name: 'FullLoadDates',
  database: 'Edx',
  // change: InnoDB (was MyISAM); times in UTC with microseconds, so that two runs started in the
  // same second stay two runs
  columns: [
    'load_start DATETIME(6) NULL',
    'load_end DATETIME(6) NULL',
  ],
  indexes: [['FullLoadDatesStartIdx', 'load_start']],
});
