// Small helpers: DOM building (no innerHTML: every text is a text node),
// money in yuan, dates.

/** h('div', {class: 'x', onclick: fn}, child, 'text', ...) */
export function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith('on')) el.addEventListener(k.slice(2), v);
    else if (k === 'class') el.className = v;
    else if (k === 'value') el.value = v;
    else if (k === 'checked') el.checked = !!v;
    else el.setAttribute(k, v === true ? '' : String(v));
  }
  for (const c of children.flat(Infinity)) {
    if (c === undefined || c === null || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return el;
}

/** Fen (integer) as yuan with two decimals: 123456 -> "¥1,234.56". No floats. */
export function yuan(fen) {
  if (fen === null || fen === undefined) return '—';
  let s = String(fen);
  const negative = s.startsWith('-');
  if (negative) s = s.slice(1);
  s = s.padStart(3, '0');
  const whole = s.slice(0, -2).replace(/\B(?=(\d{3})+(?!\d))/g, ',');
  return `${negative ? '-' : ''}¥${whole}.${s.slice(-2)}`;
}

/** Fen as the text of a yuan field ("19.99"), for editing; '' for none. */
export function yuanInput(fen) {
  return fen === null || fen === undefined ? '' : yuan(fen).replace('¥', '').replace(/,/g, '');
}

/**
 * Yuan typed by an operator ("12", "12.5", "12.50") as integer fen, parsed
 * as text so no float rounding can change it; null for an empty field.
 * Throws on anything else (more than two decimals, signs, letters).
 */
export function parseYuan(text) {
  const t = String(text).trim().replace(/,/g, '');
  if (t === '') return null;
  const m = /^(\d{1,10})(?:\.(\d{0,2}))?$/.exec(t);
  if (!m) throw new Error(`金额格式不对: "${text}"（元，最多两位小数）`);
  return Number(m[1]) * 100 + Number((m[2] || '').padEnd(2, '0'));
}

/** A whole number typed by an operator (days, percent, a quantity); null for an empty field. */
export function parseCount(text, label = '') {
  const t = String(text).trim();
  if (t === '') return null;
  if (!/^\d{1,9}$/.test(t)) throw new Error(`${label}: 请填写整数`);
  return Number(t);
}

export function percent(rate) {
  return `${(rate * 100).toFixed(1)}%`;
}

export function dateTime(iso) {
  if (!iso) return '—';
  const d = new Date(iso);
  const p = (n) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())} ${p(d.getHours())}:${p(d.getMinutes())}`;
}

/** "2026-12-03" of a Date, in the browser's time zone. */
export function isoDay(d) {
  const p = (n) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}`;
}

/** Local midnight of a "YYYY-MM-DD" (the operators' day, 中国时间 in practice). */
export function dayStart(day) {
  const [y, m, d] = day.split('-').map(Number);
  return new Date(y, m - 1, d);
}

export function addDays(date, n) {
  const d = new Date(date);
  d.setDate(d.getDate() + n);
  return d;
}

/** A key for idempotent mutations, also over plain http (no randomUUID there). */
export function newKey() {
  const b = crypto.getRandomValues(new Uint8Array(16));
  return 'console-' + Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');
}

/** A message line: an API error shows its message and its code. */
export function showError(target, e) {
  target.replaceChildren(h('div', { class: 'error', role: 'alert' }, String(e)));
}

export function showOk(target, text) {
  target.replaceChildren(h('div', { class: 'ok', role: 'status' }, text));
}

// What was typed into a dialog whose action (see action()) the API then
// refused, by the dialog (its title and starting values): opening the same
// dialog again shows it, so an operator fixes the one field the error names
// instead of typing the whole form again. Cancelling the dialog or the
// action succeeding drops it; passwords are never kept.
const drafts = new Map();
// The dialog submitted last and what was typed into it.
let submitted = null;

/**
 * A small form in a <dialog>: resolves with the values, or null when
 * cancelled. fields: [{name, label, type: 'text'|'yuan'|'int'|'date'|'password'|'checkbox'|'textarea'|'select'
 * (with options: [[value, label]]), required, value}]
 */
