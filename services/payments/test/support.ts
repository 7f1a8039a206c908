import { randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { jetstreamManager } from '@nats-io/jetstream';
import type { ChargePayment, Envelope, MessageContract, MessageData } from '@shop/contracts';
import { buildEnvelope, parseConfig } from '@shop/service-kit';
import {
  freePort,
  startTestService,
  waitFor as waitForCondition,
  type TestService,
  type Truthy,
  type WaitOptions,
} from '@shop/service-kit/testing';
import {
  killProcess,
  startProcess,
  stopProcess,
  waitUntilReady,
  type RunningProcess,
} from '../../../scripts/lib/processes.js';
import { afterAll, beforeAll } from 'vitest';
import { PaymentsConfig } from '../src/config.js';
import { paymentsService } from '../src/service.js';

const PROVIDER_ENTRY = path.resolve(
  path.dirname(fileURLToPath(import.meta.url)),
  '../src/provider/main.ts',
);

/** `waitFor` with the payments tests' patience: 30 s unless told. */
export function waitFor<T>(
  condition: () => T | Promise<T>,
  what: string,
  options: WaitOptions = {},
): Promise<Truthy<T>> {
  return waitForCondition(condition, what, { timeoutMs: 30_000, ...options });
}

/** The sandbox provider as a real process, with its own ledger file and port. */
export interface SandboxProcess {
  url: string;
  ledgerFile: string;
  logs: string[];
  /** SIGKILL: a crash, the answer in flight lost. */
  kill(): Promise<void>;
  /** Starts it again on the same port and ledger, optionally with other settings. */
  restart(settings?: ProviderSettings): Promise<void>;
  stop(): Promise<void>;
  /** How many charges and refunds it holds. */
  stats(): Promise<{ charges: number; refunds: number }>;
  /** Every ledger line that mentions `key`: what the "bank" did under it. */
  entriesFor(key: string): Array<{ kind: string; key: string }>;
}

export interface ProviderSettings {
  latencyMs?: number;
  failureRate?: number;
}

export async function startSandbox(settings: ProviderSettings = {}): Promise<SandboxProcess> {
  const port = await freePort();
  const ledgerFile = path.join(
    mkdtempSync(path.join(tmpdir(), 'payment-provider-')),
    'ledger.jsonl',
  );
  const logs: string[] = [];
  let running: RunningProcess;
  const launch = async (current: ProviderSettings) => {
    running = startProcess(
      {
        name: 'payment-provider',
        entry: PROVIDER_ENTRY,
        env: {
          ...process.env,
          PAYMENT_PROVIDER_PORT: String(port),
          PAYMENT_PROVIDER_DATA_FILE: ledgerFile,
          PAYMENT_PROVIDER_LATENCY_MS: String(current.latencyMs ?? 0),
          PAYMENT_PROVIDER_FAILURE_RATE: String(current.failureRate ?? 0),
          LOG_LEVEL: 'info',
        },
        readyUrl: `http://127.0.0.1:${port}/health/ready`,
      },
      (_name, line) => logs.push(line),
    );
    await waitUntilReady(running, 30_000);
  };
  await launch(settings);
  const url = `http://127.0.0.1:${port}`;
  return {
    url,
    ledgerFile,
    logs,
    kill: () => killProcess(running),
    restart: (next = {}) => launch(next),
    stop: () => stopProcess(running),
    async stats() {
      const response = await fetch(`${url}/v1/stats`);
      return (await response.json()) as { charges: number; refunds: number };
    },
    entriesFor(key) {
      let text: string;
      try {
        text = readFileSync(ledgerFile, 'utf8');
      } catch {
        return [];
      }
      return text
        .split('\n')
        .filter((line) => line.includes(key))
        .map((line) => JSON.parse(line) as { kind: string; key: string });
    },
  };
}

export function startPayments(
  label: string,
  providerUrl: string,
  overrides: Record<string, string> = {},
): Promise<TestService> {
  // Port() refuses 0, so the parsed config keeps the default and the definition asks for any.
  return startTestService(label, (env) => ({
    ...paymentsService(
      parseConfig(PaymentsConfig, {
        ...env,
        PAYMENT_PROVIDER_URL: providerUrl,
        PAYMENT_PROVIDER_TIMEOUT_MS: '3000',
        PAYMENT_PROVIDER_BREAKER_RESET_MS: '1000',
        // Tests drive the reconciler by hand unless they say otherwise.
        PAYMENTS_RECONCILE_INTERVAL_MS: '3600000',
        ...overrides,
      }),
    ),
    port: 0,
  }));
}

export interface PaymentsWithSandbox {
  service: TestService;
  sandbox: SandboxProcess;
}

/**
 * For one describe block: the sandbox provider as its own process and the payments service
 * against it, started before the block's tests (then `started` runs, for the block's own
 * setup) and both stopped after.
 */
export function paymentsWithSandbox(
  label: string,
  started: (running: PaymentsWithSandbox) => void | Promise<void>,
): void {
  let sandbox: SandboxProcess | undefined;
  let service: TestService | undefined;
  beforeAll(async () => {
    sandbox = await startSandbox();
    service = await startPayments(label, sandbox.url);
    await started({ service, sandbox });
  });
  afterAll(async () => {
    await service?.stop();
    await sandbox?.stop();
  });
}

/** Publishes a command on the service's namespace, as the saga's outbox relay would. */
export async function publish<C extends MessageContract>(
  service: TestService,
  contract: C,
  data: MessageData<C>,
): Promise<Envelope<MessageData<C>>> {
  const { js, namespace } = service.infrastructure;
  const envelope = buildEnvelope(contract, data);
  await js.publish(namespace.subject(contract.type), JSON.stringify(envelope), {
    msgID: envelope.id,
  });
  return envelope;
}

/** Every message on the PAYMENTS stream of `type` (payments' events), oldest first. */
export async function eventsOf(service: TestService, type: string): Promise<Envelope[]> {
  const { nats, namespace } = service.infrastructure;
  const jsm = await jetstreamManager(nats);
  const stream = namespace.stream('PAYMENTS');
  const subject = namespace.subject(type);
  const found: Envelope[] = [];
  const info = await jsm.streams.info(stream);
  for (let seq = info.state.first_seq; seq <= info.state.last_seq; seq += 1) {
    const message = await jsm.streams.getMessage(stream, { seq }).catch(() => null);
    if (message?.subject === subject) found.push(message.json<Envelope>());
  }
  return found;
}

export function chargeCommand(overrides: Partial<ChargePayment> = {}): ChargePayment {
  return {
    orderId: randomUUID(),
    orderNumber: 'ORD-2026-000001',
    customerId: randomUUID(),
    attemptId: randomUUID(),
    attempt: 1,
    amount: 2599,
    currency: 'USD',
    paymentMethodId: randomUUID(),
    providerPaymentMethodId: 'pm_card_visa',
    ...overrides,
  };
}

export interface PaymentRow {
  id: string;
  status: string;
  failure_reason: string | null;
  provider_charge_id: string | null;
  attempt_id: string;
  order_id: string;
}

export async function paymentRows(service: TestService, orderId: string): Promise<PaymentRow[]> {
  return (await service.infrastructure.dataSource.query(
    'SELECT * FROM payments WHERE order_id = $1 ORDER BY created_at',
    [orderId],
  )) as PaymentRow[];
}

/** The one reply to an attempt on `type`, once it is there. */
export async function replyTo(
  service: TestService,
  type: string,
  attemptId: string,
): Promise<Envelope<Record<string, unknown>>> {
  return waitFor(async () => {
    const events = await eventsOf(service, type);
    return events.find(
      (event) => (event.data as { attemptId?: string }).attemptId === attemptId,
    ) as Envelope<Record<string, unknown>> | undefined;
  }, `${type} for ${attemptId}`);
}
