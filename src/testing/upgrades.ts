import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { createWebSocketStream, WebSocketServer } from 'ws';
import { EXEC_PATH, parseExecRequest, serveApiRequest, type ApiContext } from './api-routes.ts';
import { BEARER_PROTOCOL_PREFIX, offeredProtocols, type UserInfo } from './authentication.ts';
import { negotiateChannelProtocol, SUPPORTED_PROTOCOLS } from './channel-protocol.ts';
import { attachMainProcess } from './commands.ts';
import type { ExecHandler } from './exec-context.ts';
import type { ExecRequest } from './exec-session.ts';
import type { PodRuntimes } from './pod-runtime.ts';
import { parsePortForwardRequest, PORT_FORWARD_PATH, PORT_FORWARD_PROTOCOL, serveSpdyPortForward, TUNNEL_PROTOCOL, unsupportedProtocols } from './port-forward.ts';
import { serveSpdySession, SPDY_EXEC_PROTOCOLS } from './spdy-exec.ts';
import { acceptSpdyUpgrade, negotiateStreamProtocol, SPDY_UPGRADE } from './spdy/upgrade.ts';
import { badRequest } from './status.ts';
import { BINARY_STREAM_PROTOCOLS, webSocketResponder } from './stream-sink.ts';
import { runWebSocketSession } from './websocket-exec.ts';
import { parsePortsQuery, PORT_FORWARD_CHANNEL_PROTOCOLS, serveWebSocketPortForward } from './websocket-port-forward.ts';

/** What the upgrade routes need from the running fake cluster. */
export interface UpgradeContext {
  readonly api: ApiContext;
  readonly runtimes: PodRuntimes;
  /** The exec implementation (the built-in commands unless the test gave its own). */
  readonly exec: ExecHandler;
}

/**
 * The fake's upgraded requests, after authentication: exec and attach over WebSocket (channel
 * protocol) or SPDY/3.1; port-forward over SPDY/3.1, over the WebSocket tunnel
 * (`SPDY/3.1+portforward.k8s.io`) or over the channel protocol; watch and logs over WebSocket.
 * Anything refused throws a StatusError before the upgrade completes.
 */
