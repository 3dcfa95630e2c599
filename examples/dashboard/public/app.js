// Plain browser code against the proxy: fetch for HTTP (list, watch, logs) and a WebSocket for
// exec. Credentials come from the proxy (cluster mode) or from the HttpOnly cookie set at log-in
// (user mode): the page never sees a token after sending it once.
const $ = (id) => document.getElementById(id);
let cluster = '';
let namespace = 'default';
let selectedPod = '';
let aborter = new AbortController();

function status(text, isError = false) {
  $('status').textContent = text;
  $('status').className = isError ? 'error' : '';
}

async function describeFailure(res) {
  try {
    const body = await res.json();
    return `${res.status}: ${body.message ?? res.statusText}`;
  } catch {
    return `${res.status} ${res.statusText}`;
  }
}

async function readLines(res, onLine, signal) {
  const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = '';
  while (!signal.aborted) {
    const { value, done } = await reader.read();
    if (done) break;
    buffer += value;
    let nl;
    while ((nl = buffer.indexOf('\n')) >= 0) {
      onLine(buffer.slice(0, nl));
      buffer = buffer.slice(nl + 1);
    }
  }
}

const pods = new Map();
function renderPods() {
  const body = $('pods').tBodies[0];
  body.replaceChildren(
    ...[...pods.values()].map((pod) => {
      const row = document.createElement('tr');
      row.className = pod.metadata.name === selectedPod ? 'selected' : '';
      for (const text of [pod.metadata.name, pod.status?.phase ?? '', pod.spec?.nodeName ?? '']) {
        const cell = document.createElement('td');
        cell.textContent = text;
        row.append(cell);
      }
      row.onclick = () => selectPod(pod.metadata.name);
      return row;
    }),
  );
}

async function watchPods(signal) {
  pods.clear();
  renderPods();
  const res = await fetch(`/clusters/${cluster}/api/v1/namespaces/${namespace}/pods?watch=1`, { signal });
  if (!res.ok) return status(await describeFailure(res), true);
  status(`watching pods of ${cluster}`);
  await readLines(res, (line) => {
    const event = JSON.parse(line);
    if (event.type === 'DELETED') pods.delete(event.object.metadata.name);
    else if (event.type === 'ADDED' || event.type === 'MODIFIED') pods.set(event.object.metadata.name, event.object);
    renderPods();
  }, signal);
}

async function followLogs(pod, signal) {
  $('logs').textContent = '';
  $('log-pod').textContent = pod;
  const res = await fetch(`/clusters/${cluster}/api/v1/namespaces/${namespace}/pods/${pod}/log?follow=true&tailLines=50`, { signal });
  if (!res.ok) return ($('logs').textContent = await describeFailure(res));
  await readLines(res, (line) => ($('logs').textContent += `${line}\n`), signal);
}

function selectPod(name) {
  selectedPod = name;
  renderPods();
  followLogs(name, aborter.signal).catch(() => {});
}

function runExec(command) {
  if (!selectedPod) return ($('exec').textContent = 'select a pod first');
  const params = new URLSearchParams({ stdout: 'true', stderr: 'true' });
  for (const part of command.trim().split(/\s+/)) params.append('command', part);
  const url = `${location.origin.replace(/^http/, 'ws')}/clusters/${cluster}/api/v1/namespaces/${namespace}/pods/${selectedPod}/exec?${params}`;
  const ws = new WebSocket(url, ['v4.channel.k8s.io']);
  ws.binaryType = 'arraybuffer';
  $('exec').textContent = `$ ${command}\n`;
  const decoder = new TextDecoder();
  ws.onmessage = (event) => {
    const bytes = new Uint8Array(event.data);
    const text = decoder.decode(bytes.subarray(1));
    if (bytes[0] === 3) {
      const result = JSON.parse(text);
      $('exec').textContent += result.status === 'Success' ? '\n[exit 0]' : `\n[${result.message}]`;
    } else {
      $('exec').textContent += text;
    }
  };
  ws.onerror = () => ($('exec').textContent += '\n[the WebSocket was refused: log in to this cluster?]');
}

async function selectCluster(name, list) {
  aborter.abort();
  aborter = new AbortController();
  cluster = name;
  selectedPod = '';
  const entry = list.find((c) => c.name === name);
  namespace = entry?.namespace ?? 'default';
  $('auth').hidden = entry?.authMode === 'cluster';
  watchPods(aborter.signal).catch((error) => error.name !== 'AbortError' && status(String(error), true));
}

const list = await (await fetch('/api/clusters')).json();
for (const c of list) $('cluster').append(new Option(`${c.name} (${c.authMode} credentials)`, c.name));
$('cluster').onchange = () => selectCluster($('cluster').value, list);
$('login').onclick = async () => {
  await fetch(`/api/login/${cluster}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ token: $('token').value }) });
  selectCluster(cluster, list);
};
$('logout').onclick = async () => {
  await fetch(`/api/logout/${cluster}`, { method: 'POST' });
  selectCluster(cluster, list);
};
$('exec-form').onsubmit = (event) => {
  event.preventDefault();
  runExec($('command').value);
};
selectCluster(list[0].name, list);
