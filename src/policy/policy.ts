import type { RequestInfo } from '../pipeline/request-info.ts';
import type { UserInfo } from '../pipeline/user.ts';

/**
 * A rule in the shape of a Kubernetes RBAC `PolicyRule`, plus who it applies to. Every field is
 * optional and a field left out matches anything (unlike RBAC, where it matches nothing); a list
 * matches when it holds the request's value or `'*'`. A rule matches a request when all its fields do.
 *
 * A rule with `apiGroups`, `resources` or `namespaces` is about resource requests only; one with
 * `nonResourceURLs` about non-resource requests only; the two cannot be mixed.
 *
 * Exec, attach and port-forward are `create` on `pods/exec`, `pods/attach`, `pods/portforward`
 * over SPDY, but `get` over WebSocket (kubectl 1.30+ uses WebSocket). A deny rule naming `get` or
 * `create` catches both transports; an allow rule must name `create` (kube-apiserver 1.30+ also
 * requires `create` for WebSocket exec). Simplest: name the subresource and leave `verbs` out.
 */
export interface PolicyRule {
  /**
   * Kubernetes verbs: `get`, `list`, `watch`, `create`, `update`, `patch`, `delete`,
   * `deletecollection`, `proxy` for resources; for non-resource requests the lowercase HTTP method
   * (`get`, `head`, `post`, `put`, `patch`, `delete`, `options`).
   */
  verbs?: readonly string[];
  /** API groups: `''` for the core group (pods, services), `'apps'`, `'batch'`...; the group alone, without a version. */
  apiGroups?: readonly string[];
  /**
   * Resources, plural and lowercase as in the URL. `'pods'` is the pods themselves, not their
   * subresources; `'pods/exec'` a subresource; `'pods/*'` every subresource of pods, and the other
   * way round, `'*'` + `'/scale'` as one string, that subresource of any resource; `'*'` everything.
   */
  resources?: readonly string[];
  /** Namespaces; `''` matches cluster-scoped requests (nodes, all-namespace lists), which a list without it never does. */
  namespaces?: readonly string[];
  /** User names, as in {@link UserInfo.name}. A user the proxy cannot name matches only `'*'`. */
  users?: readonly string[];
  /** Groups: the rule matches when the user is in any of them. */
  groups?: readonly string[];
  /** Non-resource paths (`'/version'`, `'/healthz'`); a trailing `*` matches a prefix (`'/openapi/*'`). */
  nonResourceURLs?: readonly string[];
  /** Deny rules only: the message a denied request gets (a `403` Status). Say what to do instead. */
  reason?: string;
}

/**
 * Your own decision: `true` allows, `false` denies with a default message, a string denies with
 * that message (say what to do instead). A throw or rejection denies with a generic message.
 * Only called when the static parts of the policy allow the request. Exec over WebSocket is
 * verb `get` on subresource `exec`: look at `request.subresource`, not only the verb.
 * @param request What the request is in Kubernetes terms.
 * @param user Who it is for, as far as the proxy can tell.
 * @param cluster The cluster's name.
 */
export type PolicyAuthorize = (request: RequestInfo, user: UserInfo, cluster: string) => boolean | string | Promise<boolean | string>;

/**
 * What may go through to a cluster. Checked in the proxy before a request or upgrade reaches the
 * cluster; a denied one is answered `403` with the reason and never leaves the proxy. In order:
 * 1. `deny`: any matching rule denies;
 * 2. `readOnly`: anything but a read is denied;
 * 3. `allow`: when given, a request no rule matches is denied;
 * 4. `authorize`: your function decides last.
 *
 * A cluster's policy and the default policy for all clusters must both allow a request: the static
 * parts (1-3) of the default, then of the cluster, then the default's `authorize`, then the
 * cluster's; the first denial answers. The cluster's own RBAC still applies after the proxy.
 */
export interface Policy {
  /**
   * Allow only reads: `get`, `list` and `watch` of resources and their `status`, `scale`, `log`,
   * `ephemeralcontainers` and `resize` subresources, and non-resource GET and HEAD (`/api`,
   * `/version`). Nothing else: not exec, attach or port-forward even over a WebSocket `GET`, not
   * the `proxy` subresource (it reaches whatever the pod, service or node serves). Default `false`.
   */
  readOnly?: boolean;
  /** Rules that deny: any match denies, with the rule's `reason` or a default message. */
  deny?: readonly PolicyRule[];
  /** Rules that allow: when given (non-empty), a request must match one of them. */
  allow?: readonly PolicyRule[];
  /** A decision of your own, made after the rules allow the request. */
  authorize?: PolicyAuthorize;
}

/** A policy's answer. A denial's `reason` is the `403` Status message; `error` is what `authorize` threw, for the logs. */
export type PolicyDecision = { readonly allowed: true } | { readonly allowed: false; readonly reason: string; readonly error?: unknown };
