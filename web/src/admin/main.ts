// The box-office dashboard at /admin: staff keep the catalogue and the schedule and watch
// today's shows fill; analysts (and staff) read the box office and the projections' lag.
// A client of the public API like any other, signed in under a session of its own.
import '../style.css';
import './admin.css';
import './messages';
import { render } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { html } from '../ui';
import { lang, locale, onLang, setLang, t } from '../i18n';
import { api, isAnalyst, isStaff } from './lib';
import { Failure, Field } from './widgets';
import { CatalogueTab } from './catalogue';
import { ScheduleTab } from './schedule';
import { TodayTab } from './today';
import { ReportsTab } from './reports';

type Tab = 'catalogue' | 'schedule' | 'today' | 'reports';

function tabsFor(): Tab[] {
  const tabs: Tab[] = [];
  if (isStaff()) tabs.push('catalogue', 'schedule', 'today');
  if (isAnalyst()) tabs.push('reports');
  return tabs;
}

function fromHash(): string {
  return location.hash.replace(/^#\/?/, '');
}

function SignIn() {
  const [email, setEmail] = useState('');
  const [password, setPassword] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const submit = async (e: Event) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      await api.login(email.trim(), password);
    } catch (failure) {
      setError(failure);
      setBusy(false);
    }
  };
  return html`<form class="card signin" onSubmit=${submit} data-testid="signin-form">
    <h1>${t('admin.signin.title')}</h1>
    <p class="muted">${t('admin.signin.who')}</p>
    <${Field} label=${t('admin.signin.email')}>
      <input type="email" autocomplete="username" required value=${email} onInput=${(e: Event) => setEmail((e.currentTarget as HTMLInputElement).value)} data-testid="signin-email" />
    <//>
    <${Field} label=${t('admin.signin.password')}>
      <input type="password" autocomplete="current-password" required value=${password} onInput=${(e: Event) => setPassword((e.currentTarget as HTMLInputElement).value)} data-testid="signin-password" />
    <//>
    <button class="primary" disabled=${busy} data-testid="signin-submit">${t('admin.signin.submit')}</button>
    <${Failure} error=${error} testid="signin-error" />
  </form>`;
}

function Header() {
  const account = api.account;
  return html`<header class="top">
    <a class="brand" href="/admin">${t('admin.brand')}</a>
    <nav>
      ${account && html`<span class="muted" data-testid="signed-in-as">${account.display_name || account.email}</span>`}
      <button
        type="button"
        onClick=${() => setLang(lang() === 'zh' ? 'en' : 'zh')}
        lang=${lang() === 'zh' ? 'en' : 'zh-CN'}
        data-testid="lang-switch"
        aria-label=${t('admin.lang.label')}
      >
        ${lang() === 'zh' ? 'English' : '中文'}
      </button>
      ${account && html`<button type="button" onClick=${() => api.logout()} data-testid="signout">${t('admin.signout')}</button>`}
    </nav>
  </header>`;
}

function Dashboard() {
  const tabs = tabsFor();
  const [tab, setTab] = useState<Tab>(() => {
    const wanted = fromHash() as Tab;
    return tabs.includes(wanted) ? wanted : tabs[0];
  });
  // Creations in the catalogue tab make the other tabs' lists ask again.
  const [version, setVersion] = useState(0);
  useEffect(() => {
    const follow = () => {
      const wanted = fromHash() as Tab;
      if (tabs.includes(wanted)) setTab(wanted);
    };
    addEventListener('hashchange', follow);
    return () => removeEventListener('hashchange', follow);
  }, [tabs.join()]);
  const current = tabs.includes(tab) ? tab : tabs[0];

  if (!current) {
    return html`<div class="card" data-testid="no-access">
      <h1>${t('admin.noaccess.title')}</h1>
      <p>${t('admin.noaccess.text')}</p>
      <p><a href="/">${t('admin.noaccess.booking')}</a></p>
    </div>`;
  }
  const choose = (next: Tab) => {
    setTab(next);
    history.replaceState(null, '', `#${next}`);
  };
  return html`
    <nav class="tabs admin-tabs" aria-label=${t('admin.tabs')}>
      ${tabs.map(
        (name) => html`<button type="button" key=${name} aria-pressed=${name === current ? 'true' : 'false'} onClick=${() => choose(name)} data-testid=${`tab-button-${name}`}>
          ${t(`admin.tab.${name}`)}
        </button>`,
      )}
    </nav>
    ${current === 'catalogue' && html`<${CatalogueTab} version=${version} bump=${() => setVersion((v) => v + 1)} />`}
    ${current === 'schedule' && html`<${ScheduleTab} version=${version} />`}
    ${current === 'today' && html`<${TodayTab} version=${version} />`}
    ${current === 'reports' && html`<${ReportsTab} />`}
  `;
}

function App() {
  const account = api.account;
  useEffect(() => {
    document.title = t('admin.page_title');
  });
  return html`
    <${Header} />
    <main class="admin">${account ? html`<${Dashboard} key=${account.account_id} />` : html`<${SignIn} />`}</main>
  `;
}

const root = document.getElementById('app')!;
const draw = () => render(html`<${App} />`, root);
document.documentElement.lang = locale();
onLang(draw);
api.onChange(draw);
draw();
