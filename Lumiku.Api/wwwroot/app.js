// Lumiku avatar creator: plain JavaScript against the /v1 API, no build step.
'use strict';

const TERMINAL = ['succeeded', 'failed', 'canceled', 'aborted'];
const MODEL_NAMES = { 'flux-dev': 'FLUX.1-dev', 'flux-schnell': 'FLUX.1-schnell' };
const PROMPT_LIMIT = 2000;
const LABEL_WORDS = 6;

const $ = (id) => document.getElementById(id);
const state = {
  token: sessionStorage.getItem('lumiku.token'),
  user: sessionStorage.getItem('lumiku.user'),
  prices: {},
  balance: null,
  presets: {},
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

// The creator shows one message at a time: a new status replaces an error and the other way round,
// and either scrolls into view (with More options open it would otherwise sit below the fold).
function showError(text) {
  const el = $('error');
  el.textContent = text;
  el.hidden = !text;
  if (text) {
    setStatus('', false);
    el.scrollIntoView({ block: 'nearest' });
  }
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
  if (text) {
    $('error').hidden = true;
    $('progress').scrollIntoView({ block: 'nearest' });
  }
}

/** A short label for an avatar: its name, or the first words of what the user typed. */
function shortLabel(avatar) {
  if (avatar.name) return avatar.name.length > 60 ? `${avatar.name.slice(0, 59)}…` : avatar.name;
  const words = (avatar.userPrompt || avatar.prompt || '').split(' ');
  const first = words.slice(0, LABEL_WORDS).join(' ');
  const text = first.length > 60 ? first.slice(0, 59) : first;
  return words.length > LABEL_WORDS || text !== first ? `${text}…` : text;
}

// ---------------------------------------------------------------- what Generate needs

/** Says, next to Generate, why it cannot run now and what to do; null when it can. */
function generateBlocker() {
  if (!state.token) return 'Sign in to generate: enter a user name above and press Sign in.';
  const model = $('model').value;
  const price = state.prices[model];
  if (state.balance === null || price === undefined || state.balance >= price) return null;
  const cheaper = Object.entries(state.prices)
    .filter(([, p]) => p <= state.balance)
    .sort(([, a], [, b]) => a - b)[0];
  const what = cheaper
    ? `Choose ${MODEL_NAMES[cheaper[0]] || cheaper[0]} (${cheaper[1]} credits), or ask an administrator for more credits.`
    : 'Ask an administrator for more credits.';
  return `Not enough credits: ${MODEL_NAMES[model] || model} costs ${price} credits and you have ${state.balance}. ${what}`;
}

function renderGenerate() {
  const blocker = state.current ? null : generateBlocker();
  $('generate').disabled = !!state.current || !!blocker;
  $('generate-why').textContent = blocker || '';
  $('generate-why').hidden = !blocker;
}

/** The prompt's limit: 2,000, less what the chosen style's template adds around the words. */
function promptLimit() {
  const preset = document.querySelector('#preset-list input:checked');
  return PROMPT_LIMIT - Number(preset?.dataset.overhead || 0);
}

function renderCount() {
  const prompt = $('prompt');
  const limit = promptLimit();
  prompt.maxLength = limit;
  const length = prompt.value.length;
  const count = $('prompt-count');
  const n = (x) => x.toLocaleString('en');
  count.textContent = length > limit ? `${n(length)} / ${n(limit)}: ${n(length - limit)} too many for this style`
    : length === limit ? `${n(limit)} / ${n(limit)}: the limit`
    : `${n(length)} / ${n(limit)}`;
  count.classList.toggle('full', length >= limit);
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
  state.balance = null;
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
  $('generate-fields').disabled = !signedIn;
  renderGenerate();
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
  setBalance(credits.balance);
  for (const option of $('model').options) {
    const price = state.prices[option.value];
    const base = option.textContent.replace(/ · \d+ credits$/, '');
    option.textContent = price === undefined ? base : `${base} · ${price} credits`;
  }
  renderGenerate();
}

function setBalance(balance) {
  state.balance = balance;
  $('balance').textContent = String(balance);
  renderGenerate();
}

// ---------------------------------------------------------------- presets

async function loadPresets() {
  const presets = await api('/v1/presets');
  const list = $('preset-list');
  list.querySelectorAll('.preset[data-preset]').forEach((el) => el.remove());
  state.presets = Object.fromEntries(presets.map((p) => [p.id, p.name]));
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
    input.dataset.overhead = preset.template.length - '{subject}'.length;
    const span = document.createElement('span');
    span.textContent = preset.name;
    label.append(input, ' ', span);
    if (preset.available === false) {
      // Shown, not hidden, so the user learns why: e.g. the realism LoRA needs a provider that serves adapters.
      input.disabled = true;
      label.classList.add('unavailable');
      label.title = `${preset.name} is unavailable here: ${preset.unavailableReason}`;
    }
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
    // The name belongs to this avatar only; the next one starts unnamed.
    $('avatar-name').value = '';
    state.current = generation.id;
    setBalance(state.balance - generation.cost.reserved);
    follow(generation);
  } catch (e) {
    if (e.status === 401) { signOut(); showAccountMessage(describeProblem(e)); return; }
    showError(describeProblem(e));
    renderGenerate();
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
      setStatus(queuedText(g, model), true);
      break;
    case 'processing':
      setStatus(`Painting your avatar with ${model}…`, true);
      break;
    case 'fallback':
      setStatus(`Painting your avatar with ${MODEL_NAMES[g.modelUsed] || MODEL_NAMES['flux-schnell']}…`, true);
      break;
    default:
      break;
  }
}

