// The console's shell: login, navigation and a hash router (#/dashboard,
// #/orders, #/orders/<id>, #/refunds, #/after-sales, #/withdrawals,
// #/customers, #/customers/<id>, #/catalogue, #/catalogue/products/<id>,
// #/suppliers, #/segments, #/tags, #/campaigns, #/rfm, #/plans, #/coupons,
// #/promoters, #/payables, #/staff, #/audit), so the server serves one page and reloads
// keep the operator where they were. Each page names the staff roles that
// work from it (none: every role); the menu shows a role only its own (the
// API refuses the rest anyway).
import { ApiError, can, login, logout, session, whenSignedOut } from './api.js';
import { auditPage } from './audit.js';
import { campaignsPage } from './campaigns.js';
import { cataloguePage, productPage } from './catalogue.js';
import { couponsPage } from './coupons.js';
import { customerPage } from './customer.js';
import { customersPage } from './customers.js';
import { dashboard } from './dashboard.js';
import { afterSalesPage, orderPage, ordersPage, refundsPage } from './orders.js';
import { payablesPage } from './payables.js';
import { plansPage } from './plans.js';
import { promotersPage } from './promoters.js';
import { rfmPage } from './rfm.js';
import { segmentsPage, tagsPage } from './segments.js';
import { staffPage } from './staff.js';
import { suppliersPage } from './suppliers.js';
import { h, showError } from './util.js';
import { withdrawalsPage } from './withdrawals.js';

const app = document.getElementById('app');

const ALL_ROUTES = [
  ['#/dashboard', '数据概览', dashboard],
  ['#/orders', '订单', ordersPage],
  ['#/refunds', '退款队列', refundsPage, ['CUSTOMER_SERVICE', 'FINANCE']],
  ['#/after-sales', '售后队列', afterSalesPage, ['CUSTOMER_SERVICE']],
  ['#/withdrawals', '提现审核', withdrawalsPage, ['FINANCE']],
  ['#/customers', '客户', customersPage],
  ['#/catalogue', '商品', cataloguePage, ['OPERATIONS']],
  ['#/suppliers', '供应商', suppliersPage, ['OPERATIONS']],
  ['#/segments', '人群', segmentsPage],
  ['#/tags', '标签', tagsPage],
  ['#/campaigns', '营销活动', campaignsPage],
  ['#/rfm', 'RFM', rfmPage],
  ['#/plans', '会员与储值', plansPage, ['OPERATIONS']],
  ['#/coupons', '优惠券', couponsPage, ['OPERATIONS']],
  ['#/promoters', '分销', promotersPage, ['OPERATIONS', 'FINANCE']],
  ['#/payables', '供应商结算', payablesPage, ['FINANCE']],
  ['#/staff', '员工', staffPage, []],
  ['#/audit', '操作日志', auditPage, []],
];

/** The pages the signed-in role works from. */
const routes = () => ALL_ROUTES.filter(([, , , roles]) => can(roles));

// The menu in the groups an operator's day falls into; a group shows only
// when the role has a page in it.
const GROUPS = [
  ['概览', ['#/dashboard']],
  ['交易', ['#/orders', '#/refunds', '#/after-sales']],
  ['商品', ['#/catalogue', '#/suppliers']],
  ['客户运营', ['#/customers', '#/segments', '#/tags', '#/campaigns', '#/rfm']],
  ['资金', ['#/withdrawals', '#/plans', '#/coupons', '#/promoters', '#/payables']],
  ['管理', ['#/staff', '#/audit']],
];

function loginPage() {
  const username = h('input', { type: 'text', name: 'username', autocomplete: 'username', required: true });
  const password = h('input', { type: 'password', name: 'password', autocomplete: 'current-password', required: true });
  const message = h('div');
  const submit = h('button', { type: 'submit' }, '登录');
  app.replaceChildren(
    h(
      'main',
      { class: 'login' },
      h(
        'form',
        {
          class: 'card',
          onsubmit: async (e) => {
            e.preventDefault();
            submit.disabled = true;
            try {
              await login(username.value.trim(), password.value);
              if (!location.hash || location.hash === '#/login') location.hash = '#/dashboard';
              route();
            } catch (err) {
              showError(message, err instanceof ApiError ? err : String(err));
            } finally {
              submit.disabled = false;
            }
          },
        },
        h('h1', {}, '思域 · 管理后台'),
        h('label', {}, '用户名', username),
        h('label', {}, '密码', password),
        message,
        submit,
      ),
    ),
  );
  username.focus();
}

function shell(active) {
  const main = h('main', { class: 'page' });
  const menu = h(
    'nav',
    { class: 'menu' },
    GROUPS.map(([group, hashes]) => {
      const links = routes()
        .filter(([hash]) => hashes.includes(hash))
        .map(([hash, label]) => h('a', { href: hash, class: hash === active ? 'active' : '' }, label));
      return links.length ? h('div', { class: 'group' }, h('span', { class: 'group-name' }, group), links) : null;
    }),
    h(
      'button',
      {
        type: 'button',
        class: 'secondary logout',
        onclick: async () => {
          await logout();
          location.hash = '#/login';
          route();
        },
      },
      '退出登录',
    ),
  );
  app.replaceChildren(h('header', { class: 'top' }, h('strong', {}, '思域 管理后台'), menu), main);
  return main;
}

function route() {
  if (!session()) {
    loginPage();
    return;
  }
  const hash = location.hash || '#/dashboard';
  const order = /^#\/orders\/(.+)$/.exec(hash);
  if (order) {
    orderPage(shell('#/orders'), decodeURIComponent(order[1]));
    return;
  }
  // A product's page (catalogue.js), under 商品 in the menu.
  const product = /^#\/catalogue\/products\/(.+)$/.exec(hash);
  if (product) {
    productPage(shell('#/catalogue'), decodeURIComponent(product[1]));
    return;
  }
  const customer = /^#\/customers\/([^?]+)$/.exec(hash);
  if (customer) {
    customerPage(shell('#/customers'), decodeURIComponent(customer[1]));
    return;
  }
  const allowed = routes();
  // A page may take a query (#/customers?filter=…): it reads it itself.
  const found = allowed.find(([r]) => r === hash.split('?')[0]) || allowed[0];
  found[2](shell(found[0]));
}

whenSignedOut(() => loginPage());
window.addEventListener('hashchange', route);
route();
