import type { IncomingMessage } from 'node:http';
import type { ValidatedCluster } from '../clusters/cluster-config.ts';
import type { RequestUpstream } from '../forward/upstream-request.ts';
import type { Logger } from '../hooks.ts';
import type { ReviewCache, ReviewOutcome } from './review-cache.ts';

/** Where kube-apiserver (1.28+, beta since 1.27) says who a token is. */
export const SELF_SUBJECT_REVIEW_PATH = '/apis/authentication.k8s.io/v1/selfsubjectreviews';

/**
 * How long the cluster's answer about a token is kept, in milliseconds: a changed group membership
 * or a revoked token shows in events and policy within this time (the cluster itself refuses a
 * revoked token at once).
 */
export const IDENTIFY_TTL_MS = 60_000;

/** Most answers kept per cluster; the least recently used goes beyond it. */
export const IDENTIFY_MAX_ENTRIES = 10_000;

/** How long one review may take, headers and body, in milliseconds; the request then goes on with the user unknown. */
export const REVIEW_TIMEOUT_MS = 10_000;

/** Largest review answer read, in bytes: a user with thousands of groups fits, a runaway body does not. */
const MAX_REVIEW_BODY = 256 * 1024;

const REVIEW_BODY = JSON.stringify({ apiVersion: 'authentication.k8s.io/v1', kind: 'SelfSubjectReview' });

/** Who the cluster said a token is. */
export interface ReviewedUser {
  readonly name: string;
  readonly groups: readonly string[];
}

/** Asks the cluster who a user token is; `undefined` when it cannot tell (or refused the token). Never throws. */
export type SelfSubjectReviewer = (token: string) => Promise<ReviewedUser | undefined>;

const isObject = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);

/** Reads a `SelfSubjectReview`'s `status.userInfo`; a body of any other shape tells nothing. Pure. */
export function parseSelfSubjectReview(body: string): ReviewOutcome {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch {
    return { kind: 'unknown', lasting: false };
  }
  const status = isObject(parsed) && parsed.kind === 'SelfSubjectReview' ? parsed.status : undefined;
  const userInfo = isObject(status) ? status.userInfo : undefined;
  if (!isObject(userInfo) || typeof userInfo.username !== 'string' || userInfo.username === '') return { kind: 'unknown', lasting: false };
  const groups = Array.isArray(userInfo.groups) ? userInfo.groups.filter((group): group is string => typeof group === 'string') : [];
  return { kind: 'user', name: userInfo.username, groups };
}

/** What a response that is not the review says about the token. Pure. */
export function outcomeOfStatus(statusCode: number): ReviewOutcome {
  if (statusCode === 401) return { kind: 'refused' };
  // Forbidden to create reviews, or no such API: the same answer until the TTL is over.
  return { kind: 'unknown', lasting: statusCode === 403 || statusCode === 404 };
}

async function readBounded(response: IncomingMessage, max: number): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of response as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > max) {
      response.destroy();
      throw new Error(`the review answer is larger than ${max} bytes`);
    }
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString('utf8');
}

const WHY: Record<number, string> = {
  403: 'the users may not create selfsubjectreviews (RBAC: grant create on selfsubjectreviews.authentication.k8s.io, as system:basic-user does)',
  404: 'the cluster has no SelfSubjectReview API (Kubernetes 1.28 or later serves it)',
};

/**
 * `identify: 'self-subject-review'`: asks the cluster who a user token is, with that token, over
 * the route the request takes. Answers are cached per token (see {@link ReviewCache}). A review
 * that fails leaves the user unknown; the request goes on, and the cluster answers it.
 */
export function createSelfSubjectReviewer(cluster: ValidatedCluster, request: RequestUpstream, cache: ReviewCache, logger: Logger): SelfSubjectReviewer {
  let warned = false;

  async function review(token: string): Promise<ReviewOutcome> {
    const response = await request({
      method: 'POST',
      path: SELF_SUBJECT_REVIEW_PATH,
      headers: { host: cluster.server.host, authorization: `Bearer ${token}`, 'content-type': 'application/json', accept: 'application/json' },
      body: REVIEW_BODY,
      timeoutMs: REVIEW_TIMEOUT_MS,
      signal: AbortSignal.timeout(REVIEW_TIMEOUT_MS),
    });
    const statusCode = response.statusCode ?? 0;
    if (statusCode === 200 || statusCode === 201) return parseSelfSubjectReview(await readBounded(response, MAX_REVIEW_BODY));
    response.resume();
    const outcome = outcomeOfStatus(statusCode);
    if (outcome.kind === 'unknown' && outcome.lasting && !warned) {
      warned = true;
      logger.warn(`kube-cluster-proxy: cluster "${cluster.name}" has identify 'self-subject-review', but its review answered ${statusCode}: ${WHY[statusCode] ?? ''}; users stay unknown`);
    }
    return outcome;
  }

  return async (token) => {
    const outcome = await cache.lookup(token, () => review(token));
    return outcome.kind === 'user' ? { name: outcome.name, groups: outcome.groups } : undefined;
  };
}
