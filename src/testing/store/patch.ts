import { badRequest, StatusError, unsupportedMediaType } from '../status.ts';
import { mediaTypeOf } from './bodies.ts';
import { applyJsonPatch, applyMergePatch, PatchError } from './json-patch.ts';
import { isObject } from './objects.ts';
import type { ResourceType } from './resource-type.ts';
import { applyStrategicMergePatch } from './strategic-merge.ts';

const JSON_PATCH = 'application/json-patch+json';
const MERGE_PATCH = 'application/merge-patch+json';
const STRATEGIC_MERGE_PATCH = 'application/strategic-merge-patch+json';
export const APPLY_PATCH = 'application/apply-patch+yaml';

export type PatchType = typeof JSON_PATCH | typeof MERGE_PATCH | typeof STRATEGIC_MERGE_PATCH | typeof APPLY_PATCH;

/** The patch media types a resource accepts, in kube-apiserver's order (no strategic merge for custom resources). */
export function patchTypesFor(type: ResourceType): PatchType[] {
  return type.strategicMergePatch ? [JSON_PATCH, MERGE_PATCH, STRATEGIC_MERGE_PATCH, APPLY_PATCH] : [JSON_PATCH, MERGE_PATCH, APPLY_PATCH];
}

/** The patch type of a Content-Type header (parameters such as charset ignored); 415 when the resource does not take it. */
export function patchTypeOf(type: ResourceType, contentType: string | undefined): PatchType {
  const mediaType = mediaTypeOf(contentType);
  const accepted = patchTypesFor(type);
  const found = accepted.find((candidate) => candidate === mediaType);
  if (!found) throw unsupportedMediaType(accepted);
  return found;
}

function parseJson(body: Buffer): unknown {
  try {
    return JSON.parse(body.toString('utf8')) as unknown;
  } catch (error) {
    throw badRequest(`error decoding patch: ${(error as Error).message}`);
  }
}

/**
 * The object after a JSON, merge or strategic merge patch, with kube-apiserver's answers to bad
 * patches: 400 BadRequest for a malformed one, 422 for a JSON patch operation that does not fit.
 */
export function patchObject(type: ResourceType, current: unknown, patchType: Exclude<PatchType, typeof APPLY_PATCH>, body: Buffer): unknown {
  const patch = parseJson(body);
  try {
    switch (patchType) {
      case JSON_PATCH:
        return applyJsonPatch(current, patch);
      case MERGE_PATCH:
        if (!isObject(patch)) throw new PatchError('decode', `a merge patch must be a JSON object, got ${Array.isArray(patch) ? 'an array' : typeof patch}`);
        return applyMergePatch(current, patch);
      case STRATEGIC_MERGE_PATCH:
        return applyStrategicMergePatch(current, patch, type.schema);
    }
  } catch (error) {
    if (!(error instanceof PatchError)) throw error;
    if (error.stage === 'decode') throw badRequest(error.message);
    throw new StatusError('Invalid', 'the server rejected our request due to an error in our request', {
      causes: [{ reason: 'UnexpectedServerResponse', message: error.message }],
    });
  }
}
