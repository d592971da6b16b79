// The ring page of a RingKV node (issue 18). Plain browser JavaScript, no framework, no build.
//
// Data flow, one direction: poll() fetches every SOURCES entry into `state`, then render() draws
// the whole page from `state` (each render* function owns one part of the page and rebuilds it).
// Only GET requests to this node; polling with fetch every POLL_MS, one round at a time, so a
// headless browser finishes loading the page. Every text that comes from the node (addresses,
// keys) goes into the page through textContent, never as HTML.
//
// Both dialects: shard ids are integers in the shard dialect and strings ("1") in the
// view-change dialect; the page keys everything by String(id).
'use strict';
(function () {
  const POLL_MS = 2000;
  const FETCH_TIMEOUT_MS = 1800;
  const SVG_NS = 'http://www.w3.org/2000/svg';
  const RING_RADIUS = 190;

  /**
   * What the page polls. Each answer's JSON lands in state[name]. `statuses`: answers that carry
   * the figures (GET /health/ready says why it is not ready in a 503). `optional`: a source this
   * node may not have (404): no error is shown, state[name] stays null.
   *
   * View-change progress: GET /admin/view-change answers the phase, copies done of the total,
   * rate and ETA of a change this node coordinates (viewChangeProgress() maps its fields).
   */
  const SOURCES = [
    { name: 'ring', url: '/ring' },
    { name: 'replication', url: '/ring/replication' },
    { name: 'health', url: '/health/ready', statuses: [200, 503] },
    { name: 'progress', url: '/admin/view-change', optional: true },
  ];

  /** Shard colours: Okabe-Ito (told apart with the common colour-vision deficiencies). */
  const PALETTE = ['#0072B2', '#D55E00', '#009E73', '#CC79A7', '#E69F00', '#56B4E9',
    '#7F3C8D', '#8C6D1F', '#3B3B98', '#A0522D'];

  const state = {
    ring: null, replication: null, health: null, progress: null,
    problems: [], updatedAt: null, polls: 0,
    lookup: null, // { key, answer } or { key, error }
  };

  // ------------------------------------------------------------------------------ helpers

  const $ = (id) => document.getElementById(id);

  /** An element with attributes and children (strings become text nodes). */
  function h(tag, attrs, ...children) {
    const el = document.createElement(tag);
    setAttrs(el, attrs);
    append(el, children);
    return el;
  }

  /** An SVG element, likewise. */
  function s(tag, attrs, ...children) {
    const el = document.createElementNS(SVG_NS, tag);
    setAttrs(el, attrs);
    append(el, children);
    return el;
  }

  function setAttrs(el, attrs) {
    for (const [k, v] of Object.entries(attrs || {})) {
      if (v !== null && v !== undefined && v !== false) {
        el.setAttribute(k, v === true ? '' : String(v));
      }
    }
  }

  function append(el, children) {
    for (const c of children.flat(Infinity)) {
      if (c !== null && c !== undefined && c !== false) {
        el.append(c instanceof Node ? c : document.createTextNode(String(c)));
      }
    }
  }

  function replace(el, ...children) {
    el.replaceChildren();
    append(el, children);
  }

  /**
   * JSON with tokens kept exact: a token is a signed 64-bit integer, beyond what a JavaScript
   * number holds, so every "token" number becomes a string before parsing (inside a JSON string a
   * quote is always escaped, so the pattern only meets real "token" fields).
   */
  function parseJson(text) {
    return JSON.parse(text.replace(/"token"\s*:\s*(-?\d+)/g, '"token":"$1"'));
  }

  const fmtInt = (n) => (n === null || n === undefined ? '—' : Number(n).toLocaleString('en-US'));
  const fmtPercent = (f) => (f * 100).toFixed(2) + ' %';

  function fmtBytes(n) {
    if (n === null || n === undefined) { return '—'; }
    const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
    let v = Number(n);
    let u = 0;
    while (v >= 1024 && u < units.length - 1) { v /= 1024; u++; }
    return (u === 0 ? v.toFixed(0) : v.toFixed(1)) + ' ' + units[u];
  }

  function fmtDuration(ms) {
    if (ms === null || ms === undefined) { return '—'; }
    if (ms < 1000) { return Math.round(ms) + ' ms'; }
    if (ms < 60000) { return (ms / 1000).toFixed(1) + ' s'; }
    if (ms < 3600000) {
      return Math.floor(ms / 60000) + ' min ' + Math.round((ms % 60000) / 1000) + ' s';
    }
    return (ms / 3600000).toFixed(1) + ' h';
  }

  function fmtClock(ms) {
    const d = new Date(ms);
    const pad = (n, w) => String(n).padStart(w || 2, '0');
    return pad(d.getHours()) + ':' + pad(d.getMinutes()) + ':' + pad(d.getSeconds());
  }

  /** A hybrid Lamport counter (never below the wall clock of its write) as a time, if it is one. */
  function fmtCounter(counter) {
    if (!counter) { return null; }
    return counter > 1e12 ? fmtClock(counter) : 'counter ' + counter;
  }

  function shardColour(id) {
    const n = Number(id);
    if (Number.isInteger(n) && n >= 1) {
      if (n <= PALETTE.length) { return PALETTE[n - 1]; }
      return 'hsl(' + ((n * 137.508) % 360).toFixed(1) + ' 62% 40%)';
    }
    let hash = 0;
    for (const ch of String(id)) { hash = (hash * 31 + ch.codePointAt(0)) | 0; }
    return 'hsl(' + (Math.abs(hash) % 360) + ' 62% 40%)';
  }

  const swatch = (id) => {
    const el = h('span', { class: 'swatch', 'aria-hidden': 'true' });
    el.style.background = shardColour(id);
    return el;
  };

  const badge = (live) => h('span', { class: 'badge ' + (live ? 'live' : 'down') },
    live ? 'live' : 'down');

  const TWO_63 = 2n ** 63n;
  const TWO_64 = 2n ** 64n;

  /** Where a token sits on the circle: -2^63 at the top, growing clockwise, in radians. */
  function tokenAngle(token) {
    const millionths = (BigInt(token) + TWO_63) * 1000000n / TWO_64;
    return Number(millionths) / 1000000 * 2 * Math.PI;
  }

  const point = (angle, r) => [r * Math.sin(angle), -r * Math.cos(angle)];
  const fixed = (x) => x.toFixed(2);

  /** The SVG path of the arc from angle a0 clockwise to a1 (a1 > a0) on radius r. */
  function arcPath(a0, a1, r) {
    if (a1 - a0 >= 2 * Math.PI - 1e-9) { // the whole circle: two halves
      const [x0, y0] = point(a0, r);
      const [x1, y1] = point(a0 + Math.PI, r);
      return `M ${fixed(x0)} ${fixed(y0)} A ${r} ${r} 0 1 1 ${fixed(x1)} ${fixed(y1)} `
        + `A ${r} ${r} 0 1 1 ${fixed(x0)} ${fixed(y0)}`;
    }
    const [x0, y0] = point(a0, r);
    const [x1, y1] = point(a1, r);
    const large = a1 - a0 > Math.PI ? 1 : 0;
    return `M ${fixed(x0)} ${fixed(y0)} A ${r} ${r} 0 ${large} 1 ${fixed(x1)} ${fixed(y1)}`;
  }

  const selfAddress = () => (state.health && state.health.node)
    || (state.replication && state.replication.node) || null;

  function liveSet() {
    const live = new Set();
    for (const sh of (state.ring && state.ring.shards) || []) {
      for (const m of sh['live-members'] || []) { live.add(m); }
    }
    return live;
  }

  // ------------------------------------------------------------------------------ polling

  async function fetchJson(url, statuses) {
    const abort = new AbortController();
    const timer = setTimeout(() => abort.abort(), FETCH_TIMEOUT_MS);
    try {
      const response = await fetch(url, {
        cache: 'no-store', signal: abort.signal, headers: { Accept: 'application/json' },
      });
      const text = await response.text();
      let body = null;
      try { body = parseJson(text); } catch (e) { body = null; }
      if (!(statuses || [200]).includes(response.status)) {
        const reason = body && (body.error || body.message);
        const err = new Error(url + ': HTTP ' + response.status
          + (reason ? ' (' + reason + ')' : ''));
        err.status = response.status;
        err.body = body;
        throw err;
      }
      if (body === null) { throw new Error(url + ': not JSON'); }
      return body;
    } catch (e) {
      if (e.name === 'AbortError') {
        throw new Error(url + ': no answer within ' + FETCH_TIMEOUT_MS + ' ms');
      }
      if (e instanceof TypeError) { throw new Error(url + ': ' + e.message); } // refused, reset
      throw e;
    } finally {
      clearTimeout(timer);
    }
  }

  async function loadSource(source) {
    try {
      state[source.name] = await fetchJson(source.url, source.statuses);
    } catch (e) {
      if (source.optional && e.status === 404) {
        state[source.name] = null;
        return;
      }
      state.problems.push(e.message || String(e)); // keeps the last figures, marked stale
    }
  }

  async function poll() {
    state.problems = [];
    await Promise.all(SOURCES.map(loadSource));
    if (state.problems.length === 0) { state.updatedAt = Date.now(); }
    state.polls++;
    render();
    // A hook for tests and scripts: how many rounds have been drawn.
    document.body.dataset.polls = String(state.polls);
    setTimeout(poll, POLL_MS);
  }

  // ------------------------------------------------------------------------------ rendering

  function render() {
    for (const part of [renderFacts, renderProblems, renderRing, renderShards, renderReplication,
      renderViewChange, renderLookup]) {
      try {
        part();
      } catch (e) { // one broken part must not blank the others
        console.error(part.name, e);
      }
    }
  }

  function renderFacts() {
    const ring = state.ring;
    const health = state.health;
    const repl = state.replication;
    $('fact-node').textContent = selfAddress() || '—';
    const shard = repl ? repl['shard-id'] : undefined;
    replace($('fact-shard'), shard === null ? 'none' : shard === undefined ? '—' : swatch(shard),
      shard === null || shard === undefined ? null : ' ' + shard);
    $('fact-epoch').textContent = ring ? String(ring.epoch) : '—';
    const status = health ? health.status : null;
    const kind = status === 'ready' ? 'live' : status ? 'warn' : 'down';
    replace($('fact-status'), h('span', { class: 'badge ' + kind }, status || 'unknown'));
    const ids = ring ? ring.shards.map((sh) => sh['shard-id']) : [];
    $('fact-dialect').textContent = ids.length === 0 ? '—'
      : typeof ids[0] === 'string' ? 'view-change (/kvs)' : 'shard (/key-value-store)';
    $('fact-updated').textContent = state.updatedAt ? fmtClock(state.updatedAt) : '—';
  }

  function renderProblems() {
    const el = $('problem');
    if (state.problems.length === 0) {
      el.hidden = true;
      el.textContent = '';
      return;
    }
    el.hidden = false;
    const text = 'Cannot read this node: ' + state.problems.join('; ')
      + (state.updatedAt ? '. Showing figures from ' + fmtClock(state.updatedAt) + '.' : '.');
    if (el.textContent !== text) { el.textContent = text; } // an alert is announced on change

  }

  function renderRing() {
    const svg = $('ring');
    const title = svg.querySelector('title');
    svg.replaceChildren(title);
    const ring = state.ring;
    if (!ring) { return; }
    const tokens = ring.tokens || [];
    const shards = ring.shards || [];
    $('ring-summary').textContent = tokens.length === 0
      ? 'No shards yet: this node is idle until a view change names it.'
      : `${tokens.length} tokens, ${ring['vnodes-per-shard']} per shard, `
        + `hash ${ring['hash-function']}.`
        + ' Each token owns the arc that ends at it.';
    svg.append(s('circle', { class: 'base', cx: 0, cy: 0, r: RING_RADIUS }));
    // Arcs: a token owns the arc from the previous token (exclusive) to itself; the first token
    // also owns the wrap-around.
    const arcs = s('g', { class: 'arcs' });
    const marks = s('g', { class: 'tokens' });
    const angles = tokens.map((t) => tokenAngle(t.token));
    tokens.forEach((t, i) => {
      const id = String(t['shard-id']);
      const colour = shardColour(id);
      const start = i === 0 ? angles[angles.length - 1] - 2 * Math.PI : angles[i - 1];
      arcs.append(s('path', {
        class: 'arc',
        d: arcPath(start, angles[i] + (tokens.length === 1 ? 2 * Math.PI : 0), RING_RADIUS),
        stroke: colour, 'data-shard': id,
      }));
      const [x, y] = point(angles[i], RING_RADIUS);
      marks.append(s('circle', {
        class: 'token', cx: fixed(x), cy: fixed(y), r: 5, fill: colour,
        'data-shard': id, 'data-token': t.token,
      }, s('title', {}, `token ${t.token} · shard ${id}`)));
    });
    svg.append(arcs, marks);
    const [tx, ty] = point(0, RING_RADIUS + 22);
    const [bx, by] = point(Math.PI, RING_RADIUS + 30);
    svg.append(s('text', { class: 'axis', x: fixed(tx), y: fixed(ty) }, '−2⁶³ | 2⁶³−1'));
    svg.append(s('text', { class: 'axis', x: fixed(bx), y: fixed(by) }, '0'));
    const answer = state.lookup && state.lookup.answer;
    svg.append(s('text', { class: 'centre-big', x: 0, y: answer ? -18 : -6 },
      `${shards.length} shard${shards.length === 1 ? '' : 's'}`));
    svg.append(s('text', { class: 'centre', x: 0, y: answer ? 6 : 18 },
      `epoch ${ring.epoch} · ${tokens.length} tokens`));
    if (answer) {
      // The looked-up key: a needle from the centre to its token, named in the centre.
      const a = tokenAngle(answer.token);
      const id = String(answer['shard-id']);
      const [x0, y0] = point(a, 96);
      const [x1, y1] = point(a, RING_RADIUS - 11);
      const name = answer.key.length > 24 ? answer.key.slice(0, 23) + '…' : answer.key;
      svg.append(s('g', { class: 'key-marker', 'data-key': answer.key },
        s('line', { x1: fixed(x0), y1: fixed(y0), x2: fixed(x1), y2: fixed(y1) }),
        s('circle', { cx: fixed(x1), cy: fixed(y1), r: 4 }),
        s('text', { x: 0, y: 34, 'text-anchor': 'middle' }, `“${name}” → shard ${id}`),
        s('title', {}, `key ${answer.key} · token ${answer.token} · shard ${id}`)));
    }
    const legend = $('legend');
    replace(legend, shards.map((sh) => h('li', { 'data-shard': String(sh['shard-id']) },
      swatch(sh['shard-id']), `Shard ${sh['shard-id']} · ${fmtPercent(sh['owned-fraction'])}`)));
  }

  function memberList(members, live, self) {
    if (members.length === 0) { return h('span', { class: 'empty' }, 'no members'); }
    return h('ul', { class: 'members' }, members.map((m) => h('li', { class: 'member' },
      h('span', { class: 'mono', 'data-member': m }, m), badge(live.has(m)),
      m === self ? h('span', { class: 'self-tag' }, 'this node') : null)));
  }

  function renderShards() {
    const body = $('shards').tBodies[0];
    const ring = state.ring;
    if (!ring) { return; }
    const self = selfAddress();
    const now = state.replication ? state.replication['now-ms'] : Date.now();
    if (ring.shards.length === 0) {
      replace(body, h('tr', {}, h('td', { colspan: 5, class: 'empty' }, 'No shards.')));
      return;
    }
    replace(body, ring.shards.map((sh) => {
      const id = String(sh['shard-id']);
      const live = new Set(sh['live-members'] || []);
      const stable = sh['stable-time'];
      // 0: some replica has not reported yet (just started, or down since this node started).
      const stableText = fmtCounter(stable);
      return h('tr', { 'data-shard-id': id },
        h('td', {}, h('span', { class: 'shard-id' }, swatch(id), id)),
        h('td', { class: 'num', 'data-field': 'owned-fraction' }, fmtPercent(sh['owned-fraction'])),
        h('td', { class: 'num', 'data-field': 'key-count' },
          sh['key-count'] === null ? 'unknown' : fmtInt(sh['key-count'])),
        h('td', { 'data-field': 'stable-time', title: 'Every replica of the shard holds every '
          + 'write at or below hybrid Lamport counter ' + stable },
        stableText === null ? h('span', { class: 'empty' }, 'not known yet')
          : [stableText, stable > 1e12 && now >= stable
            ? h('div', { class: 'small' }, fmtDuration(now - stable) + ' ago') : null]),
        h('td', {}, memberList(sh.members || [], live, self),
          h('div', { class: 'small' }, `${live.size} of ${(sh.members || []).length} live`)));
    }));
  }

  function renderReplication() {
    const repl = state.replication;
    const body = $('replication').tBodies[0];
    if (!repl) { return; }
    $('repl-summary').textContent = repl['shard-id'] === null
      ? 'This node is in no shard, so it replicates to nobody.'
      : `Writes this node made that a peer of shard ${repl['shard-id']} has not acknowledged yet `
        + `(bound: ${fmtInt(repl['queue-entries-max'])} keys per peer).`;
    const peers = repl.peers || [];
    if (peers.length === 0) {
      replace(body, h('tr', {}, h('td', { colspan: 4, class: 'empty' }, 'No peers.')));
      return;
    }
    replace(body, peers.map((p) => h('tr', { 'data-peer': p.peer },
      h('td', { class: 'mono' }, p.peer),
      h('td', {}, badge(p.live)),
      h('td', { class: 'num', 'data-field': 'pending' }, fmtInt(p.pending)),
      h('td', { class: 'num', 'data-field': 'oldest-unacked' },
        p['oldest-unacked-counter'] === null
          ? h('span', { class: 'empty' }, 'none — in sync')
          : [fmtDuration(p['oldest-unacked-age-ms']) + ' old',
            h('div', { class: 'small' }, 'counter ' + p['oldest-unacked-counter'])]))));
  }

  /**
   * The view change as the page shows it, from whatever the node tells: today GET /health/ready
   * (a configuration being installed: "view-change" with "pending-epoch"; "catching-up") and the
   * "last-view-change" of GET /ring. When a progress source exists (see SOURCES), map its fields
   * here: fraction (0..1), keys and bytes done and total, ETA.
   */
  function viewChangeProgress() {
    const health = state.health || {};
    const ring = state.ring || {};
    const change = state.progress; // GET /admin/view-change
    const progress = change && change.status && change.status !== 'idle' ? change : null;
    const last = ring['last-view-change'] || null;
    const out = {
      phase: health.status === 'view-change' ? 'installing'
        : health.status === 'catching-up' ? 'catching-up' : health.status ? 'idle' : 'unknown',
      epoch: ring.epoch,
      pendingEpoch: health['pending-epoch'] ?? null,
      fraction: null, keysDone: null, keysTotal: null, bytesDone: null, etaMs: null,
      last: last && {
        epoch: last.epoch, windowMs: last['window-ms'],
        keysSent: last['keys-sent'], bytesSent: last['bytes-sent'],
      },
    };
    if (progress) {
      const p = progress.progress || {};
      out.phase = progress.status === 'copying' ? 'running' : 'installing';
      out.pendingEpoch = progress.epoch ?? out.pendingEpoch;
      out.keysDone = p['keys-done'] ?? null;
      out.keysTotal = p['keys-total'] ?? null;
      out.bytesDone = p['bytes-done'] ?? null;
      out.etaMs = p['eta-ms'] ?? null;
      out.fraction = p.fraction ?? (out.keysTotal ? out.keysDone / out.keysTotal : null);
    }
    return out;
  }

  const PHASES = {
    idle: ['live', 'No view change in progress'],
    installing: ['warn', 'Installing a new configuration'],
    running: ['warn', 'Copying the keys that move (the cluster serves)'],
    'catching-up': ['warn', 'Catching up with its shard’s data'],
    unknown: ['down', 'Unknown (node not answering)'],
  };

  function renderViewChange() {
    const p = viewChangeProgress();
    const [kind, text] = PHASES[p.phase] || ['warn', p.phase];
    const parts = [h('div', { class: 'vc-state', 'data-phase': p.phase },
      h('span', { class: 'badge ' + kind }, p.phase), text,
      p.pendingEpoch !== null ? ` — epoch ${p.epoch} → ${p.pendingEpoch}` : null)];
    if (p.phase !== 'idle' && p.phase !== 'unknown') {
      // No fraction known: an indeterminate bar (no value attribute).
      const bar = h('progress',
        { class: 'vc-progress', max: 1, 'aria-label': 'View change progress' });
      if (p.fraction !== null) { bar.value = Math.max(0, Math.min(1, p.fraction)); }
      parts.push(bar);
      const figures = [];
      if (p.keysDone !== null) {
        figures.push(['Keys moved', fmtInt(p.keysDone)
          + (p.keysTotal !== null ? ' of ' + fmtInt(p.keysTotal) : '')]);
      }
      if (p.bytesDone !== null) { figures.push(['Bytes moved', fmtBytes(p.bytesDone)]); }
      if (p.etaMs !== null) { figures.push(['Time left', fmtDuration(p.etaMs)]); }
      if (figures.length) { parts.push(stats(figures, 'progress')); }
    }
    if (p.last) {
      parts.push(h('h3', { class: 'vc-last' }, 'Last view change this node took part in'));
      parts.push(stats([['Epoch', p.last.epoch],
        ['Key requests refused for', fmtDuration(p.last.windowMs)],
        ['Keys sent', fmtInt(p.last.keysSent)], ['Bytes sent', fmtBytes(p.last.bytesSent)]],
      'last-view-change'));
    } else {
      parts.push(h('p', { class: 'small' },
        'This node has taken part in no view change since it started.'));
    }
    replace($('view-change'), parts);
  }

  /** Figures side by side: a label above each value (values may be elements). */
  function stats(pairs, section) {
    return h('dl', { class: 'stats', 'data-section': section || null },
      pairs.map(([k, v, field]) => h('div', {}, h('dt', {}, k),
        h('dd', { 'data-field': field || null }, v instanceof Node ? v : String(v)))));
  }

  // ------------------------------------------------------------------------------ key lookup

  /** Percent-encodes a key as one path segment ('.' too, so "." and ".." stay keys). */
  const encodeKey = (key) => encodeURIComponent(key).replace(/\./g, '%2E');

  async function lookUp(key) {
    state.lookup = { key, pending: true };
    renderLookup();
    try {
      const answer = await fetchJson('/ring/key/' + encodeKey(key));
      state.lookup = { key, answer };
    } catch (e) {
      const reason = e.body && (e.body.error || e.body.message);
      state.lookup = { key, error: reason || e.message };
    }
    render();
  }

  function renderLookup() {
    const el = $('lookup-result');
    const l = state.lookup;
    if (!l) {
      el.replaceChildren();
      return;
    }
    if (l.pending) {
      replace(el, h('p', { class: 'small' }, 'Looking up…'));
      return;
    }
    if (l.error) {
      replace(el, h('p', { class: 'lookup-error', 'data-lookup': 'error' },
        `“${l.key}”: ${l.error}`));
      return;
    }
    const a = l.answer;
    const id = String(a['shard-id']);
    const live = liveSet();
    const result = stats([
      ['Key', h('span', { class: 'mono' }, a.key), 'key'],
      ['Token', h('span', { class: 'mono' }, a.token), 'token'],
      ['Shard', h('span', { class: 'shard-id' }, swatch(id), id), 'shard-id'],
      ['Replicas', memberList(a.members || [], live, selfAddress()), 'members']]);
    result.dataset.lookup = 'found';
    result.dataset.key = a.key;
    replace(el, result);
  }

  function startLookup() {
    const form = $('lookup');
    const input = $('lookup-key');
    form.addEventListener('submit', (event) => {
      event.preventDefault();
      const key = input.value;
      if (key === '') {
        state.lookup = null;
        render();
        return;
      }
      const url = new URL(location.href);
      url.searchParams.set('key', key);
      history.replaceState(null, '', url); // the look-up can be shared as a link
      lookUp(key);
    });
    // ?key=<key>: look it up at once (a link to a key, and how the tests drive the look-up).
    const key = new URLSearchParams(location.search).get('key');
    if (key) {
      input.value = key;
      lookUp(key);
    }
  }

  startLookup();
  poll();
}());
