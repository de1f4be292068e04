// Academic quarters (docs/decisions.md §5): season + calendar year of the
// event; December counts as fall (Stanford's academic calendar, reference era).

const SEASON_OF_MONTH = [
  'winter', 'winter', 'spring', 'spring', 'spring', 'summer',
  'summer', 'summer', 'fall', 'fall', 'fall', 'fall',
] as const;

/** The season of a month (1-based): `fall` for September to December. */
export const seasonOf = (month: number): string => SEASON_OF_MONTH[month - 1];

/** The academic year a month belongs to: AY runs from fall AY to summer AY+1. */
export const academicYearOf = (year: number, month: number): number => (month >= 9 ? year : year - 1);

/** `2013-08-04…` (UTC) → `summer2013`; month is 1-based. */
export function quarterOf(year: number, month: number): string {
  return `${seasonOf(month)}${year}`;
}

/**
 * The partition that holds a quarter, named as the reference named them: academic year AY runs
 * from fall AY to summer AY+1, so `winter2014` lives in `pAY2013_Winter`. '' (no time) has its own.
 */
export function partitionName(quarter: string): string {
  const m = /^(fall|winter|spring|summer)(\d{4})$/.exec(quarter);
  if (!m) return 'pUnknownQuarter';
  const season = m[1];
  const year = Number(m[2]);
  const ay = season === 'fall' ? year : year - 1; // = academicYearOf for every month of the season
  return `pAY${ay}_${season[0].toUpperCase()}${season.slice(1)}`;
}

/** Quarters the table is created with: the reference's list (winter2013 … summer2018) and ''. */
export function initialQuarters(): string[] {
  const out = ['', 'winter2013', 'spring2013', 'summer2013'];
  for (let ay = 2013; ay <= 2017; ay++) out.push(`fall${ay}`, `winter${ay + 1}`, `spring${ay + 1}`, `summer${ay + 1}`);
  return out;
}
