// What the publish page (publish.js) and the watch page (watch.js) share: the query (?stream=,
// ?token=), the log panel, the state pill, and window.live — the state, counters and actions the
// browser test (Examples/LiveServer/browser-test/test_live.py) reads and calls.
'use strict';

(function (global) {
  const $ = (id) => document.getElementById(id);
  const query = new URLSearchParams(location.search);
  const STREAM_RE = /^[A-Za-z0-9_-]{1,64}$/;

  const logLines = [];
  function log(kind, text) {
    const line = `${(performance.now() / 1000).toFixed(3)} ${text}`;
    logLines.push(line);
    if (logLines.length > 500) logLines.shift();
    const el = $('log');
    if (!el) return;
    const div = document.createElement('div');
    div.className = kind;
    div.textContent = line;
    el.appendChild(div);
    while (el.childNodes.length > 300) el.removeChild(el.firstChild);
    el.scrollTop = el.scrollHeight;
  }

  function pill(text, cls) {
    const el = $('status');
    if (!el) return;
    el.textContent = text;
    el.className = 'pill' + (cls ? ' ' + cls : '');
  }

  const pillClass = (s) => (s === 'connected' ? 'ok' : ['failed', 'error', 'closed'].includes(s) ? 'bad' : s === 'idle' ? '' : 'busy');

  function fmtBits(bps) {
    if (bps == null) return '–';
    if (bps >= 1e6) return (bps / 1e6).toFixed(2) + ' Mbit/s';
    return (bps / 1e3).toFixed(0) + ' kbit/s';
  }

  /** Fills a <table id=stats> body: rows [[name, value], …]. */
  function showStats(rows) {
    const tb = document.querySelector('#stats tbody');
    if (!tb) return;
    tb.textContent = '';
    for (const [k, v] of rows) {
      const tr = document.createElement('tr');
      const th = document.createElement('th');
      const td = document.createElement('td');
      th.textContent = k;
      td.textContent = v == null ? '–' : String(v);
      tr.append(th, td);
      tb.appendChild(tr);
    }
  }

  /**
   * window.live: role, stream, state ('idle', 'connecting', 'connected', 'disconnected', 'failed',
   * 'closed', 'stopped' or 'error'), ice, errors, httpStatus, counters (the client's and the
   * page's), timing; snapshot() → all of it as plain JSON; log() → the log lines.
   */
  function makeLive(role) {
    const live = {
      role,
      stream: null,
      state: 'idle',
      ice: null,
      errors: [],
      httpStatus: null,
      counters: {},
      timing: {},
      client: null,
      log: () => logLines.slice(),
      snapshot() {
        const c = live.client;
        return {
          role: live.role, stream: live.stream, state: live.state, ice: live.ice, errors: live.errors.slice(),
          httpStatus: c ? c.lastStatus : live.httpStatus,
          counters: Object.assign({}, c ? c.counters : {}, live.counters),
          timing: Object.assign({}, c ? c.timing : {}, live.timing),
          clientErrors: c ? c.errors.slice() : [],
          resource: c && c.resource ? new URL(c.resource).pathname : null,
        };
      },
    };
    global.live = live;
    return live;
  }

  global.LivePage = { $, query, STREAM_RE, log, pill, pillClass, fmtBits, showStats, makeLive };
})(window);
