/**
 * The parts of an OpenAPI 3 document the route tests walk (tests/integration/api-routes.test.ts,
 * api-fuzz.test.ts): schemas, parameters, operations, and each operation flattened for a test.
 */
export type JsonSchema = {
  $ref?: string;
  type?: string | string[];
  properties?: Record<string, JsonSchema>;
  required?: string[];
  items?: JsonSchema;
  minItems?: number;
  additionalProperties?: boolean | JsonSchema;
  format?: string;
  pattern?: string;
  minLength?: number;
  maxLength?: number;
  minimum?: number;
  maximum?: number;
  exclusiveMinimum?: number;
  enum?: unknown[];
  const?: unknown;
  oneOf?: JsonSchema[];
  anyOf?: JsonSchema[];
  example?: unknown;
  default?: unknown;
};
export interface Parameter {
  name: string;
  in: 'query' | 'path' | 'header' | 'cookie';
  required?: boolean;
  schema: JsonSchema;
}
export interface Operation {
  operationId?: string;
  security?: Array<Record<string, string[]>>;
  parameters?: Parameter[];
  requestBody?: { required?: boolean; content: Record<string, { schema: JsonSchema }> };
  responses: Record<string, { description: string; content?: Record<string, { schema: JsonSchema }> }>;
}
export interface OpenApiDoc {
  openapi: string;
  info: { title: string; version: string };
  paths: Record<string, Record<string, Operation>>;
  components?: { schemas?: Record<string, JsonSchema>; securitySchemes?: Record<string, unknown> };
}

/** Follows `#/components/schemas/…` references of the document to the schema they name. */
export const resolveIn =
  (d: Pick<OpenApiDoc, 'components'>) =>
  (s: JsonSchema): JsonSchema => {
    let r = s;
    while (r.$ref) {
      const name = /^#\/components\/schemas\/(.+)$/.exec(r.$ref)?.[1];
      const target = name ? d.components?.schemas?.[name] : undefined;
      if (!target) throw new Error(`unresolvable $ref ${r.$ref}`);
      r = target;
    }
    return r;
  };

const METHODS = ['get', 'put', 'post', 'delete', 'patch', 'head', 'options', 'trace'] as const;

export interface Op {
  key: string; // "POST /accounts"
  method: string;
  path: string;
  op: Operation;
  secured: boolean;
  body: JsonSchema | null;
  query: Parameter[];
  pathParams: Parameter[];
  resolve: (s: JsonSchema) => JsonSchema;
}

/** Every operation of the document, its JSON body schema resolved. */
export function operationsOf(d: Pick<OpenApiDoc, 'paths' | 'components'>): Op[] {
  const resolve = resolveIn(d);
  return Object.entries(d.paths).flatMap(([path, item]) =>
    METHODS.filter((m) => item[m]).map((m) => {
      const op = item[m]!;
      const body = op.requestBody?.content['application/json']?.schema;
      return {
        key: `${m.toUpperCase()} ${path}`,
        method: m.toUpperCase(),
        path,
        op,
        secured: (op.security ?? []).length > 0,
        body: body ? resolve(body) : null,
        query: (op.parameters ?? []).filter((p) => p.in === 'query'),
        pathParams: (op.parameters ?? []).filter((p) => p.in === 'path'),
        resolve,
      };
    }),
  );
}
