// The exec terminal: xterm.js wired to a Kubernetes exec WebSocket with a TTY. Channel 0 carries
// keystrokes, 1 the output (stderr is merged into it with a TTY), 3 the exit status, and 4 the
// terminal size, sent on open and on every resize.
import { Terminal } from '@xterm/xterm';
import { FitAddon } from '@xterm/addon-fit';
import { explainNetworkError, explainResponse } from './messages.js';
import { tryFetch } from './stream.js';

const $ = (id) => document.getElementById(id);
const STDIN = 0;
const RESIZE = 4;
const encoder = new TextEncoder();

// A pod's pseudo-terminal turns \n into \r\n; the testing kit's commands write bare \n, which this
// repairs (and leaves a real pty's \r\n as it is).
const term = new Terminal({ convertEol: true, cursorBlink: true, fontSize: 13, rows: 16 });
const fit = new FitAddon();
term.loadAddon(fit);
term.open($('terminal'));
let socket;

function frame(channel, bytes) {
  const data = new Uint8Array(bytes.length + 1);
  data[0] = channel;
  data.set(bytes, 1);
  return data;
}

function sendSize() {
  $('term-size').textContent = `${term.cols}×${term.rows}`;
  if (socket?.readyState === WebSocket.OPEN) socket.send(frame(RESIZE, encoder.encode(JSON.stringify({ Width: term.cols, Height: term.rows }))));
}
term.onResize(sendSize);
term.onData((data) => socket?.readyState === WebSocket.OPEN && socket.send(frame(STDIN, encoder.encode(data))));
new ResizeObserver(() => fit.fit()).observe($('terminal'));
fit.fit();
sendSize();

function hint(text) {
  $('terminal-hint').textContent = text;
  $('terminal-hint').hidden = !text;
}

/** Closes the session and wipes the screen, saying why it is empty. */
export function closeTerminal(reason) {
  const old = socket;
  socket = undefined;
  old?.close();
  term.reset();
  $('connect').textContent = 'Open terminal';
  hint(reason);
}

/** Opens `command` (e.g. `sh`) in `pod` with a TTY. */
export function openTerminal({ cluster, namespace, pod, command, onError }) {
  closeTerminal('');
  const params = new URLSearchParams({ stdin: 'true', stdout: 'true', stderr: 'false', tty: 'true' });
  for (const part of command.trim().split(/\s+/).filter(Boolean)) params.append('command', part);
  const path = `/clusters/${encodeURIComponent(cluster)}/api/v1/namespaces/${encodeURIComponent(namespace)}/pods/${encodeURIComponent(pod)}`;
  const ws = new WebSocket(`${location.origin.replace(/^http/, 'ws')}${path}/exec?${params}`, ['v5.channel.k8s.io', 'v4.channel.k8s.io']);
  ws.binaryType = 'arraybuffer';
  socket = ws;
  let opened = false;
  const decoder = new TextDecoder();
  hint(`Connecting to ${pod}...`);
  $('connect').textContent = 'Close terminal';
  ws.onopen = () => {
    if (socket !== ws) return;
    opened = true;
    hint('');
    sendSize();
    term.focus();
  };
  ws.onmessage = (event) => {
    if (socket !== ws) return;
    const bytes = new Uint8Array(event.data);
    if (bytes[0] === 1 || bytes[0] === 2) term.write(bytes.subarray(1));
    else if (bytes[0] === 3) {
      const status = JSON.parse(decoder.decode(bytes.subarray(1)));
      const code = status.details?.causes?.find((c) => c.reason === 'ExitCode')?.message;
      term.write(status.status === 'Success' ? '\r\n[the command exited]\r\n' : `\r\n[the command exited${code ? ` with code ${code}` : ''}: ${status.message ?? ''}]\r\n`);
    }
  };
  ws.onclose = async () => {
    if (socket !== ws) return;
    socket = undefined;
    $('connect').textContent = 'Open terminal';
    if (opened) return hint(`The terminal session in ${pod} has ended. Press Open terminal to start another.`);
    // A browser does not show why a WebSocket was refused: ask the same cluster for the pod over
    // HTTP, which answers with the reason (the proxy checks both the same way).
    const res = await tryFetch(path);
    const why = !res ? explainNetworkError() : res.ok ? { text: `The cluster "${cluster}" refused a terminal in ${pod}. Check the command "${command}".` } : await explainResponse(res, cluster);
    if (socket !== undefined) return;
    hint(`No terminal. ${why.text}`);
    onError(why);
  };
}

export function terminalOpen() {
  return socket !== undefined;
}