/** The queue position while a job waits, and the api's start estimate when it has one. */
function queuedText(g, model) {
  if (g.queuePosition == null) return `Queued: waiting for a free worker (${model}).`;
  const ahead = g.queuePosition === 0 ? 'next in line' : `${g.queuePosition} ${g.queuePosition === 1 ? 'job' : 'jobs'} ahead`;
  const seconds = g.estimatedStartAt ? Math.round((Date.parse(g.estimatedStartAt) - Date.now()) / 1000) : null;
  const eta = seconds != null && seconds > 0 ? `, starts in about ${seconds < 90 ? `${seconds} s` : `${Math.round(seconds / 60)} min`}` : '';
  return `Queued: ${ahead}${eta} (${model}).`;
}

async function done(g) {
  if (g.status === 'succeeded') {
    const used = MODEL_NAMES[g.modelUsed] || g.modelUsed;
    if (g.fellBack) {
      // Said once, when the outcome is known: what happened, why, and what it cost.
      const asked = MODEL_NAMES[g.model] || g.model;
      const why = g.fallbackReason ? ` (${g.fallbackReason.replace(/ \(request [^)]*\)$/, '')})` : '';
      setStatus(`Done! ${asked} refused this request${why}, so the avatar fell back to ${used}: you were charged ${g.cost.charged} credits instead of ${g.cost.reserved}.`, false);
    } else {
      setStatus(`Done! Made with ${used} for ${g.cost.charged} credits.`, false);
    }
  } else if (g.status === 'failed') {
    setStatus('', false);
    const reason = g.error?.message ? ` (${g.error.message})` : '';
    showError(`The image provider could not make this avatar${reason}. Your ${g.cost.refunded} credits were refunded.`);
  } else if (g.status === 'aborted') {
    setStatus(`Not started before its deadline, so it was stopped. Your ${g.cost.refunded} credits were refunded.`, false);
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
  renderGenerate();
}

async function cancelCurrent() {
  const id = state.current;
  if (!id) return;
  try {
    await api(`/v1/generations/${encodeURIComponent(id)}/cancel`, { method: 'POST' });
  } catch (e) {
    showError(e.status === 409 ? 'Too late to cancel: the avatar is already finished.' : describeProblem(e));
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
  const label = shortLabel(avatar);

  const img = document.createElement('img');
  img.alt = `Avatar: ${label}`;
  img.width = avatar.width;
  img.height = avatar.height;
  img.loading = 'lazy';

  const title = document.createElement('p');
  title.className = 'title';
  title.textContent = avatar.name || 'Untitled';
  title.classList.toggle('untitled', !avatar.name);

  // What the user typed; a preset's template is shown as a tag, not as the caption.
  const caption = document.createElement('p');
  caption.className = 'caption';
  caption.textContent = avatar.userPrompt || avatar.prompt;
  caption.title = avatar.userPrompt || avatar.prompt;

  const meta = document.createElement('p');
  meta.className = 'meta';
  if (avatar.presetId) {
    const tag = document.createElement('span');
    tag.className = 'tag';
    tag.textContent = state.presets[avatar.presetId] || avatar.presetId;
    meta.append(tag, ' ');
  }
  const model = MODEL_NAMES[avatar.model] || avatar.model;
  meta.append(`${avatar.width} × ${avatar.height} · ${model}${avatar.fellBack ? ' (fallback)' : ''} · ${avatar.charged} credits`);

  const actions = document.createElement('div');
  actions.className = 'actions';
  const rename = button('Rename', `Rename avatar ${label}`, 'secondary');
  rename.addEventListener('click', () => startRename(avatar, li));
  const download = document.createElement('a');
  download.className = 'button secondary';
  download.textContent = 'Download';
  download.setAttribute('aria-label', `Download avatar ${label}`);
  download.download = `${(avatar.name || 'avatar-' + avatar.id.slice(0, 8)).replace(/[^A-Za-z0-9_-]+/g, '-')}.png`;
  download.href = '#';
  const remove = button('Delete', `Delete avatar ${label}`, 'secondary danger');
  remove.addEventListener('click', () => confirmDelete(avatar, li));
  actions.append(rename, download, remove);

  li.append(img, title, caption, meta, actions);
  loadImage(avatar, img, download);
  return li;
}

function button(text, ariaLabel, className) {
  const b = document.createElement('button');
  b.type = 'button';
  b.className = className;
  b.textContent = text;
  if (ariaLabel) b.setAttribute('aria-label', ariaLabel);
  return b;
}

/** Inline rename: the title becomes a field; Enter saves (PATCH), Escape or leaving it cancels. */
function startRename(avatar, li) {
  const title = li.querySelector('.title');
  const input = document.createElement('input');
  input.className = 'rename';
  input.maxLength = 100;
  input.value = avatar.name || '';
  input.setAttribute('aria-label', `New name for avatar ${shortLabel(avatar)}`);
  let settled = false;
  const close = () => {
    settled = true;
    input.replaceWith(title);
    li.querySelector('.actions button').focus();
  };
  input.addEventListener('keydown', async (event) => {
    if (event.key === 'Escape') { event.preventDefault(); close(); return; }
    if (event.key !== 'Enter') return;
    event.preventDefault();
    if (settled) return;
    settled = true;
    try {
      const saved = await api(`/v1/avatars/${encodeURIComponent(avatar.id)}`, { method: 'PATCH', body: { name: input.value.trim() } });
      const card = avatarCard(saved);
      li.replaceWith(card);
      card.querySelector('.actions button').focus();
    } catch (e) {
      settled = false;
      showError(describeProblem(e));
    }
  });
  input.addEventListener('blur', () => { if (!settled) close(); });
  title.replaceWith(input);
  input.focus();
  input.select();
}

/** Delete asks first: the card's actions turn into "Delete for good" and "Keep". */
function confirmDelete(avatar, li) {
  const actions = li.querySelector('.actions');
  const kept = [...actions.children];
  const sure = button('Delete for good', `Delete avatar ${shortLabel(avatar)} for good`, 'danger');
  const keep = button('Keep', `Keep avatar ${shortLabel(avatar)}`, 'secondary');
  const restore = () => {
    actions.replaceChildren(...kept);
    actions.querySelector('button.danger').focus();
  };
  sure.addEventListener('click', () => deleteAvatar(avatar.id, li));
  keep.addEventListener('click', restore);
  actions.addEventListener('keydown', (event) => { if (event.key === 'Escape' && keep.isConnected) restore(); });
  actions.replaceChildren(sure, keep);
  keep.focus();
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
      img.alt = `Image unavailable: ${shortLabel(avatar)}`;
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
  $('prompt').addEventListener('input', renderCount);
  $('model').addEventListener('change', renderGenerate);
  $('cancel').addEventListener('click', cancelCurrent);
  $('more').addEventListener('click', () => loadGallery(false).catch((e) => showError(describeProblem(e))));
  $('preset-list').addEventListener('change', (event) => {
    const { width, height } = event.target.dataset;
    const option = width && [...$('size').options].find((o) => o.value === `${width}x${height}`);
    if (option) $('size').value = option.value;
    renderCount();
  });

  renderCount();
  showDevNote();
  if (state.token) enterApp(); else renderSignedIn();
});

/** In Development the api says what paints the images; the local stand-in ignores the prompt. */
async function showDevNote() {
  try {
    const about = await api('/dev/about');
    $('dev-note').hidden = about.provider !== 'emulator';
  } catch {
    // Not Development: no note.
  }
}
