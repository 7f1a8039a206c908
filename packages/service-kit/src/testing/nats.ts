import { jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';

export const TEST_NATS_URL = process.env.TEST_NATS_URL ?? 'nats://127.0.0.1:4222';

/**
 * A NATS namespace for one test file: stream names and subjects are prefixed with it, so
 * files running in parallel (and reruns) never share a stream or a subject.
 */
export function testNamespace(label: string): string {
  const suffix = Math.random().toString(36).slice(2, 8);
  return `t_${label.toLowerCase().replace(/[^a-z0-9]+/g, '_')}_${suffix}`;
}

/** Deletes every stream of a test namespace, so test runs leave nothing behind on the server. */
export async function deleteNamespaceStreams(
  namespace: string,
  url = TEST_NATS_URL,
): Promise<void> {
  const nc = await connect({ servers: url });
  try {
    const jsm = await jetstreamManager(nc);
    for await (const name of jsm.streams.names()) {
      if (name.startsWith(`${namespace}_`)) await jsm.streams.delete(name);
    }
  } finally {
    await nc.close();
  }
}
