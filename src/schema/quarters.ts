// Academic quarters (docs/decisions.md §5): season + calendar year of the
// event; December counts as fall (Stanford's academic calendar, reference era). The one place of
// these rules: the quarter column, its partitions, the loader's neighbouring quarters, the files'
// quarter lists and the routines' SQL (schema/routines.ts) are all derived from here.

/** The seasons in calendar order, each with its months (1-based). */
export const SEASONS = [
  { season: 'winter', months: [1, 2] },
  { season: 'spring', months: [3, 4, 5] },
  { season: 'summer', months: [6, 7, 8] },
  { season: 'fall', months: [9, 10, 11, 12] },
] as const;

export type Season = (typeof SEASONS)[number]['season'];

/** The months of a season (1-based). */
export function monthsOf(season: Season): readonly number[] {
  return SEASONS.find((s) => s.season === season)!.months;
}

/** The month an academic year starts with: academic year AY runs from fall AY to summer AY+1. */
export const FIRST_MONTH_OF_YEAR = monthsOf('fall')[0];

const SEASON_OF_MONTH: readonly Season[] = SEASONS.flatMap(({ season, months }) => months.map(() => season));

/** `fall2013`: a season and a calendar year. */
const QUARTER = new RegExp(`^(${SEASONS.map((s) => s.season).join('|')})(\\d{4})$`);

/** The season of a month (1-based): `fall` for September to December. */
export const seasonOf = (month: number): Season => SEASON_OF_MONTH[month - 1];

/** The academic year a month belongs to. */
export const academicYearOf = (year: number, month: number): number => (month >= FIRST_MONTH_OF_YEAR ? year : year - 1);

/** `2013-08-04…` (UTC) → `summer2013`; month is 1-based. */
export function quarterOf(year: number, month: number): string {
  return `${seasonOf(month)}${year}`;
}

/** A quarter value as it may appear in a manifest or stream: a quarter, or '' (no time). */
export const isQuarter = (q: unknown): q is string => typeof q === 'string' && (q === '' || QUARTER.test(q));

/**
 * The partition that holds a quarter, named as the reference named them, by academic year:
 * `winter2014` lives in `pAY2013_Winter`. '' (no time) has its own.
 */
export function partitionName(quarter: string): string {
  const m = QUARTER.exec(quarter);
  if (!m) return 'pUnknownQuarter';
  const season = m[1] as Season;
  const ay = academicYearOf(Number(m[2]), monthsOf(season)[0]);
  return `pAY${ay}_${season[0].toUpperCase()}${season.slice(1)}`;
}

/** A quarter and the quarters just before and after it (`fall2013` → winter2014 follows). */
export function withNeighbours(quarter: string): string[] {
  const m = QUARTER.exec(quarter);
  if (!m) return [quarter];
  const index = Number(m[2]) * SEASONS.length + SEASONS.findIndex((s) => s.season === m[1]);
  const at = (i: number) => `${SEASONS[i % SEASONS.length].season}${Math.floor(i / SEASONS.length)}`;
  return [at(index - 1), quarter, at(index + 1)];
}

/** Quarters the table is created with: the reference's list (winter2013 … summer2018) and ''. */
export function initialQuarters(): string[] {
  const out = ['', 'winter2013', 'spring2013', 'summer2013'];
  for (let ay = 2013; ay <= 2017; ay++) out.push(`fall${ay}`, `winter${ay + 1}`, `spring${ay + 1}`, `summer${ay + 1}`);
  return out;
}
