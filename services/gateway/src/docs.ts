import type { Logger } from '@shop/service-kit';
import type { Upstream } from './upstreams.js';

/**
 * GET /docs/json at the gateway: the services' own OpenAPI documents merged into one, keeping
 * only what the gateway actually routes (a path under one of its upstream's public prefixes:
 * no /internal, health, metrics or docs). An upstream that cannot answer is left out and named
 * in the description, so the document still serves while one service is down.
 */

type Json = Record<string, unknown>;

export interface ServiceDocument {
  upstream: Upstream;
  document: Json;
}

function isObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isRouted(path: string, prefixes: readonly string[]): boolean {
  return prefixes.some((prefix) => path === prefix || path.startsWith(`${prefix}/`));
}

/** Replaces every `$ref` named in `renames`, deep, without touching the input. */
function renameRefs(value: unknown, renames: Map<string, string>): unknown {
  if (Array.isArray(value)) return value.map((item) => renameRefs(item, renames));
  if (!isObject(value)) return value;
  const result: Json = {};
  for (const [key, inner] of Object.entries(value)) {
    result[key] =
      key === '$ref' && typeof inner === 'string' && renames.has(inner)
        ? renames.get(inner)
        : renameRefs(inner, renames);
  }
  return result;
}

/**
 * Components of the same name and content are shared; a name two services use for different
 * things is kept apart as `<service>_<name>`, with that service's references renamed.
 */
export function mergeDocuments(parts: ServiceDocument[], unavailable: string[]): Json {
  const paths: Json = {};
  const components: Record<string, Json> = {};

  for (const { upstream, document } of parts) {
    const ownComponents = isObject(document.components) ? document.components : {};
    const renames = new Map<string, string>();
    for (const [section, entries] of Object.entries(ownComponents)) {
      if (!isObject(entries)) continue;
      const merged = (components[section] ??= {});
      for (const [name, definition] of Object.entries(entries)) {
        if (!(name in merged)) continue;
        if (JSON.stringify(merged[name]) === JSON.stringify(definition)) continue;
        renames.set(
          `#/components/${section}/${name}`,
          `#/components/${section}/${upstream.name}_${name}`,
        );
      }
    }

    const renamed = renameRefs(document, renames) as Json;
    const renamedComponents = isObject(renamed.components) ? renamed.components : {};
    for (const [section, entries] of Object.entries(renamedComponents)) {
      if (!isObject(entries)) continue;
      const merged = (components[section] ??= {});
      for (const [name, definition] of Object.entries(entries)) {
        const key = renames.has(`#/components/${section}/${name}`)
          ? `${upstream.name}_${name}`
          : name;
        merged[key] = definition;
      }
    }

    const ownPaths = isObject(renamed.paths) ? renamed.paths : {};
    for (const [path, item] of Object.entries(ownPaths))
      if (isRouted(path, upstream.prefixes)) paths[path] = item;
  }

  const sortedPaths = Object.fromEntries(
    Object.entries(paths).sort(([a], [b]) => a.localeCompare(b)),
  );
  const description =
    unavailable.length === 0
      ? 'Every public route, served through the gateway.'
      : `Every public route, served through the gateway. Missing while unavailable: ${unavailable.join(', ')}.`;
  return {
    openapi: '3.1.0',
    info: { title: 'shop', version: '1.0.0', description },
    paths: sortedPaths,
    components,
  };
}

async function fetchDocument(upstream: Upstream, timeoutMs: number): Promise<Json> {
  const response = await fetch(`${upstream.url}/docs/json`, {
    signal: AbortSignal.timeout(timeoutMs),
    headers: { accept: 'application/json' },
  });
  if (!response.ok) throw new Error(`${upstream.name} answered ${response.status}`);
  const body: unknown = await response.json();
  if (!isObject(body)) throw new Error(`${upstream.name} sent no OpenAPI document`);
  return body;
}

/** The /docs/json handler: fetched on every call (rarely asked, always current). */
export function createDocsMerger(
  upstreams: Upstream[],
  { timeoutMs, logger }: { timeoutMs: number; logger: Logger },
) {
  return async (): Promise<Json> => {
    const settled = await Promise.allSettled(
      upstreams.map(async (upstream) => ({
        upstream,
        document: await fetchDocument(upstream, timeoutMs),
      })),
    );
    const parts: ServiceDocument[] = [];
    const unavailable: string[] = [];
    settled.forEach((outcome, index) => {
      const upstream = upstreams[index] as Upstream;
      if (outcome.status === 'fulfilled') parts.push(outcome.value);
      else {
        unavailable.push(upstream.name);
        logger.warn({ err: outcome.reason, upstream: upstream.name }, 'upstream docs unavailable');
      }
    });
    return mergeDocuments(parts, unavailable);
  };
}
