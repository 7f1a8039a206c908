import type { ReadinessCheck } from '@shop/service-kit';
import type { GatewayConfig } from './config.js';

export interface Upstream {
  name: 'users' | 'inventory' | 'payments' | 'orders';
  url: string;
  /**
   * The public path prefixes it serves (API.md), proxied with path and query unchanged.
   * Nothing under /internal is ever listed: those routes are for services only.
   */
  prefixes: readonly string[];
}

export function upstreamsFrom(config: GatewayConfig): Upstream[] {
  return [
    { name: 'users', url: config.USERS_URL, prefixes: ['/v1/auth', '/v1/users'] },
    {
      name: 'inventory',
      url: config.INVENTORY_URL,
      prefixes: ['/v1/products', '/v1/inventory', '/v1/shipments'],
    },
    { name: 'payments', url: config.PAYMENTS_URL, prefixes: ['/v1/payments'] },
    { name: 'orders', url: config.ORDERS_URL, prefixes: ['/v1/orders'] },
  ];
}

/** The gateway is ready only when every service behind it says it is. */
export function upstreamReadiness(upstream: Upstream, timeoutMs: number): ReadinessCheck {
  return {
    name: upstream.name,
    critical: true,
    timeoutMs,
    check: async () => {
      const response = await fetch(`${upstream.url}/health/ready`, {
        signal: AbortSignal.timeout(timeoutMs),
      });
      if (!response.ok) throw new Error(`${upstream.name} answered ${response.status}`);
    },
  };
}
