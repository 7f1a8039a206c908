import type { EntityManager } from 'typeorm';
import { containsPattern } from '../../domain/catalog-search.js';
import { Product } from '../entities/product.entity.js';
import { cursorPositionSql, toPage } from '../pagination.js';
import type { PageCursor } from '@shop/contracts';

export interface CatalogFilter {
  category?: string;
  q?: string;
  limit: number;
  after: PageCursor | null;
}

interface ProductRow {
  id: string;
  sku: string;
  name: string;
  description: string | null;
  category: string;
  price: string;
  image_url: string | null;
  created_at: Date;
  cursorAt: string;
}

export interface CatalogEntry {
  id: string;
  sku: string;
  name: string;
  description: string | null;
  category: string;
  price: number;
  imageUrl: string | null;
  createdAt: Date;
}

/** Products through the transaction (or plain manager) in progress. */
export function productsRepository(manager: EntityManager) {
  const repository = manager.getRepository(Product);
  return {
    findById: (id: string) => repository.findOneBy({ id }),

    /** For the internal lookup: only the fields orders needs, unknown ids simply absent. */
    async findMany(ids: readonly string[]): Promise<Product[]> {
      if (ids.length === 0) return [];
      return repository
        .createQueryBuilder('product')
        .where('product.id IN (:...ids)', { ids })
        .getMany();
    },

    /** Which of these products may be sold now; absent from the map = unknown. */
    async activeFlags(ids: readonly string[]): Promise<Map<string, boolean>> {
      const rows = (await manager.query(
        'SELECT id, is_active FROM products WHERE id = ANY($1::uuid[])',
        [ids],
      )) as Array<{ id: string; is_active: boolean }>;
      return new Map(rows.map((row) => [row.id, row.is_active]));
    },

    insert: (values: Omit<Product, 'id' | 'createdAt' | 'updatedAt'>) =>
      repository.save(repository.create(values)),

    save: (product: Product) => repository.save(product),

    /** A newest-first page of the public catalog: active products, by category and text. */
    async activePage(filter: CatalogFilter) {
      const conditions = ['p.is_active'];
      const parameters: unknown[] = [];
      if (filter.category !== undefined) {
        parameters.push(filter.category);
        conditions.push(`p.category = $${parameters.length}`);
      }
      if (filter.q !== undefined) {
        parameters.push(containsPattern(filter.q));
        conditions.push(
          `(p.name ILIKE $${parameters.length} OR p.sku ILIKE $${parameters.length})`,
        );
      }
      if (filter.after) {
        parameters.push(filter.after.createdAt, filter.after.id);
        conditions.push(
          `(p.created_at, p.id) < ($${parameters.length - 1}::timestamptz, $${parameters.length}::uuid)`,
        );
      }
      parameters.push(filter.limit + 1);
      const rows = (await manager.query(
        `SELECT p.id, p.sku, p.name, p.description, p.category, p.price, p.image_url, p.created_at,
                ${cursorPositionSql('p')} AS "cursorAt"
           FROM products p
          WHERE ${conditions.join(' AND ')}
          ORDER BY p.created_at DESC, p.id DESC
          LIMIT $${parameters.length}`,
        parameters,
      )) as ProductRow[];
      const page = toPage(rows, filter.limit);
      return {
        entries: page.rows.map((row): CatalogEntry => ({
          id: row.id,
          sku: row.sku,
          name: row.name,
          description: row.description,
          category: row.category,
          price: Number(row.price),
          imageUrl: row.image_url,
          createdAt: row.created_at,
        })),
        nextCursor: page.nextCursor,
      };
    },
  };
}
