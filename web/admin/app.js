// Security dashboard. Served under a strict CSP (no inline script or style): all behaviour is in
// this file, and every value from the API is written with textContent, never as HTML, so an event
// carrying markup (a crafted user agent) cannot run in an administrator's browser.
const $ = (id) => document.getElementById(id);
const SVG = 'http://www.w3.org/2000/svg';

// The token lives in memory only: closing the tab signs out, nothing is left in storage.
let token = null;
let nextCursor = null;
let currentFilter = {};

async function api(path, options = {}) {
  const headers = { accept: 'application/json', ...(options.body ? { 'content-type': 'application/json' } : {}) };
  if (token) headers.authorization = `Bearer ${token}`;
  const res = await fetch(path, { ...options, headers, credentials: 'omit', cache: 'no-store' });
  const body = res.headers.get('content-type')?.includes('json') ? await res.json() : null;
  if (!res.ok) {
    const err = new Error(body?.detail ?? `HTTP ${res.status}`);
    err.status = res.status;
    throw err;
  }
  return body;
}

function text(el, value) {
  el.textContent = value === null || value === undefined ? '' : String(value);
  return el;
}

function cell(tr, value, className) {
  const td = document.createElement('td');
  if (className) td.className = className;
  text(td, value);
  tr.appendChild(td);
}

function showError(id, err) {
  text($(id), err ? err.message : '');
}

async function login(event) {
  event.preventDefault();
  showError('login-error', null);
  $('login-submit').disabled = true;
  try {
    const pair = await api('/api/auth/login', {
      method: 'POST',
      body: JSON.stringify({ email: $('login-email').value, password: $('login-password').value }),
    });
    token = pair.accessToken;
    $('login-password').value = '';
    const me = await api('/api/auth/me');
    if (!me.user.permissions.includes('audit:read')) {
      token = null;
      throw new Error('This account may not read the audit log.');
    }
    text($('who-email'), me.user.email);
    $('who').hidden = false;
    $('login').hidden = true;
    $('dashboard').hidden = false;
    await refresh();
  } catch (err) {
    showError('login-error', err);
  } finally {
    $('login-submit').disabled = false;
  }
}

function logout() {
  token = null;
  $('dashboard').hidden = true;
  $('who').hidden = true;
  $('login').hidden = false;
  $('events-body').replaceChildren();
}

async function loadStatus() {
  const el = $('integrity-status');
  try {
    const s = await api('/api/admin/audit/status');
    el.className = `status ${s.ok ? 'ok' : 'bad'}`;
    text(el, s.ok ? `Intact: ${s.summary}` : `DAMAGED at seq ${s.damage.seq} (${s.damage.kind}): ${s.damage.detail}`);
    el.dataset.ok = String(s.ok);
    text($('integrity-head'), `${s.head.seq} (head ${s.head.hash.slice(0, 16)}...)`);
    text($('integrity-checkpoint'), s.lastCheckpoint ? `seq ${s.lastCheckpoint.seq} at ${s.lastCheckpoint.time}` : 'none yet');
    text($('integrity-kid'), s.kid ?? 'no signing key');
  } catch (err) {
    el.className = 'status bad';
    text(el, `Could not check integrity: ${err.message}`);
  }
}

