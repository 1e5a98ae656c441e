/** A figure measured several times: the median and the range (min–max) of the runs. */
export interface Spread {
  readonly median: number;
  readonly min: number;
  readonly max: number;
}
