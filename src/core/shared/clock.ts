/** Clock port: the core never calls `new Date()` (house rule 8), so tests control time. */
export interface Clock {
  now(): Date;
}
