import type { ReadinessCheck } from '@shop/service-kit';
import type { GatewayConfig } from './config.js';

export interface Upstream {
  name: 'users' | 'inventory' | 'payments' | 'orders';
  url: string;
}

export function upstreamsFrom(config: GatewayConfig): Upstream[] {
  return [
    { name: 'users', url: config.USERS_URL },
    { name: 'inventory', url: config.INVENTORY_URL },
    { name: 'payments', url: config.PAYMENTS_URL },
    { name: 'orders', url: config.ORDERS_URL },
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
