/**
 * A case-insensitive "contains" pattern for ILIKE, with the user's `%`, `_` and `\` taken
 * literally: searching "50%" must not match everything that has a 50 in it.
 */
export function containsPattern(text: string): string {
  return `%${text.replace(/[\\%_]/g, (character) => `\\${character}`)}%`;
}
