import type { IncomingMessage } from 'node:http';
import type { UserInfo } from './authentication.ts';
import type { Authorizer, PolicyRule, RequestAttributes } from './authorization.ts';
import { rfc3339 } from './pods.ts';
import { EMPTY_MESSAGE as EMPTY, messageField, PROTOBUF_MAGIC, readEnvelope, readMessage, stringField, stringsField, type ProtobufFields } from './protobuf.ts';
import { badRequest } from './status.ts';
import { mediaTypeOf, readBody } from './store/bodies.ts';
import { isObject } from './store/objects.ts';

/** The review kinds, by resource, with their API group. */
export const REVIEW_KINDS = {
  selfsubjectreviews: { kind: 'SelfSubjectReview', apiVersion: 'authentication.k8s.io/v1' },
  selfsubjectaccessreviews: { kind: 'SelfSubjectAccessReview', apiVersion: 'authorization.k8s.io/v1' },
  selfsubjectrulesreviews: { kind: 'SelfSubjectRulesReview', apiVersion: 'authorization.k8s.io/v1' },
  subjectaccessreviews: { kind: 'SubjectAccessReview', apiVersion: 'authorization.k8s.io/v1' },
} as const;

export type ReviewResource = keyof typeof REVIEW_KINDS;

function resourceAttributes(fields: ProtobufFields): Record<string, string> {
  const names = ['namespace', 'verb', 'group', 'version', 'resource', 'subresource', 'name'];
  return Object.fromEntries(names.flatMap((name, index) => {
    const value = stringField(fields, index + 1);
    return value === undefined ? [] : [[name, value]];
  }));
}

/** The spec of a review sent as protobuf (what kubectl sends), in its JSON shape. */
function protobufSpec(raw: Buffer): Record<string, unknown> {
  const spec = messageField(readMessage(raw), 2) ?? EMPTY;
  const resource = messageField(spec, 1);
  const nonResource = messageField(spec, 2);
  return {
    ...(resource ? { resourceAttributes: resourceAttributes(resource) } : {}),
    ...(nonResource ? { nonResourceAttributes: { path: stringField(nonResource, 1) ?? '', verb: stringField(nonResource, 2) ?? '' } } : {}),
    ...(stringField(spec, 3) !== undefined ? { user: stringField(spec, 3) } : {}),
    ...(stringsField(spec, 4).length > 0 ? { groups: stringsField(spec, 4) } : {}),
  };
}

/** Reads a review request (JSON or protobuf) and returns its spec; 400 for another kind or a malformed body. */
export async function readReview(req: IncomingMessage, resource: ReviewResource): Promise<Record<string, unknown>> {
  const { kind } = REVIEW_KINDS[resource];
  const body = await readBody(req, 1024 * 1024);
  if (mediaTypeOf(req.headers['content-type']) === 'application/vnd.kubernetes.protobuf' || body.subarray(0, 4).equals(PROTOBUF_MAGIC)) {
    const envelope = readEnvelope(body);
    if (envelope.kind !== kind) throw badRequest(`the body must be a protobuf ${kind} object`);
    return resource === 'selfsubjectrulesreviews' ? rulesSpec(envelope.raw) : protobufSpec(envelope.raw);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(body.toString('utf8'));
  } catch (error) {
    throw badRequest(`couldn't get version/kind; json parse error: ${(error as Error).message}`);
  }
  if (!isObject(parsed) || parsed.kind !== kind) throw badRequest(`the body must be a ${kind} object`);
  return isObject(parsed.spec) ? parsed.spec : {};
}

/** A rules review's spec has only its namespace, as field 1 (a string, not a message). */
function rulesSpec(raw: Buffer): Record<string, unknown> {
  const spec = messageField(readMessage(raw), 2) ?? EMPTY;
  return { namespace: stringField(spec, 1) ?? '' };
}

/** The attributes a review asks about; 400 (as the apiserver's validation) when it names neither or both. */
function reviewAttributes(spec: Record<string, unknown>): RequestAttributes {
  const resource = isObject(spec.resourceAttributes) ? spec.resourceAttributes : undefined;
  const nonResource = isObject(spec.nonResourceAttributes) ? spec.nonResourceAttributes : undefined;
  const text = (value: unknown) => (typeof value === 'string' ? value : '');
  if ((resource === undefined) === (nonResource === undefined)) {
    throw badRequest('spec: Invalid value: exactly one of nonResourceAttributes or resourceAttributes must be specified');
  }
  if (resource) {
    return {
      resourceRequest: true,
      verb: text(resource.verb),
      group: text(resource.group),
      resource: text(resource.resource),
      subresource: text(resource.subresource),
      namespace: text(resource.namespace),
      name: text(resource.name),
    };
  }
  return { resourceRequest: false, verb: text(nonResource?.verb), path: text(nonResource?.path) };
}

function reviewObject(resource: ReviewResource, spec: unknown, status: Record<string, unknown>): Record<string, unknown> {
  return { ...REVIEW_KINDS[resource], metadata: { creationTimestamp: null }, spec, status };
}

function accessStatus(allowed: boolean, user: string): Record<string, unknown> {
  return allowed ? { allowed: true, reason: `allowed by the fake cluster's rules for "${user}"` } : { allowed: false };
}

/** Answers one review request with the 201 body kube-apiserver sends. */
export function answerReview(authorizer: Authorizer, user: UserInfo, resource: ReviewResource, spec: Record<string, unknown>): Record<string, unknown> {
  switch (resource) {
    case 'selfsubjectreviews':
      return {
        ...REVIEW_KINDS[resource],
        metadata: { creationTimestamp: rfc3339(new Date()) },
        status: { userInfo: { username: user.username, ...(user.uid ? { uid: user.uid } : {}), groups: user.groups, ...(user.extra ? { extra: user.extra } : {}) } },
      };
    case 'selfsubjectaccessreviews':
      return reviewObject(resource, spec, accessStatus(authorizer.allows(user, reviewAttributes(spec)), user.username));
    case 'subjectaccessreviews': {
      const subject = { username: typeof spec.user === 'string' ? spec.user : '', groups: Array.isArray(spec.groups) ? spec.groups.map(String) : [] };
      if (subject.username === '' && subject.groups.length === 0) throw badRequest('spec.user: Invalid value: "": at least one of user or group must be specified');
      return reviewObject(resource, spec, accessStatus(authorizer.allows(subject, reviewAttributes(spec)), subject.username));
    }
    case 'selfsubjectrulesreviews': {
      const rules: readonly PolicyRule[] = authorizer.rulesFor(user) ?? [{ verbs: ['*'], apiGroups: ['*'], resources: ['*'] }, { verbs: ['*'], nonResourceURLs: ['*'] }];
      return reviewObject(resource, spec, {
        resourceRules: rules.filter((rule) => rule.resources).map(({ verbs, apiGroups, resources, resourceNames }) => ({ verbs, apiGroups, resources, ...(resourceNames ? { resourceNames } : {}) })),
        nonResourceRules: rules.filter((rule) => rule.nonResourceURLs).map(({ verbs, nonResourceURLs }) => ({ verbs, nonResourceURLs })),
        incomplete: false,
      });
    }
  }
}
