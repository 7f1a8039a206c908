import type { MigrationInterface, QueryRunner } from 'typeorm';

const list = (values: readonly string[]) => values.map((value) => `'${value}'`).join(', ');

/**
 * Orders, their lines, the saga that drives each one and its timeline, idempotency keys, and
 * the read models fed by other services' events. Money is integer cents in `integer`: an order
 * total is capped at the payments limit (MAX_MONEY_CENTS, 99 999 999), well inside int4.
 * The rules the design names live here as constraints, so no code path can break them.
 */
export class CreateOrders1767312000000 implements MigrationInterface {
  name = 'CreateOrders1767312000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    const statements = [
      `CREATE TYPE order_status AS ENUM ('pending', 'confirmed', 'shipped', 'delivered', 'cancelled')`,
      `CREATE TYPE cancellation_reason AS ENUM ('insufficient_stock', 'product_unavailable',
         'payment_declined', 'payment_failed', 'customer_request', 'reservation_expired')`,
      `CREATE TYPE payment_summary_status AS ENUM ('pending', 'succeeded', 'failed', 'refunded')`,
      // Frozen as first released; later states are added by later migrations.
      `CREATE TYPE saga_state AS ENUM (${list([
        'reserving',
        'charging',
        'payment_backoff',
        'awaiting_payment_method',
        'shipping',
        'shipped',
        'delivered',
        'compensating',
        'cancelled',
        'needs_attention',
      ])})`,
      `CREATE SEQUENCE order_number_seq AS bigint START 1`,

      `CREATE TABLE orders (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        order_number varchar(50) NOT NULL
          CONSTRAINT orders_order_number_format CHECK (order_number ~ '^ORD-[0-9]{4}-[0-9]{6,}$'),
        customer_id uuid NOT NULL,
        status order_status NOT NULL DEFAULT 'pending',
        cancellation_reason cancellation_reason NULL,
        subtotal integer NOT NULL CONSTRAINT orders_subtotal_positive CHECK (subtotal > 0),
        shipping_cost integer NOT NULL DEFAULT 0
          CONSTRAINT orders_shipping_cost_not_negative CHECK (shipping_cost >= 0),
        tax integer NOT NULL DEFAULT 0 CONSTRAINT orders_tax_not_negative CHECK (tax >= 0),
        total integer NOT NULL
          CONSTRAINT orders_total_in_range CHECK (total > 0 AND total <= 99999999),
        currency char(3) NOT NULL DEFAULT 'USD',
        shipping_address_id uuid NOT NULL,
        shipping_address jsonb NOT NULL,
        billing_address_id uuid NULL,
        payment_method_id uuid NOT NULL,
        payment_status payment_summary_status NULL,
        payment_attempts integer NOT NULL DEFAULT 0
          CONSTRAINT orders_payment_attempts_not_negative CHECK (payment_attempts >= 0),
        payment_id uuid NULL,
        shipment_id uuid NULL,
        shipment_carrier text NULL CONSTRAINT orders_shipment_carrier CHECK (shipment_carrier IN ('usps', 'fedex', 'ups')),
        shipment_tracking_number text NULL,
        shipment_estimated_delivery timestamptz NULL,
        created_at timestamptz NOT NULL DEFAULT now()
          CONSTRAINT orders_created_in_past CHECK (created_at <= now()),
        updated_at timestamptz NOT NULL DEFAULT now(),
        shipped_at timestamptz NULL,
        delivered_at timestamptz NULL,
        cancelled_at timestamptz NULL,
        CONSTRAINT orders_order_number_key UNIQUE (order_number),
        CONSTRAINT orders_total_is_sum CHECK (total = subtotal + shipping_cost + tax),
        CONSTRAINT orders_shipped_after_created CHECK (shipped_at IS NULL OR shipped_at >= created_at),
        CONSTRAINT orders_delivered_after_shipped
          CHECK (delivered_at IS NULL OR (shipped_at IS NOT NULL AND delivered_at >= shipped_at)),
        CONSTRAINT orders_cancelled_after_created
          CHECK (cancelled_at IS NULL OR cancelled_at >= created_at),
        CONSTRAINT orders_delivered_or_cancelled
          CHECK (delivered_at IS NULL OR cancelled_at IS NULL),
        CONSTRAINT orders_cancelled_has_time_and_reason CHECK (
          (status = 'cancelled') = (cancelled_at IS NOT NULL)
          AND (status = 'cancelled') = (cancellation_reason IS NOT NULL)),
        CONSTRAINT orders_shipped_has_shipment CHECK (
          status NOT IN ('shipped', 'delivered')
          OR (shipped_at IS NOT NULL AND shipment_id IS NOT NULL)),
        CONSTRAINT orders_delivered_has_time CHECK ((status = 'delivered') = (delivered_at IS NOT NULL))
      )`,
      `CREATE INDEX orders_customer_id_created_at_idx ON orders (customer_id, created_at DESC, id DESC)`,
      `CREATE INDEX orders_created_at_idx ON orders (created_at DESC, id DESC)`,
      `CREATE INDEX orders_status_idx ON orders (status)`,

