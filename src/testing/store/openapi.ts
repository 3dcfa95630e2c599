import { createHash } from 'node:crypto';
import type { ResourceType } from './resource-type.ts';
import type { TypeRegistry } from './resources.ts';
import { patchTypesFor } from './patch.ts';

/**
 * A minimal OpenAPI v3: the paths of every kind with their PATCH operation, its media types and
 * query parameters. kubectl reads it to learn that the server validates fields itself
 * (`fieldValidation`), so `kubectl apply` and `kubectl edit` send their objects without needing
 * schemas; it has no component schemas, so kubectl computes strategic merge patches from its own
 * compiled-in types.
 */
function pathPrefix(type: ResourceType): string {
  return type.group === '' ? `/api/${type.version}` : `/apis/${type.group}/${type.version}`;
}

const queryParameter = (name: string) => ({ name, in: 'query', schema: { type: 'string', uniqueItems: true } });

function operations(type: ResourceType): Record<string, unknown> {
  const gvk = { 'x-kubernetes-group-version-kind': { group: type.group, version: type.version, kind: type.kind } };
  const body = (mediaTypes: readonly string[]) => ({ content: Object.fromEntries(mediaTypes.map((mediaType) => [mediaType, { schema: { type: 'object' } }])) });
  const parameters = ['dryRun', 'fieldManager', 'fieldValidation'].map(queryParameter);
  const namespaced = type.namespaced ? '/namespaces/{namespace}' : '';
  const collection = `${pathPrefix(type)}${namespaced}/${type.resource}`;
  const ok = { responses: { 200: { description: 'OK' } } };
  return {
    [collection]: {
      get: { ...gvk, 'x-kubernetes-action': 'list', ...ok },
      post: { ...gvk, 'x-kubernetes-action': 'post', parameters, requestBody: body(['*/*']), ...ok },
    },
    [`${collection}/{name}`]: {
      get: { ...gvk, 'x-kubernetes-action': 'get', ...ok },
      put: { ...gvk, 'x-kubernetes-action': 'put', parameters, requestBody: body(['*/*']), ...ok },
      patch: { ...gvk, 'x-kubernetes-action': 'patch', parameters: [...parameters, queryParameter('force')], requestBody: body(patchTypesFor(type)), ...ok },
      delete: { ...gvk, 'x-kubernetes-action': 'delete', ...ok },
    },
  };
}

function groupVersionPath(type: ResourceType): string {
  return pathPrefix(type).slice(1);
}

/** The OpenAPI v3 document of one group version (`api/v1`, `apis/apps/v1`), or `undefined`. */
export function openApiDocument(types: TypeRegistry, groupVersionPathText: string): Record<string, unknown> | undefined {
  const served = types.all().filter((type) => groupVersionPath(type) === groupVersionPathText);
  if (served.length === 0) return undefined;
  return {
    openapi: '3.0.0',
    info: { title: 'Kubernetes', version: 'v1.32.0-fake' },
    paths: Object.assign({}, ...served.map(operations)) as Record<string, unknown>,
    components: { schemas: {} },
  };
}

/** `/openapi/v3`: each group version with a URL whose hash changes when its document does (clients cache by it). */
export function openApiIndex(types: TypeRegistry): Record<string, unknown> {
  const paths: Record<string, unknown> = {};
  for (const path of new Set(types.all().map(groupVersionPath))) {
    const hash = createHash('sha256').update(JSON.stringify(openApiDocument(types, path))).digest('hex').slice(0, 32).toUpperCase();
    paths[path] = { serverRelativeURL: `/openapi/v3/${path}?hash=${hash}` };
  }
  return { paths };
}

