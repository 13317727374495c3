import { z } from 'zod';
import { namedSchemas, ROUTE_DOCS, type RouteDoc } from './openapi-routes.ts';

type Json = Record<string, unknown>;

/** A request schema as what may be sent (`input`), an answer as what is sent (`output`). */
function jsonSchema(schema: z.ZodType, io: 'input' | 'output' = 'input'): Json {
  const out = z.toJSONSchema(schema, { io, unrepresentable: 'any' }) as Json;
  delete out['$schema'];
  return out;
}

function parameters(where: 'path' | 'query', schema: z.ZodObject | undefined): Json[] {
  if (!schema) return [];
  const js = jsonSchema(schema);
  const props = (js['properties'] ?? {}) as Record<string, Json>;
  const required = new Set((js['required'] ?? []) as string[]);
  return Object.entries(props).map(([name, s]) => ({ name, in: where, required: where === 'path' || required.has(name), schema: s }));
}

const SECURITY: Record<RouteDoc['security'], Json[]> = {
  // Kiosks sign alone; launchers also send a player assertion, which the signature covers.
  device: [{ deviceSignature: [] }, { deviceSignature: [], playerAssertion: [] }],
  admin: [{ adminToken: [] }],
  antom: [{ antomSignature: [] }],
  none: [],
};

/** The Fastify path `/v1/bindings/:id` as OpenAPI writes it, `/v1/bindings/{id}`. */
export function openApiPath(path: string): string {
  return path.replace(/:([A-Za-z0-9_]+)/gu, '{$1}');
}

/**
 * The OpenAPI 3.1 document of every route (client, admin, Antom notifications, operations),
 * generated from the same zod schemas that validate the requests and serialise the answers
 * (the client API's from shared/relay-api).
 */
export function buildOpenApi(version: string): Json {
  const schemas: Json = {};
  for (const [name, schema] of Object.entries(namedSchemas)) schemas[name] = jsonSchema(schema, 'output');
  const paths: Record<string, Json> = {};
  for (const route of ROUTE_DOCS) {
    const op: Json = {
      operationId: `${route.method}${openApiPath(route.path)
        .replace(/[{}]/gu, '')
        .replace(/[^A-Za-z0-9]+(.)?/gu, (_m, c: string | undefined) => (c ? c.toUpperCase() : ''))}`,
      summary: route.summary,
      tags: [route.path.startsWith('/admin') ? 'admin' : route.path.startsWith('/v1') ? 'client' : route.path.startsWith('/antom') ? 'antom' : 'operations'],
      security: SECURITY[route.security],
      parameters: [...parameters('path', route.params), ...parameters('query', route.query)],
      responses: {} as Json,
    };
    if (route.body) {
      schemas[route.body.name] = jsonSchema(route.body.schema);
      op['requestBody'] = { required: route.body.required, content: { 'application/json': { schema: { $ref: `#/components/schemas/${route.body.name}` } } } };
    }
    const res = route.response;
    schemas[res.name] = jsonSchema(res.schema, 'output');
    (op['responses'] as Json)[String(res.status)] = {
      description: route.summary,
      content: { [res.contentType ?? 'application/json']: { schema: { $ref: `#/components/schemas/${res.name}` } } },
    };
    if (route.security !== 'none' || route.body || route.query || route.params) (op['responses'] as Json)['4XX'] = { $ref: '#/components/responses/Error' };
    (op['responses'] as Json)['5XX'] = { $ref: '#/components/responses/Error' };
    const key = openApiPath(route.path);
    paths[key] = { ...(paths[key] ?? {}), [route.method]: op };
  }
  return {
    openapi: '3.1.0',
    info: {
      title: 'Scan to Bind merchant relay',
      version,
      description: 'Client API (HMAC-signed devices), admin API (bearer token), Antom notifications and operations. See relay/README.md.',
    },
    paths,
    components: {
      schemas,
      responses: {
        Error: {
          description: 'A typed error (`code` from shared/domain ERROR_CODES); 429/503 carry Retry-After',
          content: { 'application/json': { schema: { $ref: '#/components/schemas/ErrorBody' } } },
        },
      },
      securitySchemes: {
        deviceSignature: {
          type: 'apiKey',
          in: 'header',
          name: 'X-Signature',
          description:
            'base64url(HMAC-SHA256(deviceSecret, canonical)) with X-Device-Id, X-Timestamp, X-Nonce; canonical = METHOD\\npathWithQuery\\nX-Timestamp\\nX-Nonce\\nhex(sha256(rawBody))\\nhex(sha256(X-Player-Assertion or "")) (relay/README.md "Signing every other request")',
        },
        playerAssertion: {
          type: 'apiKey',
          in: 'header',
          name: 'X-Player-Assertion',
          description:
            "Launchers: the studio's JWT for the player; `did` must be the device id (players.requireDeviceId), lifetime at most players.maxLifetimeSeconds; covered by X-Signature, so it cannot be moved to another request",
        },
        adminToken: { type: 'http', scheme: 'bearer', description: 'The admin token (admin.token); device credentials are refused' },
        antomSignature: {
          type: 'apiKey',
          in: 'header',
          name: 'Signature',
          description: 'Antom RSA256 signature of the notification (signing string: method, path, client id, request time, body)',
        },
      },
    },
  };
}
