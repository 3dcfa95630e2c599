import type { IncomingHttpHeaders } from 'node:http';
import { validateClusterConfig } from '../../src/clusters/cluster-config.ts';
import type { Exchange } from '../../src/pipeline/exchange.ts';
import { parseRequestInfo } from '../../src/pipeline/request-info.ts';
import type { UserInfo } from '../../src/pipeline/user.ts';

/** An exchange as the preparation step would make it, for unit tests of what comes after it. */
export function testExchange(options: {
  method?: string;
  path?: string;
  headers?: IncomingHttpHeaders;
  identity?: Exchange['identity'];
  user?: UserInfo;
  cluster?: string;
  server?: string;
  session?: string;
  upgrade?: boolean;
  streaming?: boolean;
  hasBody?: boolean;
}): Exchange {
  const method = options.method ?? 'GET';
  const path = options.path ?? '/api/v1/namespaces/default/pods';
  const name = options.cluster ?? 'prod';
  const identity = options.identity ?? { kind: 'cluster', source: 'token' };
  return {
    id: 'test-exchange',
    client: { address: '127.0.0.1', userAgent: undefined },
    cluster: validateClusterConfig({ name, server: options.server ?? 'https://prod.example:6443', credentials: { token: 't' } }, 'test'),
    identity,
    request: parseRequestInfo(method, path),
    user: options.user ?? (identity.kind === 'cluster' ? { name, groups: [], kind: 'cluster', source: 'cluster' } : { name: undefined, groups: [], kind: 'user', source: 'unknown' }),
    credentialSource: undefined,
    credential: undefined,
    method,
    path,
    pathname: path.split('?')[0]!,
    headers: options.headers ?? {},
    hasBody: options.hasBody ?? false,
    upgrade: options.upgrade ?? false,
    streaming: options.streaming ?? false,
    timeoutMs: 5_000,
    startedAt: 0,
    session: options.session,
    credentialExpiresAt: undefined,
    clientCloses: false,
    trace: undefined,
    audited: false,
  };
}
