import type { Duplex } from 'node:stream';
import type { ForwardObserver } from '../forward/observer.ts';
import type { HookEmitter, ProxyEvent } from '../hooks.ts';
import { kindOfUpgrade, type Connections } from '../lifecycle/connections.ts';
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
  connections: Connections;
}

/**
 * The observer every forwarder reports through, and the upgraded connections it saw open: hooks,
 * the cluster's `401` fed back to the credential source that was refused, sessions told of the
 * connections tied to them (upgrades and HTTP streams alike, which they end on logout), and
 * failures answered by the one error mapper.
 */
export function createForwardObserver(deps: ObserverDependencies) {
  const { emitter, now, connections } = deps;
  const { auditor } = deps.answers;
  // What the audit event of each open upgrade needs at its close; only kept when someone audits or records.
  const taps = new Map<Duplex, UpgradeTap>();
  const observer: ForwardObserver = {
    response(exchange, statusCode) {
      exchange.trace?.upstreamAnswered(statusCode);
      // Only while it is still the credential the cluster refused: a late 401 for a rotated token keeps its successor.
      if (statusCode === 401 && exchange.credential) exchange.credentialSource?.rejected(exchange.credential);
      if (emitter.has('proxyRes')) emitter.emit('proxyRes', { ...describeExchange(exchange), statusCode, durationMs: now() - exchange.startedAt });
      auditor.answered(exchange, statusCode);
    },
    opened(exchange, socket, protocol, upstream, heads) {
      exchange.trace?.upstreamAnswered(101);
      connections.opened(socket, { exchange, kind: kindOfUpgrade(exchange), end: () => socket.destroy() });
      if (emitter.has('audit') || exchange.cluster.recordSessions) taps.set(socket, tapUpgrade(exchange, { socket, upstream, heads }, protocol, now));
      if (exchange.session !== undefined) {
        deps.sessions?.track(exchange.session, { end: (reason) => connections.end(socket, reason), onClose: (listener) => socket.once('close', listener) });
      }
      if (emitter.has('upgrade')) emitter.emit('upgrade', { ...describeExchange(exchange), phase: 'open', protocol, durationMs: 0, reason: undefined });
    },
    closed(exchange, socket, by) {
      const tap = taps.get(socket);
      taps.delete(socket);
      // The side that sent the first WebSocket close frame ended it, whichever TCP end came first.
      const reason = connections.closed(socket, tap?.by ?? by);
      if (tap) auditor.closed(exchange, { protocol: tap.protocol, bytesIn: tap.bytesIn, bytesOut: tap.bytesOut, reason, recording: tap.recorder?.finish() });
      if (emitter.has('upgrade')) emitter.emit('upgrade', { ...describeExchange(exchange), phase: 'close', protocol: undefined, durationMs: now() - exchange.startedAt, reason });
    },
    streamStarted(exchange, response, end) {
      connections.opened(response, { exchange, kind: 'stream', end });
      if (exchange.session !== undefined) {
        deps.sessions?.track(exchange.session, { end: (reason) => connections.end(response, reason), onClose: (listener) => response.once('close', listener) });
      }
      response.once('close', () => {
        // Finished without the proxy ending it: the cluster ended the stream; cut short: the client left.
        const reason = connections.closed(response, response.writableFinished ? 'cluster' : 'client');
        if (emitter.has('streamEnd')) emitter.emit('streamEnd', { ...describeExchange(exchange), durationMs: now() - exchange.startedAt, reason });
      });
    },
    failure(exchange, error, client) {
      const answered = deps.answers.fail(error, { method: exchange.method, upgrade: exchange.upgrade, exchange }, client);
      exchange.trace?.answered(answered);
    },
  };
  return observer;
}
