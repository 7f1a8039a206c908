/**
 * Connection URLs: the admin/migration URL (`DATABASE_URL`) names the database; the runtime
 * URL is the same server and database with the service's own role as the user.
 */

/** The database a postgres URL points at (its path, without the leading slash). */
export function databaseNameOf(url: string): string {
  const name = decodeURIComponent(new URL(url).pathname.replace(/^\//, ''));
  if (!name) throw new Error(`database URL ${redactUrl(url)} names no database`);
  return name;
}

/** The same URL pointing at another database (e.g. the `postgres` maintenance database). */
export function withDatabase(url: string, database: string): string {
  const parsed = new URL(url);
  parsed.pathname = `/${encodeURIComponent(database)}`;
  return parsed.toString();
}

/**
 * The URL a service uses at runtime: same host, port, database and query parameters as the
 * admin URL, but logged in as the service's role, so every query runs with only that role's
 * privileges.
 */
export function buildRuntimeUrl(adminUrl: string, role: string, password?: string): string {
  const parsed = new URL(adminUrl);
  parsed.username = encodeURIComponent(role);
  parsed.password = password ? encodeURIComponent(password) : '';
  return parsed.toString();
}

/** The URL without its password, for log lines and error messages. */
export function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '***';
    return parsed.toString();
  } catch {
    return '<unparseable url>';
  }
}