      `CREATE TABLE order_items (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        order_id uuid NOT NULL REFERENCES orders (id) ON DELETE CASCADE,
        product_id uuid NOT NULL,
        sku text NOT NULL,
        position smallint NOT NULL,
        quantity integer NOT NULL CONSTRAINT order_items_quantity_positive CHECK (quantity > 0),
        unit_price integer NOT NULL CONSTRAINT order_items_unit_price_positive CHECK (unit_price > 0),
        line_total integer NOT NULL
          CONSTRAINT order_items_line_total CHECK (line_total = quantity * unit_price),
        created_at timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT order_items_order_product_key UNIQUE (order_id, product_id)
      )`,
      `CREATE INDEX order_items_product_id_idx ON order_items (product_id)`,
      // The unit price is frozen at acceptance: no role may rewrite a line after insert.
      `CREATE FUNCTION order_items_refuse_update() RETURNS trigger LANGUAGE plpgsql AS $$
       BEGIN
         RAISE EXCEPTION 'order_items are immutable' USING ERRCODE = 'insufficient_privilege';
       END
       $$`,
      `CREATE TRIGGER order_items_immutable BEFORE UPDATE ON order_items
         FOR EACH ROW EXECUTE FUNCTION order_items_refuse_update()`,

      `CREATE TABLE order_sagas (
        order_id uuid PRIMARY KEY REFERENCES orders (id) ON DELETE CASCADE,
        state saga_state NOT NULL,
        version integer NOT NULL DEFAULT 1,
        payment_attempts integer NOT NULL DEFAULT 0 CHECK (payment_attempts >= 0),
        step_resends integer NOT NULL DEFAULT 0 CHECK (step_resends >= 0),
        next_deadline_at timestamptz NULL,
        last_error text NULL,
        data jsonb NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT order_sagas_resting_states_have_no_deadline CHECK (
          state NOT IN ('shipped', 'delivered', 'cancelled', 'needs_attention')
          OR next_deadline_at IS NULL)
      )`,
      `CREATE INDEX order_sagas_state_idx ON order_sagas (state, created_at DESC, order_id DESC)`,
      // Only sagas waiting on a clock are in it: the timer's scan stays small however many
      // orders have finished.
      `CREATE INDEX order_sagas_due_idx ON order_sagas (next_deadline_at)
         WHERE next_deadline_at IS NOT NULL`,

      `CREATE TABLE saga_steps (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        seq bigint GENERATED ALWAYS AS IDENTITY,
        order_id uuid NOT NULL REFERENCES orders (id) ON DELETE CASCADE,
        at timestamptz NOT NULL,
        step text NOT NULL CHECK (step <> ''),
        outcome text NOT NULL CHECK (outcome <> ''),
        detail text NULL
      )`,
      `CREATE INDEX saga_steps_order_id_seq_idx ON saga_steps (order_id, seq)`,

      `CREATE TABLE idempotency_keys (
        customer_id uuid NOT NULL,
        key varchar(255) NOT NULL CHECK (length(key) >= 1),
        fingerprint char(64) NOT NULL,
        -- Deferred: the key is bound first in the transaction, so a concurrent duplicate
        -- waits on it before doing any work, and the order row follows.
        order_id uuid NOT NULL REFERENCES orders (id) ON DELETE CASCADE DEFERRABLE INITIALLY DEFERRED,
        created_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (customer_id, key)
      )`,
      `CREATE INDEX idempotency_keys_order_id_idx ON idempotency_keys (order_id)`,

      // Read models, fed by inventory's and users' events (and by their internal routes when
      // an event has not arrived yet).
      `CREATE TABLE product_prices (
        product_id uuid PRIMARY KEY,
        sku text NOT NULL,
        price integer NOT NULL CHECK (price >= 0),
        is_active boolean NOT NULL,
        source_updated_at timestamptz NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now()
      )`,
      `CREATE TABLE customer_addresses (
        address_id uuid PRIMARY KEY,
        user_id uuid NOT NULL,
        snapshot jsonb NULL,
        removed_at timestamptz NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT customer_addresses_known_or_removed CHECK (snapshot IS NOT NULL OR removed_at IS NOT NULL)
      )`,
      `CREATE INDEX customer_addresses_user_id_idx ON customer_addresses (user_id)`,
      `CREATE TABLE customer_payment_methods (
        payment_method_id uuid PRIMARY KEY,
        user_id uuid NOT NULL,
        provider_payment_method_id text NULL,
        removed_at timestamptz NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT customer_payment_methods_known_or_removed
          CHECK (provider_payment_method_id IS NOT NULL OR removed_at IS NOT NULL)
      )`,
      `CREATE INDEX customer_payment_methods_user_id_idx ON customer_payment_methods (user_id)`,
    ];
    for (const statement of statements) await queryRunner.query(statement);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    for (const table of [
      'customer_payment_methods',
      'customer_addresses',
      'product_prices',
      'idempotency_keys',
      'saga_steps',
      'order_sagas',
      'order_items',
      'orders',
    ]) {
      await queryRunner.query(`DROP TABLE ${table}`);
    }
    await queryRunner.query('DROP FUNCTION order_items_refuse_update()');
    await queryRunner.query('DROP SEQUENCE order_number_seq');
    for (const type of [
      'saga_state',
      'payment_summary_status',
      'cancellation_reason',
      'order_status',
    ]) {
      await queryRunner.query(`DROP TYPE ${type}`);
    }
  }
}
