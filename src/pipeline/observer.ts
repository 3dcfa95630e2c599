import type { Duplex } from 'node:stream';
import type { ForwardObserver } from '../forward/observer.ts';
import type { HookEmitter, ProxyEvent } from '../hooks.ts';
import type { SessionTokenSource } from '../sessions/session-token-source.ts';
import type { Answers } from './answer.ts';
import type { Exchange } from './exchange.ts';
import { tapUpgrade, type UpgradeTap } from './upgrade-tap.ts';

/** What hooks learn of an exchange: never a token, a cookie or the query string. */
export function describeExchange(exchange: Exchange): ProxyEvent {
  return {
    cluster: exchange.cluster.name,
    identity: exchange.identity,
    method: exchange.method,
    path: exchange.pathname,
    upgrade: exchange.upgrade,
    request: exchange.request,
    user: exchange.user,
  };
}

/** What the forwarders' observer needs from the proxy. */
export interface ObserverDependencies {
  emitter: HookEmitter;
  answers: Answers;
  sessions: SessionTokenSource | undefined;
  now: () => number;
}

/**
 * The observer every forwarder reports through, and the upgraded connections it saw open: hooks,
 * the cluster's `401` fed back to the credential source that was refused, sessions told of the
 * connections tied to them, and failures answered by the one error mapper.
 */
export function createForwardObserver(deps: ObserverDependencies) {
  const { emitter, now } = deps;
  const { auditor } = deps.answers;
  const upgraded = new Set<Duplex>();
  // What the audit event of each open upgrade needs at its close; only kept when someone audits.
  const taps = new Map<Duplex, UpgradeTap>();
  const observer: ForwardObserver = {
    response(exchange, statusCode) {
      // Only while it is still the credential the cluster refused: a late 401 for a rotated token keeps its successor.
      if (statusCode === 401 && exchange.credential) exchange.credentialSource?.rejected(exchange.credential);
      if (emitter.has('proxyRes')) emitter.emit('proxyRes', { ...describeExchange(exchange), statusCode, durationMs: now() - exchange.startedAt });
      auditor.answered(exchange, statusCode);
    },
    opened(exchange, socket, protocol, upstream) {
      upgraded.add(socket);
      if (emitter.has('audit') || exchange.cluster.recordSessions) taps.set(socket, tapUpgrade(exchange, socket, upstream, protocol, now));
      if (exchange.session !== undefined) deps.sessions?.track(exchange.session, socket);
      if (emitter.has('upgrade')) emitter.emit('upgrade', { ...describeExchange(exchange), phase: 'open', protocol, durationMs: 0 });
    },
    closed(exchange, socket) {
      upgraded.delete(socket);
      const counted = taps.get(socket);
      if (counted) {
        taps.delete(socket);
        auditor.closed(exchange, { ...counted, cause: counted.cause ?? 'error', recording: counted.recorder?.finish() });
      }
      if (emitter.has('upgrade')) emitter.emit('upgrade', { ...describeExchange(exchange), phase: 'close', protocol: undefined, durationMs: now() - exchange.startedAt });
    },
    failure(exchange, error, client) {
      deps.answers.fail(error, { method: exchange.method, upgrade: exchange.upgrade, exchange }, client);
    },
  };
  return {
    observer,
    /** Closes every upgraded connection (the proxy is closing). */
    closeUpgraded: (): void => {
      for (const socket of upgraded) {
        const counted = taps.get(socket);
        if (counted) counted.cause ??= 'proxy-shutdown';
        socket.destroy();
      }
      upgraded.clear();
    },
  };
}
