// Signing in and registering, and the favourite movies.
import { useEffect, useState } from 'preact/hooks';
import { html } from '../ui';
import { describe, t } from '../i18n';
import { api } from './state';

export function LoginPage({ next }: { next: string }) {
  const [email, setEmail] = useState('');
  const [password, setPassword] = useState('');
  const [name, setName] = useState('');
  const [newEmail, setNewEmail] = useState('');
  const [newPassword, setNewPassword] = useState('');
  const [error, setError] = useState('');
  const [busy, setBusy] = useState(false);
  const done = () => (location.hash = next && next.startsWith('#/') && !next.startsWith('#/login') ? next : '#/');
  const submit = (register: boolean) => async (e: Event) => {
    e.preventDefault();
    setBusy(true);
    setError('');
    try {
      if (register) await api.register(newEmail.trim(), newPassword, name.trim());
      else await api.login(email.trim(), password);
      done();
    } catch (err) {
      setError(describe(err));
    } finally {
      setBusy(false);
    }
  };
  const field = (label: string, type: string, value: string, set: (v: string) => void, testid: string, extra: Record<string, unknown> = {}) =>
    html`<label><span>${label}</span><input type=${type} value=${value} data-testid=${testid} required onInput=${(e: Event) => set((e.target as HTMLInputElement).value)} ...${extra} /></label>`;
  return html`
    <div class="layout">
      <form class="card" onSubmit=${submit(false)} data-testid="login-form">
        <h1>${t('login.title')}</h1>
        ${field(t('login.email'), 'email', email, setEmail, 'login-email', { autocomplete: 'username' })}
        ${field(t('login.password'), 'password', password, setPassword, 'login-password', { autocomplete: 'current-password' })}
        <button type="submit" class="primary" disabled=${busy} data-testid="login-submit">${t('login.submit')}</button>
      </form>
      <form class="card" onSubmit=${submit(true)} data-testid="register-form">
        <h2>${t('login.register_title')}</h2>
        ${field(t('login.name'), 'text', name, setName, 'register-name', { autocomplete: 'nickname', required: false })}
        ${field(t('login.email'), 'email', newEmail, setNewEmail, 'register-email', { autocomplete: 'email' })}
        ${field(`${t('login.password')} (${t('login.password_hint')})`, 'password', newPassword, setNewPassword, 'register-password', { autocomplete: 'new-password', minlength: 10 })}
        <button type="submit" class="primary" disabled=${busy} data-testid="register-submit">${t('login.register')}</button>
      </form>
    </div>
    ${error ? html`<p class="error" role="alert" data-testid="login-error">${error}</p>` : null}
  `;
}

export function FavoritesPage() {
  const [list, setList] = useState<Array<{ movie_id: string; title: string; original_title: string | null }> | null>(null);
  const [error, setError] = useState('');
  useEffect(() => {
    if (api.account) api.get<typeof list>('/v1/me/favorites').then(setList, (e) => setError(describe(e)));
  }, [api.account?.account_id]);
  if (!api.account) return html`<p class="notice">${t('show.sign_in_first')} <a href="#/login?next=%23%2Ffavorites">${t('nav.login')}</a></p>`;
  return html`
    <h1>${t('favorites.title')}</h1>
    ${error ? html`<p class="error" role="alert">${error}</p>` : null}
    ${list && list.length === 0 ? html`<p class="muted">${t('favorites.none')}</p>` : null}
    <div class="movies">
      ${list?.map((m) => html`<a class="card movie" href=${`#/movie/${m.movie_id}`}><h3>${m.title}</h3><div class="muted">${m.original_title ?? ''}</div></a>`)}
    </div>
  `;
}
