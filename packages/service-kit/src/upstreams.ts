/**
 * The system's programs and the port each listens on by default. An upstream's URL defaults to
 * `http://127.0.0.1:<its port>`, read from the same `<NAME>_PORT` variable the upstream itself
 * listens on, so changing a port in one place changes both ends.
 */
export const DEFAULT_PORTS = {
  GATEWAY: 8080,
  USERS: 3001,
  ORDERS: 3002,
  INVENTORY: 3003,
  PAYMENTS: 3004,
  PAYMENT_PROVIDER: 3005,
} as const;

export type ProgramKey = keyof typeof DEFAULT_PORTS;

/** A copy of `env` with every unset `<NAME>_PORT` and `<NAME>_URL` filled in. */
export function withDefaultAddresses(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const filled: NodeJS.ProcessEnv = { ...env };
  for (const [name, port] of Object.entries(DEFAULT_PORTS)) {
    filled[`${name}_PORT`] ||= String(port);
    filled[`${name}_URL`] ||= `http://127.0.0.1:${filled[`${name}_PORT`]}`;
  }
  return filled;
}
