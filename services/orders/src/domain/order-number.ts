/** `ORD-<year>-<at least 6 digits>` from a database sequence value: readable, never reused. */
export function formatOrderNumber(year: number, sequenceValue: number | bigint | string): string {
  return `ORD-${year}-${String(sequenceValue).padStart(6, '0')}`;
}

export const ORDER_NUMBER_PATTERN = '^ORD-[0-9]{4}-[0-9]{6,}$';
