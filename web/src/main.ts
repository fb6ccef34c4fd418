// The app shell: a history-API router over the pages. Every page renders from the
// node's API on this origin; private requests go to the relay only.

import './style.css';

import { h, link, notice } from './dom';
import { chatPage } from './pages/chat';
import { dataTask, dataTasks } from './pages/data';
import * as explorer from './pages/explorer';
import { privacyPage } from './pages/privacy';
import { settingsPage } from './pages/settings';
import { walletPage } from './pages/wallet';
import { leave } from './leave';
import { adoptQueryRelay, savedRelay } from './settings';

const main = document.getElementById('main')!;

type Page = (m: RegExpMatchArray, q: URLSearchParams) => Promise<HTMLElement> | HTMLElement;
const routes: [RegExp, Page, string][] = [
  [/^\/$/, () => explorer.home(), 'Explorer'],
  [/^\/blocks$/, () => explorer.blocks(), 'Blocks'],
  [/^\/blocks\/([^/]+)$/, (m) => explorer.block(decodeURIComponent(m[1])), 'Block'],
  [/^\/tx\/([^/]+)$/, (m) => explorer.tx(decodeURIComponent(m[1])), 'Transaction'],
  [/^\/accounts\/([^/]+)$/, (m) => explorer.account(decodeURIComponent(m[1])), 'Account'],
  [/^\/subnets$/, () => explorer.subnets(), 'Subnets'],
  [/^\/subnets\/(\d+)$/, (m) => explorer.subnet(m[1]), 'Subnet'],
  [/^\/wallet$/, () => walletPage(render), 'Wallet'],
  [/^\/chat$/, (_m, q) => chatPage(q), 'Chat'],
  [/^\/data$/, () => dataTasks(), 'Data market'],
  [/^\/data\/(\d+)$/, (m) => dataTask(m[1]), 'Data task'],
  [/^\/privacy$/, () => privacyPage(), 'Privacy'],
  [/^\/settings$/, () => settingsPage(), 'Settings'],
];

let generation = 0;
async function render(): Promise<void> {
  const mine = ++generation;
  leave();
  const path = location.pathname.replace(/\/+$/, '') || '/';
  const q = new URLSearchParams(location.search);
  for (const a of document.querySelectorAll<HTMLAnchorElement>('#nav a')) {
    const here = a.getAttribute('href') === '/' ? path === '/' : path.startsWith(a.getAttribute('href')!);
    if (here) a.setAttribute('aria-current', 'page');
    else a.removeAttribute('aria-current');
  }
  const route = routes.find(([re]) => re.test(path));
  main.setAttribute('aria-busy', 'true');
  let page: HTMLElement;
  if (!route) {
    page = h('section', {}, h('h1', {}, 'Not found'), h('p', {}, 'No page here.'));
    document.title = 'Not found · Plexus';
  } else {
    try {
      page = await route[1](path.match(route[0])!, q);
      document.title = `${route[2]} · Plexus`;
    } catch (e) {
      page = h('section', {}, h('h1', {}, route[2]), notice('error', String(e instanceof Error ? e.message : e)));
    }
  }
  if (mine !== generation) return;
  main.replaceChildren(page);
  main.removeAttribute('aria-busy');
}

function navigate(href: string, focus = true): void {
  history.pushState(null, '', href);
  void render().then(() => {
    if (focus) main.focus({ preventScroll: false });
  });
}

document.addEventListener('click', (e) => {
  const a = (e.target as Element).closest?.('a[data-nav]') as HTMLAnchorElement | null;
  if (!a || e.ctrlKey || e.metaKey || e.shiftKey || e.button !== 0) return;
  const url = new URL(a.href);
  if (url.origin !== location.origin) return;
  e.preventDefault();
  document.querySelector('.menu')?.setAttribute('aria-expanded', 'false');
  navigate(url.pathname + url.search);
});
addEventListener('popstate', () => void render());

const menu = document.querySelector<HTMLButtonElement>('.menu')!;
menu.addEventListener('click', () => menu.setAttribute('aria-expanded', String(menu.getAttribute('aria-expanded') !== 'true')));

// A link's `?relay=` changes nothing: it is shown, and offered in Settings.
const suggestion = adoptQueryRelay();
if (suggestion && suggestion !== savedRelay()) {
  main.before(
    notice(
      'info',
      h('span', { id: 'relay-suggestion' }, `This link suggests sending your private requests through the relay ${suggestion}. Nothing changed. `, link('/settings', 'Review it in Settings'), ' (only if you chose that relay yourself).'),
    ),
  );
}
void render();
