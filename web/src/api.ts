// The one way both pages talk to the server: the public HTTP API, with the signed-in
// account's bearer token, a refresh when it runs out, and problems (RFC 9457) turned into a
// `Problem` the page can put in words.

export type Money = { amount_minor: number; currency: string };

export type Account = {
  account_id: string;
  email: string;
  display_name: string | null;
  roles: string[];
};

export type Session = {
  account: Account;
  access_token: string;
  refresh_token: string;
  expires_in: number;
};

/** A problem answer, or a failure to reach the server at all (status 0). */
export class Problem extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    readonly title: string,
    readonly detail: string,
    readonly body: Record<string, unknown> = {},
  ) {
    super(detail || title);
  }
}

type Options = { body?: unknown; headers?: Record<string, string>; signal?: AbortSignal };

/** A client whose session is kept in localStorage under `storageKey` (the booking app and
 * the dashboard keep theirs apart, so a manager can be signed in to both as different people). */
export class Api {
  private session: Session | null;
  private refreshing: Promise<boolean> | null = null;
  private listeners: Array<() => void> = [];

  constructor(private readonly storageKey: string) {
    this.session = readSession(storageKey);
    // Another tab signed in, out, or refreshed the session: follow it (a refresh token is
    // single-use, and reusing a spent one ends every session of the account).
    window.addEventListener('storage', (e) => {
      if (e.key !== storageKey) return;
      this.session = readSession(storageKey);
      for (const listener of this.listeners) listener();
    });
  }

  get account(): Account | null {
    return this.session?.account ?? null;
  }

  hasRole(...roles: string[]): boolean {
    return roles.some((r) => this.session?.account.roles.includes(r));
  }

  onChange(listener: () => void): void {
    this.listeners.push(listener);
  }

  async login(email: string, password: string): Promise<Account> {
    return this.start(await this.send<Session>('POST', '/v1/auth/login', { body: { email, password } }, false));
  }

  async register(email: string, password: string, display_name: string): Promise<Account> {
    const body = { email, password, display_name: display_name || undefined };
    return this.start(await this.send<Session>('POST', '/v1/auth/register', { body }, false));
  }

  logout(): void {
    this.keep(null);
  }

  get<T>(path: string, options: Options = {}): Promise<T> {
    return this.send<T>('GET', path, options);
  }

  post<T>(path: string, body?: unknown, options: Options = {}): Promise<T> {
    return this.send<T>('POST', path, { ...options, body });
  }

  put<T>(path: string, body?: unknown): Promise<T> {
    return this.send<T>('PUT', path, { body });
  }

  delete<T>(path: string): Promise<T> {
    return this.send<T>('DELETE', path, {});
  }

  private start(session: Session): Account {
    this.keep(session);
    return session.account;
  }

  private keep(session: Session | null): void {
    this.session = session;
    if (session) localStorage.setItem(this.storageKey, JSON.stringify(session));
    else localStorage.removeItem(this.storageKey);
    for (const listener of this.listeners) listener();
  }

  private async send<T>(method: string, path: string, options: Options, retry = true): Promise<T> {
    const headers: Record<string, string> = { accept: 'application/json', ...options.headers };
    if (this.session) headers.authorization = `Bearer ${this.session.access_token}`;
    if (options.body !== undefined) headers['content-type'] = 'application/json';
    // Commands carry an idempotency key: a retry after a lost answer is not a second hold.
    if (method !== 'GET' && !headers['idempotency-key']) headers['idempotency-key'] = newId();
    let response: Response;
    try {
      response = await fetch(path, {
        method,
        headers,
        body: options.body === undefined ? undefined : JSON.stringify(options.body),
        signal: options.signal,
      });
    } catch (error) {
      if ((error as Error).name === 'AbortError') throw error;
      throw new Problem(0, 'network', 'Network', String(error));
    }
    const date = Date.parse(response.headers.get('date') ?? '');
    if (!Number.isNaN(date)) clockOffset = date - Date.now();
    if (response.status === 401 && retry && this.session && (await this.refresh())) {
      return this.send<T>(method, path, options, false);
    }
    if (response.status === 204) return undefined as T;
    const text = await response.text();
    let body: unknown = null;
    try {
      body = text ? JSON.parse(text) : null;
    } catch {
      body = null;
    }
    if (!response.ok) {
      const p = (body ?? {}) as Record<string, unknown>;
      throw new Problem(
        response.status,
        String(p.code ?? `http_${response.status}`),
        String(p.title ?? response.statusText),
        String(p.detail ?? ''),
        p,
      );
    }
    return body as T;
  }

  /** Trades the refresh token for a new session, once for any number of callers; a session
   * another tab refreshed meanwhile is taken as it is. Signs out only when the server refuses
   * the refresh token, not when it cannot be reached. */
  private refresh(): Promise<boolean> {
    const stored = readSession(this.storageKey);
    if (stored && stored.access_token !== this.session?.access_token) {
      this.session = stored;
      return Promise.resolve(true);
    }
    const refresh_token = this.session?.refresh_token;
    if (!refresh_token) return Promise.resolve(false);
    this.refreshing ??= this.send<Session>('POST', '/v1/auth/refresh', { body: { refresh_token } }, false)
      .then((session) => {
        this.keep(session);
        return true;
      })
      .catch((error) => {
        if (error instanceof Problem && (error.status === 401 || error.code === 'invalid_refresh_token')) this.keep(null);
        return false;
      })
      .finally(() => {
        this.refreshing = null;
      });
    return this.refreshing;
  }
}

/** Server clock minus this device's, from the last answer's `Date` (whole seconds): hold and
 * admission deadlines are the server's, and a phone's clock may be minutes off. */
export let clockOffset = 0;

/** Now, by the server's clock. */
export function serverNow(): number {
  return Date.now() + clockOffset;
}

function readSession(key: string): Session | null {
  try {
    const raw = localStorage.getItem(key);
    return raw ? (JSON.parse(raw) as Session) : null;
  } catch {
    return null;
  }
}

/** A random UUID (crypto.randomUUID exists only on secure origins; the page may not be one). */
function newId(): string {
  const b = crypto.getRandomValues(new Uint8Array(16));
  b[6] = (b[6] & 0x0f) | 0x40;
  b[8] = (b[8] & 0x3f) | 0x80;
  const h = Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}
