import type { ValueTransformer } from 'typeorm';

/**
 * pg returns bigint as a string (it may exceed 2^53). Our bigints are money capped by a CHECK at
 * 99,999,999 cents and row versions, both far below 2^53, so numbers are exact.
 */
export const bigintAsNumber: ValueTransformer = {
  to: (value: number | null | undefined) => value,
  from: (value: string | null) => (value === null ? null : Number(value)),
};
