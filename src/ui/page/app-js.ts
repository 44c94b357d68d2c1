/**
 * The dashboard script, served as /ui/app.js (a file, not inline: the CSP allows scripts from self only).
 * ASCII only, non-ASCII as \u escapes the browser reads in its string literals: one non-ASCII
 * character makes V8 hold berth's whole bundle as a two-byte string.
 */
export const APP_JS = String.raw`// berth dashboard: draws the status model from the live feed (/api/events).
// Read-only. Every value is put in with textContent, never as HTML: commit
// subjects and image names come from the repository and are not trusted.
(function () {
  'use strict';
  var $ = function (id) { return document.getElementById(id); };

  function el(tag, cls, children) {
    var e = document.createElement(tag);
    if (cls) e.className = cls;
    (children || []).forEach(function (c) {
      if (c === null || c === undefined) return;
      e.appendChild(typeof c === 'string' || typeof c === 'number' ? document.createTextNode(String(c)) : c);
    });
    return e;
  }
  function badge(text, kind) { return el('span', 'badge ' + (kind || slug(text)), [text]); }
  function slug(s) { return String(s || '').toLowerCase().replace(/[^a-z0-9]+/g, '-'); }
  function shortSha(s) { return s ? String(s).slice(0, 12) : '\u2014'; }
  function shortDigest(s) { return s ? String(s).replace(/^sha256:/, '').slice(0, 12) : '\u2014'; }
  function when(iso) {
    if (!iso) return '\u2014';
    var d = new Date(iso);
    var secs = Math.round((Date.now() - d.getTime()) / 1000);
    var ago = secs < 60 ? secs + 's ago' : secs < 3600 ? Math.round(secs / 60) + 'm ago' : secs < 86400 ? Math.round(secs / 3600) + 'h ago' : Math.round(secs / 86400) + 'd ago';
    var t = el('time', null, [ago]);
    t.setAttribute('datetime', iso);
    t.title = iso;
    return t;
  }
  function cell(label, content, cls) {
    var td = el('td', cls, [content]);
    td.setAttribute('data-label', label);
    return td;
  }
  function table(head, rows) {
    var thead = el('thead', null, [el('tr', null, head.map(function (h) { return el('th', null, [h]); }))]);
    return el('div', 'scroll', [el('table', null, [thead, el('tbody', null, rows)])]);
  }
  function section(id, title, body) {
    var s = el('section', 'card', [el('h2', null, [title])].concat(body));
    s.id = id;
    return s;
  }
  function replace(node, children) {
    while (node.firstChild) node.removeChild(node.firstChild);
    children.forEach(function (c) { if (c) node.appendChild(c); });
  }
  function opsText(s) {
    var parts = [];
    if (s.create) parts.push(s.create + ' create');
    if (s.recreate) parts.push(s.recreate + ' recreate');
    if (s.update) parts.push(s.update + ' update');
    if (s.remove) parts.push(s.remove + ' remove');
    return parts.length ? parts.join(', ') : 'no ops';
  }

  function header(st) {
    replace($('summary'), [
      el('div', 'line', [el('strong', null, [st.host || 'berth']), ' ', badge(st.sync)]),
      el('div', 'line muted', [st.repo + ' \u00b7 ' + st.branch]),
      el('div', 'line', ['revision ', el('code', null, [st.revision ? st.revision.short : '\u2014']), st.revision && st.revision.subject ? ' ' + st.revision.subject : '']),
      el('div', 'line muted', ['last sync ', st.lastResult ? when(st.lastResult.at) : '\u2014', st.lastResult ? ' \u00b7 ' + st.lastResult.outcome : '', st.running ? ' \u00b7 reconciling\u2026' : '']),
    ]);
  }

  function problems(st) {
    var out = [];
    if (st.fetchError) out.push(section('fetch-error', 'Repository unreachable', [el('p', 'bad', [st.fetchError.message + ' (' + st.fetchError.failures + ' failures)'])]));
    if (st.validationErrors && st.validationErrors.length) {
      out.push(section('invalid', 'Invalid commit (not applied)', [el('ul', null, st.validationErrors.map(function (d) {
        return el('li', null, [el('code', null, [d.file + ':' + d.line + ':' + d.col]), ' ' + d.message]);
      }))]));
    }
    if (st.held && st.held.services.length) {
      out.push(section('held', 'Held rollouts', [
        el('p', null, ['Rolled back at ', el('code', null, [shortSha(st.held.revision)]), '; not retried until a new commit:']),
        el('ul', null, st.held.services.map(function (s) { return el('li', null, [badge('held'), ' ', s]); })),
      ]));
    }
    if (st.backoff) out.push(section('backoff', 'Retrying', [el('p', null, ['Revision ', el('code', null, [shortSha(st.backoff.revision)]), ' failed ' + st.backoff.attempts + '\u00d7; next try ', when(st.backoff.until)])]));
    return out;
  }

  function drift(st) {
    var items = st.drift || [];
    var body = items.length === 0
      ? [el('p', 'muted', ['No open drift: the host matches what berth applied.'])]
      : [table(['Object', 'Kind', 'What', 'Expected', 'Found'], items.map(function (d) {
          var tr = el('tr', 'drift-item', [
            cell('Object', d.stack + '/' + d.object),
            cell('Kind', d.kind),
            cell('What', badge(d.aspect, 'warn')),
            cell('Expected', d.expected),
            cell('Found', d.found),
          ]);
          tr.setAttribute('data-drift', d.id);
          return tr;
        }))];
    var recent = st.driftEvents || [];
    if (recent.length) {
      body.push(el('details', null, [el('summary', null, ['Recent drift events (' + recent.length + ')']), el('ul', 'events', recent.map(function (e) {
        return el('li', null, [when(e.at), ' ', e.change === 'appeared' ? badge('appeared', 'warn') : badge(e.resolution || 'resolved', 'ok'), ' ' + e.id]);
      }))]));
    }
    return section('drift', 'Drift (' + items.length + ')', body);
  }

  // berth.yaml hosts: one row per host, and each stack says which host it runs on.
  function hosts(st) {
    if (!st.hosts || !st.hosts.length) return [];
    return [section('hosts', 'Hosts (' + st.hosts.length + ')', [table(['Host', 'Engine', 'Engine state', 'Sync', 'Revision', 'Stacks', 'Drift'], st.hosts.map(function (h) {
      var tr = el('tr', null, [
        cell('Host', el('strong', null, [h.host])),
        cell('Engine', el('code', null, [h.docker])),
        cell('Engine state', h.up === false ? badge('unreachable', 'failed') : h.up ? badge('up', 'ok') : el('span', 'muted', ['\u2014'])),
        cell('Sync', badge(h.sync)),
        cell('Revision', el('code', null, [shortSha(h.lastApplied && h.lastApplied.revision)])),
        cell('Stacks', h.stacks.join(', ')),
        cell('Drift', String(h.drift)),
      ]);
      tr.setAttribute('data-host', h.host);
      if (h.error) tr.title = h.error;
      return tr;
    }))])];
  }

  function stacks(st) {
    if (!st.stacks.length) return [section('stacks', 'Stacks', [el('p', 'muted', ['No stacks yet: waiting for the first sync.'])])];
    return st.stacks.map(function (s) {
      var rows = s.services.map(function (svc) {
        var tr = el('tr', null, [
          cell('Service', el('strong', null, [svc.name])),
          cell('State', badge(svc.state)),
          cell('Health', svc.health ? badge(svc.health) : el('span', 'muted', ['\u2014'])),
          cell('Replicas', svc.replicas ? svc.replicas.running + '/' + svc.replicas.desired : svc.containers === undefined ? '\u2014' : String(svc.containers)),
          cell('Image', el('code', null, [svc.image || '\u2014'])),
          cell('Digest', el('code', null, [shortDigest(svc.imageId)])),
          cell('Revision', el('code', null, [shortSha(svc.revision)])),
          cell('Sync', svc.drift ? el('span', null, [badge(svc.sync), ' ', badge(svc.drift + ' drift', 'warn')]) : badge(svc.sync)),
        ]);
        tr.setAttribute('data-service', s.name + '/' + svc.name);
        return tr;
      });
      var sec = section('stack-' + slug(s.name), (s.host ? s.host + ' \u00b7 ' : '') + s.name, [table(['Service', 'State', 'Health', 'Replicas', 'Image', 'Digest', 'Revision', 'Sync'], rows)]);
      sec.setAttribute('data-stack', s.name);
      if (s.host) sec.setAttribute('data-host', s.host);
      return sec;
    });
  }

  function deploys(st) {
    var list = st.deploys || [];
    if (!list.length) return section('deploys', 'Last deploys', [el('p', 'muted', ['No deploys recorded on this host yet.'])]);
    return section('deploys', 'Last deploys', [table(['When', 'Revision', 'Subject', 'Author', 'Result', 'Ops', 'Duration'], list.map(function (d) {
      var rb = d.rollbacks || [];
      var result = rb.length ? badge('rolled back: ' + rb.map(function (r) { return r.object + ' (' + r.gate + ')'; }).join(', '), 'failed') : badge(d.result);
      return el('tr', null, [
        cell('When', when(d.at)),
        cell('Revision', el('code', null, [shortSha(d.revision)])),
        cell('Subject', d.subject || ''),
        cell('Author', d.author || ''),
        cell('Result', result),
        cell('Ops', opsText(d.summary)),
        cell('Duration', (d.durationMs / 1000).toFixed(1) + 's'),
      ]);
    }))]);
  }

  function render(st) {
    if (!st) return;
    header(st);
    replace($('content'), problems(st).concat(hosts(st), [drift(st)], stacks(st), [deploys(st)]));
    document.title = 'berth \u00b7 ' + (st.host || '') + ' \u00b7 ' + st.sync;
    document.body.setAttribute('data-sync', slug(st.sync));
  }

  var last = null;
  // Relative times ("12s ago") are redrawn even when nothing else changes.
  setInterval(function () { render(last); }, 15000);

  function connect() {
    var live = $('live');
    var feed = new EventSource('/api/events');
    feed.addEventListener('status', function (ev) {
      live.textContent = 'live';
      live.className = 'badge ok';
      last = JSON.parse(ev.data);
      render(last);
    });
    feed.onerror = function () {
      live.textContent = 'reconnecting\u2026';
      live.className = 'badge warn';
    };
  }
  connect();
})();
`;