function drawChart(figureId, series, key) {
  const figure = $(figureId);
  figure.querySelector('svg')?.remove();
  figure.querySelector('.total')?.remove();
  const width = 240;
  const height = 100;
  const max = Math.max(1, ...series.map((p) => p[key]));
  const svg = document.createElementNS(SVG, 'svg');
  svg.setAttribute('viewBox', `0 0 ${width} ${height}`);
  svg.setAttribute('preserveAspectRatio', 'none');
  svg.setAttribute('class', 'chart');
  svg.setAttribute('role', 'img');
  const step = width / Math.max(series.length, 1);
  series.forEach((p, i) => {
    const h = (p[key] / max) * (height - 4);
    const rect = document.createElementNS(SVG, 'rect');
    rect.setAttribute('x', String(i * step + 1));
    rect.setAttribute('y', String(height - h));
    rect.setAttribute('width', String(Math.max(step - 2, 1)));
    rect.setAttribute('height', String(h));
    const title = document.createElementNS(SVG, 'title');
    title.textContent = `${p.bucket}: ${p[key]}`;
    rect.appendChild(title);
    svg.appendChild(rect);
  });
  figure.appendChild(svg);
  const total = document.createElement('div');
  total.className = 'total';
  text(total, `total ${series.reduce((n, p) => n + p[key], 0)}, peak ${Math.max(0, ...series.map((p) => p[key]))}`);
  figure.appendChild(total);
}

async function loadCharts() {
  const to = new Date();
  const from = new Date(to.getTime() - 24 * 3600 * 1000);
  from.setMinutes(0, 0, 0);
  const stats = await api(`/api/admin/audit/stats?bucket=hour&from=${encodeURIComponent(from.toISOString())}&to=${encodeURIComponent(to.toISOString())}`);
  // Fill empty hours so the bars line up with time.
  const byBucket = new Map(stats.series.map((p) => [new Date(p.bucket).getTime(), p]));
  const series = [];
  for (let t = from.getTime(); t < to.getTime(); t += 3600 * 1000) {
    series.push(byBucket.get(t) ?? { bucket: new Date(t).toISOString(), failedLogins: 0, limited: 0, blocks: 0 });
  }
  drawChart('chart-failed', series, 'failedLogins');
  drawChart('chart-limited', series, 'limited');
  drawChart('chart-blocks', series, 'blocks');
}

function filterFromForm() {
  const f = {};
  for (const name of ['action', 'actor', 'outcome', 'ip']) {
    const v = $(`filter-${name}`).value.trim();
    if (v) f[name] = v;
  }
  for (const name of ['from', 'to']) {
    const v = $(`filter-${name}`).value;
    if (v) f[name] = new Date(v).toISOString();
  }
  return f;
}

async function loadEvents(append) {
  showError('events-error', null);
  const params = new URLSearchParams({ ...currentFilter, limit: '50' });
  if (append && nextCursor) params.set('cursor', nextCursor);
  try {
    const page = await api(`/api/admin/audit?${params}`);
    const body = $('events-body');
    if (!append) body.replaceChildren();
    for (const e of page.items) {
      const tr = document.createElement('tr');
      tr.className = e.outcome;
      tr.dataset.seq = String(e.seq);
      cell(tr, e.seq, 'mono');
      cell(tr, e.time.replace('T', ' ').replace('Z', ''), 'mono');
      cell(tr, e.action, 'action');
      cell(tr, e.actor, 'mono');
      cell(tr, e.outcome, 'outcome');
      cell(tr, e.target ? `${e.target.type}:${e.target.id}` : '');
      cell(tr, e.ip, 'mono');
      cell(tr, e.requestId ? e.requestId.slice(0, 8) : '', 'mono');
      body.appendChild(tr);
    }
    nextCursor = page.nextCursor;
    $('events-more').hidden = !nextCursor;
  } catch (err) {
    showError('events-error', err);
  }
}

async function refresh() {
  await Promise.all([loadStatus(), loadCharts().catch((err) => showError('events-error', err)), loadEvents(false)]);
  document.body.dataset.loaded = 'true';
}

function init() {
  $('login-form').addEventListener('submit', (e) => void login(e));
  $('logout').addEventListener('click', logout);
  $('refresh').addEventListener('click', () => void refresh());
  $('filters').addEventListener('submit', (e) => {
    e.preventDefault();
    currentFilter = filterFromForm();
    nextCursor = null;
    void loadEvents(false);
  });
  $('events-more').addEventListener('click', () => void loadEvents(true));
  document.body.dataset.ready = 'true';
}

init();
