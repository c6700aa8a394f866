// Chinese and English. Each page registers its own messages; the language is chosen once
// (the browser's, or the switch) and remembered. Problems from the API are put in words here
// for both pages, by their stable `code`, never shown as raw JSON.
import { Problem } from './api';

export type Lang = 'zh' | 'en';
type Messages = Record<string, [en: string, zh: string]>;

const LANG_KEY = 'boxoffice.lang';
const messages: Messages = {};
let current: Lang = initial();
const listeners: Array<() => void> = [];

function initial(): Lang {
  const kept = localStorage.getItem(LANG_KEY);
  if (kept === 'zh' || kept === 'en') return kept;
  return navigator.language.toLowerCase().startsWith('zh') ? 'zh' : 'en';
}

export function lang(): Lang {
  return current;
}

export function locale(): string {
  return current === 'zh' ? 'zh-CN' : 'en-GB';
}

export function setLang(next: Lang): void {
  current = next;
  localStorage.setItem(LANG_KEY, next);
  document.documentElement.lang = locale();
  for (const l of listeners) l();
}

export function onLang(listener: () => void): void {
  listeners.push(listener);
}

export function register(more: Messages): void {
  Object.assign(messages, more);
}

/** The message `key` in the current language, `{name}` replaced from `vars`. */
export function t(key: string, vars: Record<string, string | number> = {}): string {
  const m = messages[key];
  const text = m ? m[current === 'en' ? 0 : 1] : key;
  return text.replace(/\{(\w+)\}/g, (_, name: string) => String(vars[name] ?? `{${name}}`));
}

register({
  'problem.network': ['The server cannot be reached. Check the connection and try again.', '无法连接服务器，请检查网络后重试。'],
  'problem.seats_unavailable': ['Someone else just took one of those seats. Please choose again.', '所选座位刚被他人选走，请重新选座。'],
  'problem.hold_expired': ['Your seats were held too long and have been released. Please choose again.', '座位锁定已超时并已释放，请重新选座。'],
  'problem.hold_released': ['These seats were released.', '这些座位已释放。'],
  'problem.hold_exists': ['You already hold seats for this show: pay for them or release them first.', '您在本场次已有锁定的座位，请先支付或释放。'],
  'problem.quota_exceeded': ['Too many requests for now. Please wait a moment and try again.', '请求过于频繁，请稍后再试。'],
  'problem.too_many_attempts': ['Too many attempts. Please wait a moment and try again.', '尝试次数过多，请稍后再试。'],
  'problem.overloaded': ['The server is busy. Please try again in a moment.', '服务器繁忙，请稍后再试。'],
  'problem.request_timeout': ['The server took too long. Please try again.', '服务器响应超时，请重试。'],
  'problem.unauthorized': ['Please sign in again.', '请重新登录。'],
  'problem.forbidden': ['Your account may not do this.', '您的账户无权进行此操作。'],
  'problem.invalid_credentials': ['Wrong email or password.', '邮箱或密码错误。'],
  'problem.email_taken': ['An account with this email exists already: sign in instead.', '该邮箱已注册，请直接登录。'],
  'problem.show_started': ['The show has started.', '场次已开始。'],
  'problem.show_cancelled': ['The show was cancelled.', '场次已取消。'],
  'problem.queue_required': ['Tickets for this show are sold through the waiting room right now.', '本场次正在排队购票中，请通过排队入口购票。'],
  'problem.promo_not_found': ['There is no such promo code.', '优惠码不存在。'],
  'problem.promo_not_applicable': ['The promo code does not apply to this show.', '优惠码不适用于本场次。'],
  'problem.promo_used_up': ['The promo code has been used up.', '优惠码已被用完。'],
  'problem.promo_customer_limit': ['You have used this promo code as often as allowed.', '您使用该优惠码的次数已达上限。'],
  'problem.order_fully_refunded': ['This order is refunded in full already.', '该订单已全额退款。'],
  'problem.waitlist_entry_exists': ['You are on the waiting list already.', '您已在候补名单中。'],
  'problem.waitlist_cannot_be_met': ['The hall cannot seat that many together.', '无法满足该候补人数。'],
  'problem.projection_lagging': ['The server is catching up. Please try again in a moment.', '数据正在同步，请稍后再试。'],
  'problem.show_overlaps': ['The hall has another show then (cleaning time included).', '该影厅在此时段已有场次（含清场时间）。'],
  'problem.validation_failed': ['Please check the form: {detail}', '请检查填写内容：{detail}'],
  'problem.other': ['Something went wrong: {title}. {detail}', '出错了：{title}。{detail}'],
});

/** A problem (or any failure) in words for a person. */
export function describe(error: unknown): string {
  if (error instanceof Problem) {
    const key = `problem.${error.code}`;
    if (messages[key]) return t(key, { detail: error.detail, title: error.title });
    return t('problem.other', { title: error.title, detail: error.detail });
  }
  return t('problem.other', { title: String(error), detail: '' });
}
