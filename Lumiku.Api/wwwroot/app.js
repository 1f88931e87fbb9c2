// Lumiku avatar creator: plain JavaScript against the /v1 API, no build step.
'use strict';

const TERMINAL = ['succeeded', 'failed', 'canceled'];
const MODEL_NAMES = { 'flux-dev': 'FLUX.1-dev', 'flux-schnell': 'FLUX.1-schnell' };

const $ = (id) => document.getElementById(id);
const state = {
  token: sessionStorage.getItem('lumiku.token'),
  user: sessionStorage.getItem('lumiku.user'),
  prices: {},
  nextCursor: null,
  events: null,
  current: null,
  blobUrls: new Map(),
};

/** An API answer that was not 2xx: status, problem details (if any) and headers. */
class ApiError extends Error {
  constructor(status, problem, headers) {
    super(problem?.detail || problem?.title || `HTTP ${status}`);
    this.status = status;
    this.problem = problem || {};
    this.headers = headers;
  }
}

async function api(path, { method = 'GET', body, headers = {}, raw = false } = {}) {
  const init = { method, headers: { ...headers } };
  if (state.token) init.headers.Authorization = `Bearer ${state.token}`;
  if (body !== undefined) {
    init.headers['Content-Type'] = 'application/json';
    init.body = JSON.stringify(body);
  }
  const response = await fetch(path, init);
  if (!response.ok) {
    let problem = null;
    try { problem = await response.json(); } catch { /* not JSON */ }
    throw new ApiError(response.status, problem, response.headers);
  }
  if (raw) return response;
  return response.status === 204 ? null : response.json();
}

// ---------------------------------------------------------------- messages

function showError(text) {
  const el = $('error');
  el.textContent = text;
  el.hidden = !text;
}

function showAccountMessage(text) {
  const el = $('account-message');
  el.textContent = text;
  el.hidden = !text;
}

function setStatus(text, busy) {
  $('progress').hidden = !text;
  $('status').textContent = text || '';
  $('progress').classList.toggle('busy', !!busy);
}

/** Words a person understands for each problem the API can answer. */
function describeProblem(error) {
  const p = error.problem || {};
  switch (error.status) {
    case 400: {
      const fields = p.errors ? Object.values(p.errors).flat() : [];
      return fields.length ? fields.join(' ') : (p.detail || 'Please check the form.');
    }
    case 401:
      return 'Your session has expired. Please sign in again.';
    case 402:
      return `Not enough credits: this avatar costs ${p.price ?? '?'} credits and your balance is ${p.balance ?? '?'}.`;
    case 413:
      return 'That request is too large. Please shorten the prompt.';
    case 429: {
      const seconds = p.retryAfterSeconds ?? error.headers?.get('Retry-After') ?? 'a few';
      return `You are generating too fast. Please try again in ${seconds} seconds.`;
    }
    default:
      return p.detail || p.title || `Something went wrong (HTTP ${error.status}). Please try again.`;
  }
}

// ---------------------------------------------------------------- account

async function signIn(user) {
  showAccountMessage('');
  let answer;
  try {
    answer = await api('/dev/token', { method: 'POST', body: { user, admin: false } });
  } catch (e) {
    showAccountMessage(e.status === 404
      ? 'Sign-in with a user name is only available in Development.'
      : describeProblem(e));
    return;
  }
  state.token = answer.token;
  state.user = user;
  sessionStorage.setItem('lumiku.token', state.token);
  sessionStorage.setItem('lumiku.user', user);
  await enterApp();
}

function signOut() {
  closeEvents();
  state.token = null;
  state.user = null;
  sessionStorage.removeItem('lumiku.token');
  sessionStorage.removeItem('lumiku.user');
  for (const url of state.blobUrls.values()) URL.revokeObjectURL(url);
  state.blobUrls.clear();
  $('gallery').replaceChildren();
  renderSignedIn();
}

function renderSignedIn() {
  const signedIn = !!state.token;
  $('signin-form').hidden = signedIn;
  $('signed-in').hidden = !signedIn;
  $('who').textContent = state.user || '';
  $('generate').disabled = !signedIn;
  $('gallery-empty').hidden = signedIn && $('gallery').children.length > 0;
  if (!signedIn) $('user-name').focus();
}

async function enterApp() {
  renderSignedIn();
  try {
    await Promise.all([refreshCredits(), loadPresets(), loadGallery(true)]);
  } catch (e) {
    if (e.status === 401) { signOut(); showAccountMessage(describeProblem(e)); return; }
    showError(describeProblem(e));
  }
}

async function refreshCredits() {
  const credits = await api('/v1/credits');
  state.prices = credits.prices || {};
  $('balance').textContent = String(credits.balance);
  for (const option of $('model').options) {
    const price = state.prices[option.value];
    const base = option.textContent.replace(/ · \d+ credits$/, '');
    option.textContent = price === undefined ? base : `${base} · ${price} credits`;
  }
}

