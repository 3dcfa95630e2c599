// Turns what the proxy or a cluster answered into a sentence for a person. The proxy marks its own
// errors with the X-Kube-Cluster-Proxy-Error header (the same code is in the Status'
// details.causes[0].reason); anything else came from the cluster itself.

/** `{ text, needsLogin }` for a failed response; `needsLogin` asks the page to offer the token form. */
export async function explainResponse(res, cluster) {
  const code = res.headers.get('x-kube-cluster-proxy-error') ?? '';
  let status = {};
  try {
    status = await res.json();
  } catch {
    // Not a Status (a proxy in front of the dashboard, say): the HTTP status is all there is.
  }
  return explain(res.status, code, status.message ?? res.statusText, cluster);
}

export function explain(httpStatus, code, message, cluster) {
  const name = `"${cluster}"`;
  switch (code) {
    case 'ERR_UNAUTHENTICATED':
      return { text: `The cluster ${name} needs your own token. Enter it above and press Log in.`, needsLogin: true };
    case 'ERR_SESSION':
      return { text: `Your sign-in for ${name} has expired or is not valid. Log in again.`, needsLogin: true };
    case 'ERR_CLUSTER_NOT_FOUND':
      return { text: `The dashboard knows no cluster named ${name}. Pick another one in the list.` };
    case 'ERR_UPSTREAM_UNREACHABLE':
      return { text: `The cluster ${name} cannot be reached right now. Check that it is running, then pick it again.` };
    case 'ERR_UPSTREAM_TIMEOUT':
      return { text: `The cluster ${name} took too long to answer. Try again in a moment.` };
    case 'ERR_CREDENTIALS_UNAVAILABLE':
    case 'ERR_TOKEN_STORE_UNAVAILABLE':
      return { text: `The dashboard could not get its credentials for ${name}. Its console says why.` };
    case 'ERR_PROXY_CLOSED':
      return { text: 'The dashboard is shutting down. Reload the page once it is back.' };
    case 'ERR_ORIGIN_REJECTED':
      return { text: 'The dashboard refused this page\'s origin. Open the dashboard at the address it printed.' };
    case '':
      break;
    default:
      return { text: `The dashboard could not forward this request to ${name}: ${message}` };
  }
  // The cluster's own answer.
  if (httpStatus === 401) return { text: `The cluster ${name} did not accept your token. Enter another one and press Log in.`, needsLogin: true };
  if (httpStatus === 403) return { text: `The cluster ${name} does not allow this for your user: ${message}` };
  if (httpStatus === 404) return { text: `Not found on ${name}: ${message}` };
  return { text: `The cluster ${name} answered with an error (${httpStatus}): ${message}` };
}

/** The sentence for a fetch that got no answer at all. */
export function explainNetworkError() {
  return { text: 'The dashboard server does not answer. Is it still running? Reload the page once it is.' };
}

/** How a cluster authenticates, in words, for the cluster picker. */
export function describeAuth(info) {
  const own = info.credentialKind ? `its own ${credentialWords(info.credentialKind)}` : 'its own credentials';
  switch (info.authMode) {
    case 'cluster':
      return `no login needed: the dashboard uses ${own}`;
    case 'user':
      return info.sessionProvider ? `sign in with ${info.sessionProvider}` : 'log in with your own token';
    case 'user-then-cluster':
      return `your token if you log in, else ${own}`;
    case 'impersonate':
      return 'log in with your token; the dashboard acts as you (impersonation)';
    default:
      return info.authMode;
  }
}

function credentialWords(kind) {
  return { token: 'token', tokenFile: 'token file', clientCertificate: 'client certificate', getToken: 'token source', exec: 'credential plugin', oidc: 'OIDC login' }[kind] ?? kind;
}
