import type { RequestInfo } from '../pipeline/request-info.ts';
import type { UserInfo } from '../pipeline/user.ts';
import type { PolicyDecision } from './policy.ts';
import { isRead, opensStream } from './request-effect.ts';
import { ruleMatches } from './rule-matcher.ts';
import type { CompiledPolicy, PolicyLayer } from './validate-policy.ts';

type Denial = Extract<PolicyDecision, { allowed: false }>;

const ALLOWED: PolicyDecision = Object.freeze({ allowed: true });

const STREAM_WORDS: Record<string, string> = { exec: 'exec into', attach: 'attach to', portforward: 'port-forward to' };

function quoted(text: string): string {
  return JSON.stringify(text.length > 200 ? `${text.slice(0, 200)}...` : text);
}

/** The request in words for a message: `delete deployments "web" in API group "apps" in namespace "prod"`. */
function describe(request: RequestInfo): string {
  if (!request.isResourceRequest) return `${request.verb.toUpperCase()} ${quoted(request.path)}`;
  const { resource, subresource, name, namespace, apiGroup } = request;
  const stream = opensStream(request) ? STREAM_WORDS[subresource] : undefined;
  const what =
    stream !== undefined && resource === 'pods'
      ? `${stream} pod${name ? ` ${quoted(name)}` : ''}`
      : `${request.verb || 'an unknown verb on'} ${subresource ? `${resource}/${subresource}` : resource}${name ? ` ${quoted(name)}` : ''}`;
  return `${what}${apiGroup ? ` in API group ${quoted(apiGroup)}` : ''}${namespace ? ` in namespace ${quoted(namespace)}` : ''}`;
}

function denied(reason: string, error?: unknown): Denial {
  return error === undefined ? { allowed: false, reason } : { allowed: false, reason, error };
}

function readOnlyReason(layer: PolicyLayer, request: RequestInfo, cluster: string): string {
  let why = '';
  if (request.isResourceRequest && request.subresource === 'proxy') why = ' (the proxy subresource reaches whatever the target serves)';
  else if (request.isResourceRequest && STREAM_WORDS[request.subresource] !== undefined) why = ' (exec, attach and port-forward are not reads, even over a WebSocket GET)';
  return (
    `cluster ${quoted(cluster)} is read-only through this proxy (${layer.where}.readOnly): ` +
    `only get, list and watch are allowed, and ${describe(request)} is not a read${why}; ` +
    "ask the proxy's operator if you need more than reads"
  );
}

/** The static part of one layer: deny rules, then readOnly, then allow rules. */
function checkRules(layer: PolicyLayer, request: RequestInfo, user: UserInfo, cluster: string, stream: boolean): Denial | undefined {
  for (const rule of layer.deny) {
    if (ruleMatches(rule, request, user, stream, true)) {
      return denied(
        rule.reason ??
          `the proxy's policy denies ${describe(request)} on cluster ${quoted(cluster)} (${rule.where}); ` +
            "ask the proxy's operator if you need it",
      );
    }
  }
  if (layer.readOnly && !isRead(request)) return denied(readOnlyReason(layer, request, cluster));
  if (layer.allow !== undefined) {
    for (const rule of layer.allow) if (ruleMatches(rule, request, user, stream, false)) return undefined;
    return denied(
      `the proxy's policy does not allow ${describe(request)} on cluster ${quoted(cluster)}: no rule in ${layer.where}.allow matches it; ` +
        "ask the proxy's operator to add one if you need it",
    );
  }
  return undefined;
}

function authorizeFailed(layer: PolicyLayer, request: RequestInfo, cluster: string, error: unknown): Denial {
  return denied(
    `the proxy could not check whether ${describe(request)} is allowed on cluster ${quoted(cluster)}: ` +
      `its policy's authorize function failed; try again, and tell the proxy's operator if it goes on (the proxy's logs have the error)`,
    error ?? new Error(`${layer.where}.authorize threw ${String(error)}`),
  );
}

function interpret(layer: PolicyLayer, request: RequestInfo, cluster: string, answer: unknown): Denial | undefined {
  if (answer === true) return undefined;
  if (typeof answer === 'string' && answer !== '') return denied(answer);
  if (answer === false || answer === '') {
    return denied(`the proxy's policy (${layer.where}.authorize) denies ${describe(request)} on cluster ${quoted(cluster)}`);
  }
  const type = answer === null ? 'null' : typeof answer;
  return authorizeFailed(layer, request, cluster, new TypeError(`${layer.where}.authorize returned ${type}, not true, false or a reason`));
}

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return (typeof value === 'object' || typeof value === 'function') && value !== null && typeof (value as { then?: unknown }).then === 'function';
}

/** The `authorize` functions from layer `from` on, synchronously until one returns a promise. */
function authorizeFrom(layers: readonly PolicyLayer[], from: number, request: RequestInfo, user: UserInfo, cluster: string): PolicyDecision | Promise<PolicyDecision> {
  for (let i = from; i < layers.length; i++) {
    const layer = layers[i]!;
    if (layer.authorize === undefined) continue;
    let answer: unknown;
    try {
      answer = layer.authorize(request, user, cluster);
    } catch (error) {
      return authorizeFailed(layer, request, cluster, error);
    }
    if (isThenable(answer)) {
      return Promise.resolve(answer).then(
        (value) => interpret(layer, request, cluster, value) ?? authorizeFrom(layers, i + 1, request, user, cluster),
        (error: unknown) => authorizeFailed(layer, request, cluster, error),
      );
    }
    const denial = interpret(layer, request, cluster, answer);
    if (denial) return denial;
  }
  return ALLOWED;
}

/**
 * Decides whether a request may go through, by every layer of `policy` (see `Policy`): the
 * deny rules, readOnly and allow rules of each layer in order, then each layer's `authorize`.
 * Synchronous unless an `authorize` function returns a promise; never throws or rejects: a
 * failing `authorize` is a denial (with a generic reason and the `error`).
 * @param policy From `validatePolicy` (or `combinePolicies`); `undefined` allows everything.
 * @param cluster The cluster's name, for messages and `authorize`.
 */
export function decide(policy: CompiledPolicy | undefined, request: RequestInfo, user: UserInfo, cluster: string): PolicyDecision | Promise<PolicyDecision> {
  if (policy === undefined) return ALLOWED;
  const stream = opensStream(request);
  for (const layer of policy.layers) {
    const denial = checkRules(layer, request, user, cluster, stream);
    if (denial) return denial;
  }
  return authorizeFrom(policy.layers, 0, request, user, cluster);
}