export class UpgradeRoutes {
  readonly #context: UpgradeContext;
  readonly #execSockets = new WebSocketServer({
    noServer: true,
    perMessageDeflate: false,
    handleProtocols: (protocols) => negotiateChannelProtocol([...protocols])?.name || false,
  });
  readonly #portForwardSockets = new WebSocketServer({
    noServer: true,
    perMessageDeflate: false,
    handleProtocols: (protocols) => PORT_FORWARD_CHANNEL_PROTOCOLS.find((protocol) => protocols.has(protocol.name))?.name ?? false,
  });
  /**
   * `SPDY/3.1+portforward.k8s.io` is not an RFC 6455 token ('/' is a separator), so ws refuses it:
   * the tunnel's upgrades go through without the header, which is echoed here instead.
   */
  readonly #tunnelSockets = new WebSocketServer({ noServer: true, perMessageDeflate: false });
  readonly #tunnelRequests = new WeakSet<IncomingMessage>();
  readonly #streamSockets = new WebSocketServer({
    noServer: true,
    perMessageDeflate: false,
    handleProtocols: (protocols) => BINARY_STREAM_PROTOCOLS.find((protocol) => protocols.has(protocol)) ?? false,
  });

  constructor(context: UpgradeContext) {
    this.#context = context;
    this.#tunnelSockets.on('headers', (headers: string[], req: IncomingMessage) => {
      if (this.#tunnelRequests.has(req)) headers.push(`Sec-WebSocket-Protocol: ${TUNNEL_PROTOCOL}`);
    });
  }

  async serve(req: IncomingMessage, socket: Duplex, head: Buffer, user: UserInfo): Promise<void> {
    const { pathname } = new URL(req.url ?? '/', 'https://fake.invalid');
    const token = (req.headers.upgrade ?? '').toLowerCase();
    if (token === SPDY_UPGRADE) {
      if (EXEC_PATH.test(pathname)) return this.#spdyExec(req, socket, head, user);
      if (PORT_FORWARD_PATH.test(pathname)) return this.#spdyPortForward(req, socket, head);
      throw badRequest('only exec, attach and portforward can be served over SPDY/3.1');
    }
    if (token !== 'websocket') {
      throw badRequest(`unsupported upgrade "${req.headers.upgrade ?? ''}": the fake cluster speaks WebSocket and SPDY/3.1`);
    }
    // kube-apiserver removes the token entry before choosing the protocol it echoes.
    const offered = offeredProtocols(req).filter((protocol) => !protocol.startsWith(BEARER_PROTOCOL_PREFIX));
    // kube-apiserver accepts these upgrades over POST too; ws only completes GET handshakes.
    if (EXEC_PATH.test(pathname)) return this.#webSocketExec(req, socket, head, user, offered);
    if (PORT_FORWARD_PATH.test(pathname)) return this.#webSocketPortForward(req, socket, head, offered);
    return this.#webSocketStream(req, socket, head, user, offered);
  }

  /** Ends every WebSocket (the fake is closing). */
  close(): void {
    for (const server of [this.#execSockets, this.#portForwardSockets, this.#tunnelSockets, this.#streamSockets]) {
      for (const ws of server.clients) ws.terminate();
    }
  }

  #handler(request: ExecRequest, attach: boolean): ExecHandler {
    const { store } = this.#context.api;
    const pod = store.get(request.namespace, request.pod);
    if (!attach || !pod) return this.#context.exec;
    const main = this.#context.runtimes.mainProcess(pod, request.container, this.#context.exec);
    return main ? (ctx) => main.attach(ctx) : attachMainProcess(request.stdin);
  }

  #files(namespace: string, name: string) {
    const pod = this.#context.api.store.get(namespace, name);
    if (!pod) throw badRequest(`pod ${name} is gone`);
    return this.#context.runtimes.get(pod).files;
  }

  #webSocketExec(req: IncomingMessage, socket: Duplex, head: Buffer, user: UserInfo, offered: readonly string[]): void {
    const { request, attach } = parseExecRequest(this.#context.api.store, req, user);
    const protocol = negotiateChannelProtocol(offered);
    if (!protocol) throw unsupportedProtocols(offered, SUPPORTED_PROTOCOLS);
    const files = this.#files(request.namespace, request.pod);
    const handler = this.#handler(request, attach);
    req.method = 'GET';
    this.#execSockets.handleUpgrade(req, socket, head, (ws) => {
      const release = this.#context.api.streams.open(attach ? 'attach' : 'exec', () => ws.terminate());
      ws.once('close', release);
      runWebSocketSession(ws, protocol, request, files, handler).catch(() => ws.terminate());
    });
  }

  #spdyExec(req: IncomingMessage, socket: Duplex, head: Buffer, user: UserInfo): void {
    const { request, attach } = parseExecRequest(this.#context.api.store, req, user);
    const protocol = negotiateStreamProtocol(req, Object.keys(SPDY_EXEC_PROTOCOLS));
    const files = this.#files(request.namespace, request.pod);
    const handler = this.#handler(request, attach);
    acceptSpdyUpgrade(socket, protocol);
    const session = serveSpdySession(socket, head, SPDY_EXEC_PROTOCOLS[protocol] ?? 4, request, files, handler);
    const release = this.#context.api.streams.open(attach ? 'attach' : 'exec', () => session.close());
    void session.done.then(release, release);
  }

  #spdyPortForward(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    const pod = parsePortForwardRequest(this.#context.api.store, req);
    const protocol = negotiateStreamProtocol(req, [PORT_FORWARD_PROTOCOL]);
    acceptSpdyUpgrade(socket, protocol);
    const { done } = serveSpdyPortForward(socket, head, pod, () => this.#context.runtimes.get(pod).ports);
    const release = this.#context.api.streams.open('portforward', () => socket.destroy());
    void done.then(release);
  }

  #webSocketPortForward(req: IncomingMessage, socket: Duplex, head: Buffer, offered: readonly string[]): void {
    const pod = parsePortForwardRequest(this.#context.api.store, req);
    const runtimes = this.#context.runtimes;
    const streams = this.#context.api.streams;
    req.method = 'GET';
    if (offered.includes(TUNNEL_PROTOCOL)) {
      // A view of the request without the header; the request log keeps it as received.
      const withoutProtocol = Object.create(req, { headers: { value: { ...req.headers, 'sec-websocket-protocol': undefined } } }) as IncomingMessage;
      this.#tunnelRequests.add(withoutProtocol);
      this.#tunnelSockets.handleUpgrade(withoutProtocol, socket, head, (ws) => {
        const release = streams.open('portforward', () => ws.terminate());
        ws.once('close', release);
        serveSpdyPortForward(createWebSocketStream(ws), Buffer.alloc(0), pod, () => runtimes.get(pod).ports);
      });
      return;
    }
    const protocol = offered.length === 0 ? { name: '', version: 4 as const, base64: false } : PORT_FORWARD_CHANNEL_PROTOCOLS.find((candidate) => offered.includes(candidate.name));
    if (!protocol) throw unsupportedProtocols(offered, [TUNNEL_PROTOCOL, ...PORT_FORWARD_CHANNEL_PROTOCOLS.map((candidate) => candidate.name)]);
    const ports = parsePortsQuery(new URL(req.url ?? '/', 'https://fake.invalid').searchParams);
    this.#portForwardSockets.handleUpgrade(req, socket, head, (ws) => {
      const release = streams.open('portforward', () => ws.terminate());
      ws.once('close', release);
      void serveWebSocketPortForward(ws, protocol, ports, pod, runtimes.get(pod).ports);
    });
  }

  /** Watch and log requests over WebSocket, as browser dashboards make them. */
  async #webSocketStream(req: IncomingMessage, socket: Duplex, head: Buffer, user: UserInfo, offered: readonly string[]): Promise<void> {
    const protocol = offered.length === 0 ? '' : BINARY_STREAM_PROTOCOLS.find((supported) => offered.includes(supported));
    if (protocol === undefined) throw unsupportedProtocols(offered, BINARY_STREAM_PROTOCOLS);
    const responder = webSocketResponder(this.#streamSockets, { req, socket, head }, protocol, () => {
      throw badRequest('only watch and log requests can be served over WebSocket');
    });
    await serveApiRequest(this.#context.api, req, responder, user);
  }
}
