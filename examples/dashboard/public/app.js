// Plain browser code against the proxy: fetch for HTTP (lists, watch, logs) and a WebSocket for
// the terminal. Credentials come from the proxy (cluster mode) or from the HttpOnly cookie set at
// log-in (user mode): the page never sees a token after sending it once.
import { clearLogs, followLogs } from './logs.js';
import { describeAuth, explainNetworkError, explainResponse } from './messages.js';
import { watchPods } from './pods.js';
import { tryFetch } from './stream.js';
import { closeTerminal, openTerminal, terminalOpen } from './terminal.js';

const $ = (id) => document.getElementById(id);
const NO_POD = 'Select a pod in the table to follow its logs.';
const NO_TERMINAL = 'Select a pod in the table, then press Open terminal to get a shell in it.';

/** What is on screen; every change of cluster or namespace starts a new `view` (and aborts the old one). */
let view = { info: undefined, namespace: 'default', pod: '', aborter: new AbortController(), pods: undefined };
let clusters = [];

function say(text, isError = false) {
  $('message').textContent = text;
  $('message').className = isError ? 'error' : '';
}

function showError({ text, needsLogin }) {
  say(text, true);
  if (needsLogin && view.info) {
    $('login-form').hidden = false;
    $('login-form').classList.add('wanted');
    $('token').focus();
  }
}

function resetPanes() {
  clearLogs(NO_POD);
  closeTerminal(NO_TERMINAL);
}

async function loadNamespaces(info, signal) {
  const fallback = info.namespace ?? 'default';
  const res = await tryFetch(`/clusters/${encodeURIComponent(info.name)}/api/v1/namespaces`, { signal }).catch(() => undefined);
  const names = res?.ok ? ((await res.json()).items ?? []).map((ns) => ns.metadata.name) : [];
  await res?.body?.cancel().catch(() => {});
  if (!names.includes(fallback)) names.unshift(fallback);
  return { names: names.sort(), selected: fallback };
}

function showNamespace(namespace) {
  view.aborter.abort();
  view = { ...view, namespace, pod: '', aborter: new AbortController() };
  resetPanes();
  const { info, aborter } = view;
  say(`Loading the pods of "${info.name}"...`);
  view.pods = watchPods({
    cluster: info.name,
    namespace,
    signal: aborter.signal,
    selected: () => view.pod,
    onSelect: selectPod,
    onError: (why) => aborter.signal.aborted || showError(why),
    onReady: () => {
      if (aborter.signal.aborted) return;
      $('login-form').classList.remove('wanted');
      say(`Showing namespace "${namespace}" of "${info.name}"${info.needsUserToken ? ' as the user of your token' : ''}.`);
    },
  });
}

async function selectCluster(name) {
  const info = clusters.find((c) => c.name === name);
  view.aborter.abort();
  view = { info, namespace: '', pod: '', aborter: new AbortController(), pods: undefined };
  resetPanes();
  $('pods').tBodies[0].replaceChildren();
  $('auth-info').textContent = `"${info.name}" (API server ${info.serverHost}): ${describeAuth(info)}.`;
  $('login-form').hidden = !info.needsUserToken;
  $('login-form').classList.remove('wanted');
  $('login-cluster').textContent = info.name;
  $('login-hint').textContent = info.loginHint ?? '';
  const { signal } = view.aborter;
  const { names, selected } = await loadNamespaces(info, signal);
  if (signal.aborted) return;
  $('namespace').replaceChildren(...names.map((ns) => new Option(ns, ns, false, ns === selected)));
  showNamespace(selected);
}

function selectPod(name) {
  if (view.pod === name) return;
  view.pod = name;
  view.pods?.render();
  closeTerminal(`Press Open terminal for a shell in ${name}.`);
  followLogs({ cluster: view.info.name, namespace: view.namespace, pod: name, onError: showError });
}

async function logIn(event) {
  event.preventDefault();
  const cluster = view.info.name;
  const res = await tryFetch(`/api/login/${encodeURIComponent(cluster)}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ token: $('token').value }),
  });
  if (!res) return showError(explainNetworkError());
  if (!res.ok) return showError({ text: (await res.json().catch(() => ({}))).message ?? `Logging in failed (${res.status}).`, needsLogin: true });
  $('token').value = '';
  await selectCluster(cluster);
}

async function logOut() {
  const cluster = view.info.name;
  await tryFetch(`/api/logout/${encodeURIComponent(cluster)}`, { method: 'POST' });
  await selectCluster(cluster);
}

function toggleTerminal(event) {
  event.preventDefault();
  if (terminalOpen()) return closeTerminal(`Press Open terminal for a shell in ${view.pod}.`);
  if (!view.pod) return closeTerminal(NO_TERMINAL);
  openTerminal({ cluster: view.info.name, namespace: view.namespace, pod: view.pod, command: $('command').value || 'sh', onError: showError });
}

async function start() {
  $('where').textContent = location.host;
  resetPanes();
  const res = await tryFetch('/api/clusters');
  if (!res) return showError(explainNetworkError());
  if (!res.ok) return showError(await explainResponse(res, 'dashboard'));
  clusters = await res.json();
  if (clusters.length === 0) return say('This dashboard has no clusters. Start it with a kubeconfig that has contexts (npm start -- --kubeconfig <file>).', true);
  $('cluster').replaceChildren(...clusters.map((c) => new Option(`${c.name}: ${describeAuth(c)}`, c.name)));
  $('cluster').onchange = () => selectCluster($('cluster').value);
  $('namespace').onchange = () => showNamespace($('namespace').value);
  $('login-form').onsubmit = logIn;
  $('logout').onclick = logOut;
  $('exec-form').onsubmit = toggleTerminal;
  await selectCluster(clusters[0].name);
}

start().catch((error) => showError({ text: `The page failed to start: ${error.message}` }));
