// CSV downloads of the lists through /exports: fetched with the admin's
// bearer token (a plain link could not send it), then saved from an object
// URL by a[download], which the page's CSP allows (no navigation, no inline
// script).
import { fetchFile } from './api.js';
import { h, isoDay, showError } from './util.js';

/** Downloads `path` (an /exports/… URL with its query) as `name`. */
export async function download(path, name) {
  const blob = await fetchFile(path);
  const url = URL.createObjectURL(blob);
  const a = h('a', { href: url, download: name });
  document.body.append(a);
  a.click();
  a.remove();
  // After the click has handed the file to the browser.
  setTimeout(() => URL.revokeObjectURL(url), 60_000);
}

/**
 * A button downloading /exports/<file> with `?filter=` the JSON of
 * filter(), the list's current filter (the API's own input), so the file
 * holds the rows the list shows; `query()` instead gives the whole query
 * string (the payables export takes plain parameters).
 */
export function downloadButton(label, file, { filter, query } = {}) {
  const note = h('span', { class: 'note' });
  const btn = h('button', { type: 'button', class: 'secondary download' }, label);
  btn.addEventListener('click', async () => {
    btn.disabled = true;
    note.replaceChildren();
    try {
      const qs = query ? query() : new URLSearchParams({ filter: JSON.stringify(filter ? filter() : {}) }).toString();
      const stem = file.replace(/\.csv$/, '');
      await download(`/exports/${file}${qs ? '?' + qs : ''}`, `${stem}-${isoDay(new Date())}.csv`);
    } catch (e) {
      showError(note, e);
    } finally {
      btn.disabled = false;
    }
  });
  return h('span', { class: 'download-group' }, btn, note);
}
