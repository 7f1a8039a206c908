import { Ajv, type Options as AjvOptions } from 'ajv';
import addFormats from 'ajv-formats';
import type { FastifySchemaCompiler } from 'fastify';

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
