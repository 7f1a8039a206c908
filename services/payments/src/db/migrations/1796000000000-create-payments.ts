import type { MigrationInterface, QueryRunner } from 'typeorm';
import { baseColumnsSql } from '@shop/service-kit';

// Why: payment attempts, refunds and the orders payments has seen cancelled (issue 5).
// Additive: new types and tables only. The rules that keep money right live here too, so a bug
// in the code cannot record what must never be: a second success for an order, an illegal
// status move, a refund of something never charged.
export class CreatePayments1796000000000 implements MigrationInterface {
  name = 'CreatePayments1796000000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(
      `CREATE TYPE payment_status AS ENUM ('pending', 'succeeded', 'failed', 'refunded')`,
    );
    await queryRunner.query(`CREATE TYPE refund_status AS ENUM ('pending', 'succeeded', 'failed')`);

    // One row per attempt. attempt_id is minted by orders and is the provider idempotency key,
    // so it is unique: a resent command finds its row instead of making a second one. Not the
    // design's UNIQUE (order_id, payment_method_id): a retry with the same card after a
    // transient failure is a new attempt. amount is integer cents; 99999999 fits int4.
    await queryRunner.query(`
      CREATE TABLE payments (
        ${baseColumnsSql},
        attempt_id uuid NOT NULL CONSTRAINT payments_attempt_id_key UNIQUE,
        attempt integer NOT NULL CONSTRAINT payments_attempt_check CHECK (attempt >= 1),
        order_id uuid NOT NULL,
        order_number varchar(50) NOT NULL,
        customer_id uuid NOT NULL,
        payment_method_id uuid NOT NULL,
        provider_payment_method_id varchar(255) NOT NULL,
        amount integer NOT NULL
          CONSTRAINT payments_amount_check CHECK (amount > 0 AND amount <= 99999999),
        currency char(3) NOT NULL CONSTRAINT payments_currency_check CHECK (currency ~ '^[A-Z]{3}$'),
        status payment_status NOT NULL DEFAULT 'pending',
        failure_reason varchar(100) NULL,
        failure_message text NULL,
        provider varchar(20) NOT NULL,
        provider_charge_id varchar(100) NULL CONSTRAINT payments_provider_charge_id_key UNIQUE,
        attempted_at timestamptz NOT NULL DEFAULT now(),
        settled_at timestamptz NULL,
        CONSTRAINT payments_failure_reason_check CHECK ((status = 'failed') = (failure_reason IS NOT NULL)),
        CONSTRAINT payments_charged_has_charge_id_check
          CHECK (status NOT IN ('succeeded', 'refunded') OR provider_charge_id IS NOT NULL),
        CONSTRAINT payments_settled_check CHECK ((status = 'pending') = (settled_at IS NULL))
      )`);
    // At most one kept charge per order. Refunded rows are left out on purpose: a charge found
    // late for an attempt already given up on is recorded as charged-and-refunded beside the
    // order's real payment, and the truth must fit.
    await queryRunner.query(
      `CREATE UNIQUE INDEX payments_one_success_per_order ON payments (order_id) WHERE status = 'succeeded'`,
    );
    // "the order's payment" and its attempts, newest first (GET /v1/payments?orderId=).
    await queryRunner.query(
      'CREATE INDEX payments_order_id_status_idx ON payments (order_id, status)',
    );
    await queryRunner.query(
      'CREATE INDEX payments_order_id_created_at_idx ON payments (order_id, created_at DESC, id DESC)',
    );
    // Reconciliation and "failed payments, newest first".
    await queryRunner.query(
      'CREATE INDEX payments_status_created_at_idx ON payments (status, created_at)',
    );

    // The design's transitions, enforced for every writer (raw SQL included).
    await queryRunner.query(`
      CREATE FUNCTION payments_check_transition() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        IF NEW.status = OLD.status
           OR (OLD.status = 'pending' AND NEW.status IN ('succeeded', 'failed', 'refunded'))
           OR (OLD.status = 'succeeded' AND NEW.status = 'refunded') THEN
          RETURN NEW;
        END IF;
        RAISE EXCEPTION 'payment % cannot go from % to %', OLD.id, OLD.status, NEW.status
          USING ERRCODE = 'check_violation';
      END
      $$`);
    await queryRunner.query(`
      CREATE TRIGGER payments_status_transition BEFORE UPDATE OF status ON payments
        FOR EACH ROW EXECUTE FUNCTION payments_check_transition()`);

    // One refund per payment (full refunds only), whoever asked first; refund_id is the
    // requester's idempotency key and, at the provider, ours.
    await queryRunner.query(`
      CREATE TABLE refunds (
        ${baseColumnsSql},
        refund_id uuid NOT NULL CONSTRAINT refunds_refund_id_key UNIQUE,
        payment_id uuid NOT NULL CONSTRAINT refunds_payment_id_key UNIQUE
          REFERENCES payments (id) ON DELETE RESTRICT,
        order_id uuid NOT NULL,
        amount integer NOT NULL
          CONSTRAINT refunds_amount_check CHECK (amount > 0 AND amount <= 99999999),
        currency char(3) NOT NULL,
        status refund_status NOT NULL DEFAULT 'pending',
        reason varchar(100) NOT NULL,
        requested_by uuid NULL,
        provider_refund_id varchar(100) NULL CONSTRAINT refunds_provider_refund_id_key UNIQUE,
        failure_reason varchar(100) NULL,
        CONSTRAINT refunds_succeeded_has_id_check
          CHECK (status <> 'succeeded' OR provider_refund_id IS NOT NULL)
      )`);
    await queryRunner.query('CREATE INDEX refunds_order_id_idx ON refunds (order_id)');

    // Fed by orders.events.order.cancelled: how payments knows an order no longer wants money.
    await queryRunner.query(`
      CREATE TABLE cancelled_orders (
        order_id uuid PRIMARY KEY,
        reason varchar(50) NOT NULL,
        cancelled_at timestamptz NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now()
      )`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query('DROP TABLE cancelled_orders');
    await queryRunner.query('DROP TABLE refunds');
    await queryRunner.query('DROP TABLE payments');
    await queryRunner.query('DROP FUNCTION payments_check_transition()');
    await queryRunner.query('DROP TYPE refund_status');
    await queryRunner.query('DROP TYPE payment_status');
  }
}
