import { baseColumnsSql } from '@shop/service-kit';
import type { MigrationInterface, QueryRunner } from 'typeorm';

// Why: the inventory issue (catalog, stock that never oversells, ledger, reservations,
// shipments). Additive: new tables only. Every rule the design states is a constraint here, so
// a bug in the code is refused by the database instead of selling stock that is not there.
export class CreateCatalogAndStock1767400000000 implements MigrationInterface {
  name = 'CreateCatalogAndStock1767400000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      CREATE TABLE products (
        ${baseColumnsSql},
        sku varchar(64) NOT NULL CONSTRAINT products_sku_format CHECK (sku ~ '^[A-Za-z0-9][A-Za-z0-9._-]*$'),
        name varchar(200) NOT NULL CONSTRAINT products_name_not_blank CHECK (btrim(name) <> ''),
        description text NULL,
        category varchar(100) NOT NULL CONSTRAINT products_category_not_blank CHECK (btrim(category) <> ''),
        price bigint NOT NULL CONSTRAINT products_price_range CHECK (price BETWEEN 0 AND 99999999),
        cost bigint NULL CONSTRAINT products_cost_range CHECK (cost BETWEEN 0 AND 99999999),
        image_url text NULL,
        is_active boolean NOT NULL DEFAULT true
      )`);
    // SKUs are unique whatever their case: "ab-1" and "AB-1" are one shelf.
    await queryRunner.query('CREATE UNIQUE INDEX products_sku_key ON products (lower(sku))');
    await queryRunner.query('CREATE INDEX products_category_idx ON products (category)');
    await queryRunner.query('CREATE INDEX products_is_active_idx ON products (is_active)');
    // The public catalog pages newest first over active products only.
    await queryRunner.query(
      'CREATE INDEX products_active_created_at_idx ON products (created_at DESC, id DESC) WHERE is_active',
    );

    await queryRunner.query(`
      CREATE TABLE inventory (
        ${baseColumnsSql},
        product_id uuid NOT NULL CONSTRAINT inventory_product_id_key UNIQUE
          REFERENCES products (id) ON DELETE RESTRICT,
        quantity_on_hand integer NOT NULL CONSTRAINT inventory_on_hand_not_negative CHECK (quantity_on_hand >= 0),
        quantity_reserved integer NOT NULL DEFAULT 0
          CONSTRAINT inventory_reserved_not_negative CHECK (quantity_reserved >= 0),
        quantity_available integer GENERATED ALWAYS AS (quantity_on_hand - quantity_reserved) STORED,
        reorder_point integer NOT NULL CONSTRAINT inventory_reorder_point_positive CHECK (reorder_point > 0),
        warehouse_location varchar(50) NULL,
        last_counted_at timestamptz NULL,
        -- Bumped by every change of the row: the availability cache keeps only the newest.
        version bigint NOT NULL DEFAULT 1 CONSTRAINT inventory_version_positive CHECK (version > 0),
        CONSTRAINT inventory_reserved_within_on_hand CHECK (quantity_reserved <= quantity_on_hand)
      )`);
    await queryRunner.query(
      'CREATE INDEX inventory_quantity_available_idx ON inventory (quantity_available)',
    );
    // The low-stock report reads only the rows below their reorder point.
    await queryRunner.query(
      `CREATE INDEX inventory_low_stock_idx ON inventory (created_at DESC, id DESC)
         WHERE quantity_available < reorder_point`,
    );

    await queryRunner.query(`
      CREATE TABLE inventory_transactions (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        product_id uuid NOT NULL REFERENCES products (id) ON DELETE RESTRICT,
        order_id uuid NULL,
        type text NOT NULL CONSTRAINT inventory_transactions_type_check
          CHECK (type IN ('purchase', 'sale', 'adjustment', 'count_variance', 'return')),
        quantity_change integer NOT NULL CONSTRAINT inventory_transactions_change_not_zero CHECK (quantity_change <> 0),
        notes text NULL,
        created_by uuid NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT inventory_transactions_sale_is_outgoing CHECK (type <> 'sale' OR (quantity_change < 0 AND order_id IS NOT NULL)),
        CONSTRAINT inventory_transactions_inflow_is_positive CHECK (type NOT IN ('purchase', 'return') OR quantity_change > 0)
      )`);
    await queryRunner.query(
      'CREATE INDEX inventory_transactions_product_created_idx ON inventory_transactions (product_id, created_at DESC, id DESC)',
    );
    await queryRunner.query(
      'CREATE INDEX inventory_transactions_order_id_idx ON inventory_transactions (order_id)',
    );
    await queryRunner.query(
      'CREATE INDEX inventory_transactions_type_idx ON inventory_transactions (type)',
    );
    await queryRunner.query(
      'CREATE INDEX inventory_transactions_created_at_idx ON inventory_transactions (created_at)',
    );
    // An order's goods leave the shelf once: a second sale row for it is refused.
    await queryRunner.query(
      `CREATE UNIQUE INDEX inventory_transactions_one_sale_per_line
         ON inventory_transactions (order_id, product_id) WHERE type = 'sale'`,
    );

    await queryRunner.query(`
      CREATE TABLE reservations (
        ${baseColumnsSql},
        order_id uuid NOT NULL,
        product_id uuid NOT NULL REFERENCES products (id) ON DELETE RESTRICT,
        quantity integer NOT NULL CONSTRAINT reservations_quantity_positive CHECK (quantity > 0),
        status text NOT NULL DEFAULT 'reserved'
          CONSTRAINT reservations_status_check CHECK (status IN ('reserved', 'released', 'committed')),
        expires_at timestamptz NOT NULL,
        released_at timestamptz NULL,
        release_reason text NULL,
        committed_at timestamptz NULL,
        CONSTRAINT reservations_order_product_key UNIQUE (order_id, product_id),
        CONSTRAINT reservations_released_has_time CHECK ((status = 'released') = (released_at IS NOT NULL)),
        CONSTRAINT reservations_committed_has_time CHECK ((status = 'committed') = (committed_at IS NOT NULL))
      )`);
    await queryRunner.query(
      'CREATE INDEX reservations_product_id_idx ON reservations (product_id)',
    );
    // The sweeper's scan: only live reservations, by deadline.
    await queryRunner.query(
      `CREATE INDEX reservations_expiring_idx ON reservations (expires_at) WHERE status = 'reserved'`,
    );

    await queryRunner.query(`
      CREATE TABLE shipments (
        ${baseColumnsSql},
        order_id uuid NOT NULL CONSTRAINT shipments_order_id_key UNIQUE,
        order_number varchar(50) NOT NULL,
        customer_id uuid NOT NULL,
        carrier text NOT NULL CONSTRAINT shipments_carrier_check CHECK (carrier IN ('usps', 'fedex', 'ups')),
        tracking_number varchar(100) NOT NULL CONSTRAINT shipments_tracking_number_key UNIQUE,
        label_url text NOT NULL,
        estimated_delivery timestamptz NULL,
        shipping_address jsonb NOT NULL,
        shipped_at timestamptz NOT NULL DEFAULT now(),
        delivered_at timestamptz NULL,
        CONSTRAINT shipments_delivered_after_shipped CHECK (delivered_at IS NULL OR delivered_at >= shipped_at)
      )`);
    await queryRunner.query(
      'CREATE INDEX shipments_customer_id_idx ON shipments (customer_id, created_at)',
    );

    // What inventory answered to each saga step of an order, so a resend, a redelivery or a
    // command arriving out of order gets the same answer and changes nothing.
    await queryRunner.query(`
      CREATE TABLE command_outcomes (
        order_id uuid NOT NULL,
        step text NOT NULL CONSTRAINT command_outcomes_step_check CHECK (step IN ('reserve', 'release', 'ship', 'expire')),
        reply_type text NOT NULL,
        reply_data jsonb NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (order_id, step)
      )`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    for (const table of [
      'command_outcomes',
      'shipments',
      'reservations',
      'inventory_transactions',
      'inventory',
      'products',
    ]) {
      await queryRunner.query(`DROP TABLE ${table}`);
    }
  }
}
