/**
 * A browser's part in an OAuth login, for tests: follows redirects across sites, keeps cookies per
 * host (honouring Max-Age=0 deletions), and submits oidc-provider's development login and consent
 * forms. No JavaScript, no page rendering: the flow is all redirects and forms.
 */
export class Browser {
  readonly cookies = new Map<string, Map<string, string>>();

  cookieHeader(url: string): string {
    return [...(this.cookies.get(new URL(url).host) ?? new Map<string, string>())].map(([k, v]) => `${k}=${v}`).join('; ');
  }

  take(url: string, response: Response): void {
    const host = new URL(url).host;
    const jar = this.cookies.get(host) ?? new Map<string, string>();
    for (const cookie of response.headers.getSetCookie()) {
      const [pair = ''] = cookie.split(';');
      const eq = pair.indexOf('=');
      if (/max-age=0/i.test(cookie)) jar.delete(pair.slice(0, eq));
      else jar.set(pair.slice(0, eq), pair.slice(eq + 1));
    }
    this.cookies.set(host, jar);
  }

  /** One request with this browser's cookies; no redirect followed. */
  async fetch(url: string, init: { method?: string; form?: Record<string, string>; headers?: Record<string, string> } = {}): Promise<Response> {
    const response = await fetch(url, {
      method: init.method ?? (init.form ? 'POST' : 'GET'),
      redirect: 'manual',
      headers: {
        cookie: this.cookieHeader(url),
        ...(init.form ? { 'content-type': 'application/x-www-form-urlencoded' } : {}),
        ...init.headers,
      },
      ...(init.form ? { body: new URLSearchParams(init.form) } : {}),
    });
    this.take(url, response);
    return response;
  }

  /**
   * Logs `user` in from `loginUrl` (the dashboard's `/auth/login?...`): follows the redirects to the
   * provider, fills its login and consent forms, and stops at the first redirect back into the
   * dashboard after the callback. Returns the dashboard callback URL it went through and where it landed.
   */
  async login(loginUrl: string, user: string, options: { stopAtCallback?: boolean } = {}): Promise<{ callbackUrl: string; landedAt: string; callbackStatus: number }> {
    const dashboard = new URL(loginUrl).host;
    let url = loginUrl;
    let callbackUrl = '';
    // oidc-provider's development interactions: first the login form, then the consent form.
    const prompts = ['login', 'consent'];
    for (let step = 0; step < 20; step++) {
      const onProvider = new URL(url).host !== dashboard;
      const isForm = onProvider && /\/interaction\//.test(new URL(url).pathname);
      if (!onProvider && new URL(url).pathname.endsWith('/callback')) {
        callbackUrl = url;
        if (options.stopAtCallback) return { callbackUrl, landedAt: url, callbackStatus: 0 };
      }
      const response = isForm ? await this.fetch(url, { form: { prompt: prompts.shift() ?? 'consent', login: user, password: 'any' } }) : await this.fetch(url);
      await response.body?.cancel();
      const location = response.headers.get('location');
      if (callbackUrl && url === callbackUrl) {
        return { callbackUrl, landedAt: location ? new URL(location, url).href : url, callbackStatus: response.status };
      }
      if (!location) throw new Error(`login of ${user}: ${url} answered ${response.status} without a redirect`);
      url = new URL(location, url).href;
    }
    throw new Error(`login of ${user}: too many redirects`);
  }
}