// ---------------------------------------------------------------- presets

async function loadPresets() {
  const presets = await api('/v1/presets');
  const list = $('preset-list');
  list.querySelectorAll('.preset[data-preset]').forEach((el) => el.remove());
  for (const preset of presets) {
    const label = document.createElement('label');
    label.className = 'preset';
    label.dataset.preset = preset.id;
    label.title = preset.description;
    const input = document.createElement('input');
    input.type = 'radio';
    input.name = 'preset';
    input.value = preset.id;
    input.dataset.width = preset.width;
    input.dataset.height = preset.height;
    const span = document.createElement('span');
    span.textContent = preset.name;
    label.append(input, ' ', span);
    list.append(label);
  }
}

// ---------------------------------------------------------------- generate

async function generate(event) {
  event.preventDefault();
  showError('');
  const form = $('generate-form');
  const data = new FormData(form);
  const prompt = (data.get('prompt') || '').trim();
  if (prompt.length < 10) {
    showError('Please describe your avatar in at least 10 characters.');
    $('prompt').focus();
    return;
  }
  const [width, height] = String(data.get('size')).split('x').map(Number);
  const body = { prompt, width, height, model: data.get('model') };
  const preset = data.get('preset');
  if (preset) body.presetId = preset;
  const negative = (data.get('negativePrompt') || '').trim();
  if (negative) body.negativePrompt = negative;
  const name = (data.get('name') || '').trim();
  if (name) body.name = name;
  const seed = String(data.get('seed') || '').trim();
  if (seed) body.seed = Number(seed);

  $('generate').disabled = true;
  try {
    const generation = await api('/v1/generations', {
      method: 'POST',
      body,
      headers: { 'Idempotency-Key': crypto.randomUUID() },
    });
    $('balance').textContent = String(Number($('balance').textContent) - generation.cost.reserved);
    follow(generation);
  } catch (e) {
    if (e.status === 401) { signOut(); showAccountMessage(describeProblem(e)); return; }
    showError(describeProblem(e));
    $('generate').disabled = false;
  }
}

function closeEvents() {
  if (state.events) state.events.close();
  state.events = null;
}

/** Live status over Server-Sent Events; EventSource cannot send headers, so the token rides in the query. */
function follow(generation) {
  closeEvents();
  state.current = generation.id;
  $('cancel').hidden = false;
  render(generation, 'queued');
  const url = `/v1/generations/${encodeURIComponent(generation.id)}/events?access_token=${encodeURIComponent(state.token)}`;
  const events = new EventSource(url);
  state.events = events;
  let finished = false;
  for (const type of ['queued', 'processing', 'fallback', ...TERMINAL]) {
    events.addEventListener(type, (message) => {
      const g = JSON.parse(message.data);
      render(g, type);
      if (TERMINAL.includes(type)) {
        finished = true;
        closeEvents();
        done(g);
      }
    });
  }
  events.onerror = () => {
    // A closed stream that never finished (e.g. an expired token): fall back to polling once a second.
    if (!finished && events.readyState === EventSource.CLOSED) {
      closeEvents();
      poll(generation.id);
    }
  };
}

async function poll(id) {
  while (state.current === id) {
    try {
      const g = await api(`/v1/generations/${encodeURIComponent(id)}`);
      render(g, g.status);
      if (TERMINAL.includes(g.status)) { done(g); return; }
    } catch (e) {
      showError(describeProblem(e));
      finish();
      return;
    }
    await new Promise((resolve) => setTimeout(resolve, 1000));
  }
}

function render(g, type) {
  const model = MODEL_NAMES[g.model] || g.model;
  switch (type) {
    case 'queued':
      setStatus(`Queued: waiting for a free worker (${model}).`, true);
      break;
    case 'processing':
      setStatus(`Painting your avatar with ${model}…`, true);
      break;
    case 'fallback':
      setStatus(`${MODEL_NAMES['flux-dev']} was not available, so this avatar fell back to ${MODEL_NAMES['flux-schnell']}.`, true);
      break;
    default:
      break;
  }
}

async function done(g) {
  if (g.status === 'succeeded') {
    const used = MODEL_NAMES[g.modelUsed] || g.modelUsed;
    const fellBack = g.fellBack ? ` It fell back to ${MODEL_NAMES['flux-schnell']}, so you were charged ${g.cost.charged} credits.` : '';
    setStatus(`Done! Made with ${used} for ${g.cost.charged} credits.${fellBack}`, false);
  } else if (g.status === 'failed') {
    setStatus('', false);
    const reason = g.error?.message ? ` (${g.error.message})` : '';
    showError(`The image provider could not make this avatar${reason}. Your ${g.cost.refunded} credits were refunded.`);
  } else {
    setStatus(`Canceled. Your ${g.cost.refunded} credits were refunded.`, false);
  }
  finish();
  try {
    await Promise.all([refreshCredits(), loadGallery(true)]);
  } catch (e) {
    showError(describeProblem(e));
  }
}

