import { Ajv, type Options as AjvOptions } from 'ajv';
import addFormats from 'ajv-formats';
import type { FastifySchemaCompiler, preValidationHookHandler, RouteOptions } from 'fastify';
import { BadRequestError } from '../errors.js';

/**
 * Fastify's default Ajv removes unknown properties and coerces types everywhere, so a body
 * `{"price": "1", "role": "admin"}` would quietly become `{price: 1}`. API.md wants both
 * refused, but only for bodies: query strings, path parameters and headers are strings on the
 * wire and must still be parsed into the declared numbers and booleans.
 */

function createAjv(options: AjvOptions): Ajv {
  const ajv = new Ajv({
    allErrors: true,
    removeAdditional: false,
    useDefaults: true,
    // OpenAPI annotations are allowed in route schemas without tripping strict mode.
    keywords: ['example'],
    ...options,
  });
  addFormats.default(ajv);
  return ajv;
}

export function createValidatorCompiler(): FastifySchemaCompiler<unknown> {
  const strict = createAjv({ coerceTypes: false });
  const parsing = createAjv({ coerceTypes: 'array' });
  return ({ schema, httpPart }) => {
    const ajv = httpPart === 'body' ? strict : parsing;
    return ajv.compile(schema as object);
  };
}

/** The query (or body) of a route that takes none: an object with no fields at all. */
const NOTHING = { type: 'object', properties: {}, additionalProperties: false } as const;

function isEmptyBody(body: unknown): boolean {
  if (body === undefined || body === null) return true;
  return (
    typeof body === 'object' &&
    !Array.isArray(body) &&
    Object.keys(body as Record<string, unknown>).length === 0
  );
}

/** A body sent to a route that takes none: refused like an unknown field, never ignored. */
const refuseBody: preValidationHookHandler = (request, _reply, done) => {
  if (isEmptyBody(request.body)) {
    done();
    return;
  }
  const body = request.body;
  const errors =
    typeof body === 'object' && body !== null && !Array.isArray(body)
      ? Object.keys(body).map((field) => ({
          path: `/body/${field}`,
          message: 'is not an allowed field',
        }))
      : [{ path: '/body', message: 'this route takes no body' }];
  done(new BadRequestError('The request is invalid: this route takes no body.', errors));
};

/**
 * API.md: unknown fields are 400 and a rejected request changes nothing, in the query as in the
 * body. So a route that declares a schema declares everything it takes: a query parameter it
 * does not name is refused (its query schema must be strict, checked when the route is added),
 * and a route without a body schema refuses a body with fields (an empty `{}` is no body).
 * Without these, `POST /cancel {"reason": "x"}` would cancel and `?stauts=paid` would list
 * everything. Routes with no schema at all (the gateway's proxy) pass everything on to the
 * service that owns the path, which applies the same rules.
 */
export function enforceDeclaredInputs(route: RouteOptions): void {
  const schema = route.schema;
  if (!schema) return;
  const where = `${String(route.method)} ${route.url}`;
  if (schema.querystring === undefined) {
    schema.querystring = NOTHING;
  } else if (
    (schema.querystring as { additionalProperties?: unknown }).additionalProperties !== false
  ) {
    throw new Error(
      `Route ${where}: declare its query with StrictObject, so unknown parameters are 400`,
    );
  }
  if (schema.body === undefined) {
    const own = route.preValidation;
    route.preValidation = [
      ...(own === undefined ? [] : Array.isArray(own) ? own : [own]),
      refuseBody,
    ];
  }
}
