import type { HttpApp } from '@shop/service-kit';
import { productsRepository } from '../db/repositories/products.js';
import type { RouteDependencies } from './context.js';
import { LookupBody, LookupResult, problems } from './schemas.js';

/** For other services only (orders' read-model misses): prices and active flags by id. */
export function registerInternalRoutes(app: HttpApp, deps: RouteDependencies): void {
  app.post(
    '/internal/v1/products/lookup',
    {
      config: { auth: 'internal' },
      schema: {
        tags: ['internal'],
        summary: 'Prices and active flags of products; unknown ids are simply absent',
        body: LookupBody,
        response: { 200: LookupResult, ...problems(400, 401, 413, 415) },
      },
    },
    async (request) => {
      const products = await productsRepository(deps.dataSource.manager).findMany(request.body.ids);
      return {
        items: products.map((product) => ({
          id: product.id,
          sku: product.sku,
          name: product.name,
          price: product.price,
          isActive: product.isActive,
        })),
      };
    },
  );
}
