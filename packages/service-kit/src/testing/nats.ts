/**
 * A NATS namespace for one test file: stream names and subjects are prefixed with it, so
 * files running in parallel (and reruns) never share a stream or a subject.
 */
export function testNamespace(label: string): string {
  const suffix = Math.random().toString(36).slice(2, 8);
  return `t_${label.toLowerCase().replace(/[^a-z0-9]+/g, '_')}_${suffix}`;
}