function finish() {
  state.current = null;
  $('cancel').hidden = true;
  $('generate').disabled = !state.token;
}

async function cancelCurrent() {
  const id = state.current;
  if (!id) return;
  try {
    await api(`/v1/generations/${encodeURIComponent(id)}/cancel`, { method: 'POST' });
  } catch (e) {
    showError(e.status === 409 ? 'Too late to cancel: the avatar is already being painted.' : describeProblem(e));
  }
}

// ---------------------------------------------------------------- gallery

async function loadGallery(reset) {
  const query = new URLSearchParams({ limit: '12' });
  if (!reset && state.nextCursor) query.set('cursor', state.nextCursor);
  const page = await api(`/v1/avatars?${query}`);
  if (reset) $('gallery').replaceChildren();
  for (const avatar of page.items) $('gallery').append(avatarCard(avatar));
  state.nextCursor = page.nextCursor;
  $('more').hidden = !page.nextCursor;
  $('gallery-empty').hidden = $('gallery').children.length > 0;
}

function avatarCard(avatar) {
  const li = document.createElement('li');
  li.className = 'avatar';
  li.dataset.id = avatar.id;
  const title = avatar.name || avatar.prompt;

  const img = document.createElement('img');
  img.alt = avatar.prompt;
  img.width = avatar.width;
  img.height = avatar.height;
  img.loading = 'lazy';

  const caption = document.createElement('p');
  caption.className = 'caption';
  caption.textContent = title;

  const meta = document.createElement('p');
  meta.className = 'meta';
  const model = MODEL_NAMES[avatar.model] || avatar.model;
  meta.textContent = `${avatar.width} × ${avatar.height} · ${model}${avatar.fellBack ? ' (fallback)' : ''} · ${avatar.charged} credits`;

  const actions = document.createElement('div');
  actions.className = 'actions';
  const download = document.createElement('a');
  download.className = 'button secondary';
  download.textContent = 'Download';
  download.setAttribute('aria-label', `Download ${title}`);
  download.download = `${(avatar.name || 'avatar-' + avatar.id.slice(0, 8)).replace(/[^A-Za-z0-9_-]+/g, '-')}.png`;
  download.href = '#';
  const remove = document.createElement('button');
  remove.type = 'button';
  remove.className = 'secondary danger';
  remove.textContent = 'Delete';
  remove.setAttribute('aria-label', `Delete ${title}`);
  remove.addEventListener('click', () => deleteAvatar(avatar.id, li));
  actions.append(download, remove);

  li.append(img, caption, meta, actions);
  loadImage(avatar, img, download);
  return li;
}

/** Images need the bearer token, so they are fetched and shown from blob URLs. */
async function loadImage(avatar, img, link) {
  let url = state.blobUrls.get(avatar.id);
  if (!url) {
    try {
      const response = await api(avatar.imageUrl, { raw: true });
      url = URL.createObjectURL(await response.blob());
      state.blobUrls.set(avatar.id, url);
    } catch {
      img.alt = `Image unavailable: ${avatar.prompt}`;
      return;
    }
  }
  img.src = url;
  link.href = url;
}

async function deleteAvatar(id, li) {
  showError('');
  try {
    await api(`/v1/avatars/${encodeURIComponent(id)}`, { method: 'DELETE' });
  } catch (e) {
    if (e.status !== 404) { showError(describeProblem(e)); return; }
  }
  const url = state.blobUrls.get(id);
  if (url) URL.revokeObjectURL(url);
  state.blobUrls.delete(id);
  const next = li.nextElementSibling || li.previousElementSibling;
  li.remove();
  $('gallery-empty').hidden = $('gallery').children.length > 0;
  (next?.querySelector('button') || $('prompt')).focus();
}

// ---------------------------------------------------------------- start

document.addEventListener('DOMContentLoaded', () => {
  $('signin-form').addEventListener('submit', (event) => {
    event.preventDefault();
    const input = $('user-name');
    const user = input.value.trim();
    if (!/^[A-Za-z0-9_.@-]{1,64}$/.test(user)) {
      showAccountMessage('Please enter a user name of letters, digits, dot, dash, underscore or @.');
      input.focus();
      return;
    }
    signIn(user);
  });
  $('signout').addEventListener('click', signOut);
  $('generate-form').addEventListener('submit', generate);
  $('cancel').addEventListener('click', cancelCurrent);
  $('more').addEventListener('click', () => loadGallery(false).catch((e) => showError(describeProblem(e))));
  $('preset-list').addEventListener('change', (event) => {
    const { width, height } = event.target.dataset;
    const option = width && [...$('size').options].find((o) => o.value === `${width}x${height}`);
    if (option) $('size').value = option.value;
  });

  if (state.token) enterApp(); else renderSignedIn();
});