export function ask(title, fields, submitLabel = '确定') {
  return new Promise((resolve) => {
    const draftKey = JSON.stringify([title, fields.map((f) => [f.name, f.value ?? null])]);
    const draft = drafts.get(draftKey) || {};
    const start = (f) => (f.name in draft ? draft[f.name] : f.value);
    const inputs = {};
    const problem = h('div', { class: 'problem' });
    const rows = fields.map((f) => {
      let input;
      if (f.type === 'checkbox') input = h('input', { type: 'checkbox', checked: start(f) });
      else if (f.type === 'textarea') input = h('textarea', { rows: 3, value: start(f) || '' });
      else if (f.type === 'select')
        input = h(
          'select',
          {},
          f.options.map(([v, l]) => h('option', { value: v, selected: v === start(f) }, l)),
        );
      else
        input = h('input', {
          type: f.type === 'password' || f.type === 'date' ? f.type : 'text',
          autocomplete: f.type === 'password' ? 'new-password' : undefined,
          value: f.type === 'password' ? '' : (start(f) ?? ''),
          inputmode: f.type === 'yuan' ? 'decimal' : f.type === 'int' ? 'numeric' : undefined,
          placeholder: f.placeholder,
        });
      inputs[f.name] = input;
      return h('label', { class: f.type === 'checkbox' ? 'check' : '' }, f.label, input);
    });
    const dialog = h('dialog', { class: 'ask' });
    const close = (value) => {
      if (value === null) drafts.delete(draftKey);
      else {
        const typed = {};
        for (const f of fields) {
          if (f.type === 'password') continue;
          typed[f.name] = f.type === 'checkbox' ? inputs[f.name].checked : inputs[f.name].value;
        }
        submitted = { key: draftKey, typed };
      }
      dialog.close();
      dialog.remove();
      resolve(value);
    };
    const form = h(
      'form',
      {
        method: 'dialog',
        onsubmit: (ev) => {
          ev.preventDefault();
          const values = {};
          try {
            for (const f of fields) {
              const input = inputs[f.name];
              if (f.type === 'checkbox') values[f.name] = input.checked;
              else if (f.type === 'yuan') values[f.name] = parseYuan(input.value);
              else if (f.type === 'int') values[f.name] = parseCount(input.value, f.label);
              else values[f.name] = input.value.trim() || null;
              if (f.required && (values[f.name] === null || values[f.name] === '')) {
                throw new Error(`请填写: ${f.label}`);
              }
            }
          } catch (e) {
            problem.textContent = e.message;
            return;
          }
          close(values);
        },
      },
      h('h3', {}, title),
      rows,
      problem,
      h(
        'div',
        { class: 'actions' },
        h('button', { type: 'button', class: 'secondary', onclick: () => close(null) }, '取消'),
        h('button', { type: 'submit' }, submitLabel),
      ),
    );
    dialog.append(form);
    dialog.addEventListener('cancel', (ev) => {
      ev.preventDefault();
      close(null);
    });
    document.body.append(dialog);
    dialog.showModal();
  });
}

/**
 * A list paged with the API's cursors. fetchPage(after) resolves to
 * {nodes, pageInfo: {hasNextPage, endCursor}}; row(node, reload) makes a
 * table row; head is the header cells. Returns {element, reload}.
 */
export function pagedList(head, fetchPage, row) {
  const body = h('tbody');
  const status = h('div', { class: 'status' });
  const prev = h('button', { type: 'button', class: 'secondary' }, '上一页');
  const next = h('button', { type: 'button', class: 'secondary' }, '下一页');
  // Cursors of the pages before this one (the API pages forward only).
  let stack = [];
  let current = null;
  async function load(after) {
    status.replaceChildren(h('p', { class: 'loading' }, '加载中…'));
    try {
      const page = await fetchPage(after);
      current = after;
      body.replaceChildren(...page.nodes.map((n) => row(n, () => load(current))));
      if (page.nodes.length === 0) {
        body.append(h('tr', {}, h('td', { colspan: head.length, class: 'empty' }, '没有记录')));
      }
      status.replaceChildren();
      next.disabled = !page.pageInfo.hasNextPage;
      next.onclick = () => {
        stack.push(current);
        load(page.pageInfo.endCursor);
      };
      prev.disabled = stack.length === 0;
    } catch (e) {
      showError(status, e);
    }
  }
  prev.onclick = () => load(stack.pop());
  const element = h(
    'div',
    { class: 'list' },
    status,
    h('div', { class: 'table-wrap' }, h('table', {}, h('thead', {}, h('tr', {}, head.map((c) => h('th', {}, c)))), body)),
    h('div', { class: 'pager' }, prev, next),
  );
  return {
    element,
    reload: () => {
      stack = [];
      return load(null);
    },
  };
}

/** A table in its scrolling frame; `empty` fills a table without rows. */
export function table(head, rows, empty = '无') {
  return h(
    'div',
    { class: 'table-wrap' },
    h(
      'table',
      {},
      h('thead', {}, h('tr', {}, head.map((c) => h('th', {}, c)))),
      h('tbody', {}, rows.length ? rows : h('tr', {}, h('td', { colspan: head.length, class: 'empty' }, empty))),
    ),
  );
}

/** A button that runs an action, shows its error (message and code) or reloads. */
export function action(label, run, after, cls) {
  const btn = h('button', { type: 'button', class: cls });
  btn.textContent = label;
  btn.addEventListener('click', async () => {
    const note = btn.parentElement.querySelector('.note') || btn.parentElement.appendChild(h('div', { class: 'note' }));
    btn.disabled = true;
    submitted = null;
    try {
      const done = await run();
      if (submitted) drafts.delete(submitted.key);
      if (done === false) return;
      note.replaceChildren();
      after();
    } catch (e) {
      if (submitted) drafts.set(submitted.key, submitted.typed);
      showError(note, e);
    } finally {
      btn.disabled = false;
    }
  });
  return btn;
}
