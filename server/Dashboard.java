package server;

import http.Replies;

import com.sun.net.httpserver.HttpExchange;

import java.nio.charset.StandardCharsets;
import java.security.SecureRandom;
import java.util.HexFormat;

/**
 * GET /calls from a browser: one page of plain HTML, CSS and JS (no build step, nothing from elsewhere) that reads
 * the JSON routes beside it: the counts by state, the calls newest first (filtered, a page at a time), a call's
 * monitor, its buttons (run again, cancel, run all failed again), and /calls/events to read them again as they
 * change. The page holds no data: it is served without the token, and asks for it once (kept in the tab's
 * sessionStorage, sent as a bearer token, never in a URL or a cookie).
 */
public final class Dashboard {
    private static final SecureRandom RANDOM = new SecureRandom();

    private Dashboard() {}

    /** Whether a GET of /calls asks for the page (a browser's Accept) rather than the JSON list. */
    public static boolean wanted(HttpExchange exchange) {
        String accept = exchange.getRequestHeaders().getFirst("Accept");
        return accept != null && accept.contains("text/html");
    }

    public static void page(HttpExchange exchange) {
        byte[] nonce = new byte[12];
        RANDOM.nextBytes(nonce);
        String n = HexFormat.of().formatHex(nonce);
        var h = exchange.getResponseHeaders();
        h.set("Content-Type", "text/html; charset=UTF-8");
        h.set("Cache-Control", "no-store");
        h.set("X-Content-Type-Options", "nosniff");
        h.set("Referrer-Policy", "no-referrer");
        h.set("Content-Security-Policy", "default-src 'none'; script-src 'nonce-" + n + "'; style-src 'nonce-" + n
            + "'; connect-src 'self'; form-action 'none'; base-uri 'none'; frame-ancestors 'none'");
        Replies.send(exchange, 200, HTML.replace("NONCE", n).getBytes(StandardCharsets.UTF_8), Replies.hasBody(exchange));
    }

    private static final String HTML = """
        <!doctype html>
        <html lang="en">
        <head>
        <meta charset="utf-8">
        <meta name="viewport" content="width=device-width, initial-scale=1">
        <title>asynccall: calls</title>
        <style nonce="NONCE">
        body { font: 14px/1.4 system-ui, sans-serif; margin: 0; color: #1d2329; background: #f6f7f9; }
        header { display: flex; gap: 1em; align-items: center; flex-wrap: wrap; padding: .6em 1em; background: #1d2329; color: #fff; }
        h1 { font-size: 1.1em; margin: 0 1em 0 0; }
        #counts { display: flex; gap: .4em; flex-wrap: wrap; }
        .count { border: 0; border-radius: 1em; padding: .25em .8em; cursor: pointer; font: inherit; }
        .count b { margin-left: .4em; }
        #live { margin-left: auto; font-size: .9em; opacity: .6; }
        #live[data-live=on] { opacity: 1; color: #7ee08a; }
        form, #message, main { padding: .5em 1em; }
        form label { margin-right: .6em; }
        input, select, button { font: inherit; }
        #message:empty { display: none; }
        #message { background: #fff4d6; margin: 0; }
        main { display: grid; grid-template-columns: minmax(0, 3fr) minmax(0, 2fr); gap: 1em; align-items: start; }
        table { border-collapse: collapse; width: 100%; background: #fff; }
        th, td { text-align: left; padding: .3em .5em; border-bottom: 1px solid #e3e6ea; white-space: nowrap; }
        td.req { white-space: normal; word-break: break-all; font-family: ui-monospace, monospace; font-size: .9em; }
        tbody tr { cursor: pointer; }
        tbody tr:hover, tr.selected { background: #eef4ff; }
        .state { border-radius: .3em; padding: 0 .4em; font-size: .9em; }
        .queued { background: #e3e6ea; } .retrying { background: #ffe1a8; } .working { background: #c8e0ff; }
        .done { background: #c9f0d0; } .failed { background: #ffc9c9; } .cancelled { background: #ddd3f0; }
        #detail { background: #fff; padding: .5em 1em; border: 1px solid #e3e6ea; }
        #detail h2 { font-size: 1em; }
        dl { display: grid; grid-template-columns: max-content 1fr; gap: .2em 1em; }
        dt { color: #5b6570; } dd { margin: 0; word-break: break-all; }
        pre { background: #f6f7f9; padding: .5em; white-space: pre-wrap; word-break: break-all; max-height: 20em; overflow: auto; }
        @media (max-width: 900px) { main { grid-template-columns: 1fr; } }
        </style>
        </head>
        <body>
        <header><h1>asynccall calls</h1><nav id="counts"></nav><span id="live" data-live="off">live</span></header>
        <form id="token" hidden>
        <label>This endpoint takes its token: <input type="password" id="token-value" autocomplete="off" required></label>
        <button>Use it</button> (kept in this tab only, sent as <code>Authorization: Bearer</code>)
        </form>
        <form id="filters">
        <label>state <select id="f-state"><option value="">any</option><option>queued</option><option>retrying</option>
        <option>working</option><option>done</option><option>failed</option><option>cancelled</option></select></label>
        <label>group <input id="f-group" size="10"></label>
        <label>key <input id="f-key" size="10"></label>
        <label>since <input id="f-since" type="datetime-local" step="1"></label>
        <label>until <input id="f-until" type="datetime-local" step="1"></label>
        <button>Filter</button> <button type="button" id="clear">Clear</button>
        <button type="button" id="rerun-failed">Run all failed again</button>
        </form>
        <p id="message" role="status"></p>
        <main>
        <div>
        <table id="calls"><thead><tr><th>accepted</th><th>call</th><th>state</th><th>request</th><th>group</th><th>attempts</th></tr></thead>
        <tbody></tbody></table>
        <p><button type="button" id="newest" disabled>Newest</button> <button type="button" id="older" disabled>Older</button></p>
        </div>
        <section id="detail" hidden>
        <h2>Call <code id="d-id"></code></h2>
        <p><button type="button" data-action="retry">Run again</button> <button type="button" data-action="cancel">Cancel</button>
        <button type="button" data-action="close">Close</button></p>
        <dl id="d-fields"></dl>
        <h3>Attempts</h3><ol id="d-tries"></ol>
        <h3>Answer</h3><pre id="d-answer"></pre>
        </section>
        </main>
        <script nonce="NONCE">
        'use strict';
        const $ = id => document.getElementById(id);
        const STATES = ['queued', 'retrying', 'working', 'done', 'failed', 'cancelled'];
        let token = sessionStorage.getItem('asynccall-token');
        let filters = {}, before = null, older = [], next = null, selected = null, following = 0, pending = false;

        function el(tag, cls, text) {
          const e = document.createElement(tag);
          if (cls) e.className = cls;
          if (text !== undefined && text !== null) e.textContent = String(text);
          return e;
        }
        function say(text) { $('message').textContent = text || ''; }
        function local(t) { return t ? new Date(t).toLocaleString() : ''; }

        async function api(path, method) {
          const headers = { 'Accept': 'application/json' };
          if (token) headers['Authorization'] = 'Bearer ' + token;
          const r = await fetch(path, { method: method || 'GET', headers, cache: 'no-store' });
          if (r.status === 401) {
            $('token').hidden = false;
            $('token-value').focus();
            throw new Error('This endpoint takes its token.');
          }
          return r;
        }

        function query() {
          const q = new URLSearchParams();
          for (const [k, v] of Object.entries(filters)) if (v) q.set(k, v);
          if (before) q.set('before', before);
          return q.toString();
        }

        async function refresh() {
          try {
            const [counts, list] = await Promise.all([api('/calls/counts'), api('/calls?' + query())]);
            if (counts.ok) showCounts(await counts.json());
            if (list.ok) showList(await list.json()); else say(await list.text());
            if (selected) await showDetail(selected);
          } catch (e) {
            say(e.message);
          }
        }

        function showCounts(c) {
          $('counts').replaceChildren(...STATES.map(s => {
            const b = el('button', 'count ' + s, s);
            b.type = 'button';
            b.dataset.count = s;
            b.dataset.n = c[s] || 0;
            b.append(el('b', null, c[s] || 0));
            b.onclick = () => { $('f-state').value = s; apply(); };
            return b;
          }));
        }

        function showList(l) {
          next = l.next ? new URL(l.next, location.href).searchParams.get('before') : null;
          const rows = l.calls.map(c => {
            const tr = el('tr', c.id === selected ? 'selected' : null);
            tr.dataset.id = c.id;
            tr.dataset.state = c.state;
            const state = el('td');
            state.append(el('span', 'state ' + c.state, c.state));
            tr.append(el('td', null, local(c.accepted)), el('td', null, c.id.slice(0, 12)), state,
              el('td', 'req', c.method ? c.method + ' ' + c.uri : ''), el('td', null, c.group), el('td', null, c.attempts));
            tr.onclick = () => showDetail(c.id);
            return tr;
          });
          if (!rows.length) {
            const td = el('td', null, before ? 'No older calls.' : 'No calls.');
            td.colSpan = 6;
            rows.push(el('tr'));
            rows[0].append(td);
          }
          $('calls').tBodies[0].replaceChildren(...rows);
          $('older').disabled = !next;
          $('newest').disabled = !before;
        }

        async function showDetail(id) {
          selected = id;
          const r = await api('/calls/' + id);
          if (!r.ok) {
            $('detail').hidden = true;
            selected = null;
            return;
          }
          const c = await r.json();
          const d = $('detail');
          d.hidden = false;
          d.dataset.id = id;
          d.dataset.state = c.state;
          $('d-id').textContent = id;
          const fields = [['state', c.state], ['request', c.method ? c.method + ' ' + c.uri : null], ['key', c.key], ['group', c.group],
            ['accepted', local(c.accepted)], ['started', local(c.started)], ['finished', local(c.finished)], ['next', local(c.next)],
            ['status', c.status], ['exit', c.exit], ['note', c.note],
            ['callback', c.callback ? c.callback.url + ': ' + c.callback.state + ' (' + c.callback.attempts + ' attempts'
              + (c.callback.status ? ', last ' + c.callback.status : '') + ')' : null]];
          $('d-fields').replaceChildren(...fields.filter(f => f[1] !== null && f[1] !== undefined && f[1] !== '')
            .flatMap(f => [el('dt', null, f[0]), el('dd', null, f[1])]));
          $('d-tries').replaceChildren(...(c.tries || []).map(t => {
            const li = el('li', null, local(t.started) + ', ' + (t.exit !== undefined ? 'exit ' + t.exit : 'status ' + t.status));
            if (t.stderr) li.append(el('pre', null, t.stderr));
            return li;
          }));
          $('d-answer').textContent = (c.answer || '') + (c.answer_bytes > (c.answer || '').length ? '\\n… (' + c.answer_bytes + ' bytes in all)' : '');
          d.querySelector('[data-action=retry]').disabled = !['failed', 'cancelled'].includes(c.state);
          d.querySelector('[data-action=cancel]').disabled = !['queued', 'retrying', 'working'].includes(c.state);
          for (const tr of $('calls').tBodies[0].rows) tr.classList.toggle('selected', tr.dataset.id === id);
        }

        async function act(method, path, done) {
          try {
            const r = await api(path, method);
            say(r.ok ? done(r.status, await r.text()) : r.status + ': ' + (await r.text()));
            refresh();
          } catch (e) {
            say(e.message);
          }
        }

        function apply() {
          const iso = v => v ? new Date(v).toISOString() : '';
          filters = { state: $('f-state').value, group: $('f-group').value, key: $('f-key').value,
            since: iso($('f-since').value), until: iso($('f-until').value) };
          before = null;
          older = [];
          refresh();
        }

        $('filters').addEventListener('submit', e => { e.preventDefault(); apply(); });
        $('clear').onclick = () => { $('filters').reset(); apply(); };
        $('older').onclick = () => { older.push(before); before = next; refresh(); };
        $('newest').onclick = () => { before = null; older = []; refresh(); };
        $('rerun-failed').onclick = () => act('POST', '/calls/retry?state=failed', (s, t) => JSON.parse(t).retried + ' failed calls run again');
        $('detail').querySelector('[data-action=retry]').onclick = () => act('POST', '/calls/' + selected + '/retry', () => 'Run again.');
        $('detail').querySelector('[data-action=cancel]').onclick = () =>
          act('DELETE', '/calls/' + selected, s => s === 200 ? 'Cancelled.' : 'Being cancelled: its work is ending.');
        $('detail').querySelector('[data-action=close]').onclick = () => { selected = null; $('detail').hidden = true; refresh(); };
        $('token').addEventListener('submit', e => {
          e.preventDefault();
          token = $('token-value').value.trim();
          sessionStorage.setItem('asynccall-token', token);
          $('token').hidden = true;
          say('');
          refresh();
          follow();
        });

        // The changes, read as an event stream with fetch (EventSource cannot send the token); the page is read again on each.
        async function follow() {
          const mine = ++following;
          while (mine === following) {
            try {
              const headers = token ? { 'Authorization': 'Bearer ' + token } : {};
              const r = await fetch('/calls/events', { headers, cache: 'no-store' });
              if (r.status === 401) return;
              if (!r.ok) throw new Error(r.status);
              $('live').dataset.live = 'on';
              const reader = r.body.getReader(), text = new TextDecoder();
              let buffer = '';
              for (;;) {
                const { value, done } = await reader.read();
                if (done || mine !== following) break;
                buffer += text.decode(value, { stream: true });
                let end;
                while ((end = buffer.indexOf('\\n\\n')) >= 0) {
                  if (/^event: changed$/m.test(buffer.slice(0, end)) && !pending) {
                    pending = true;
                    setTimeout(() => { pending = false; refresh(); }, 50);
                  }
                  buffer = buffer.slice(end + 2);
                }
              }
            } catch (e) {
              // down for a moment: tried again below
            }
            $('live').dataset.live = 'off';
            await new Promise(done => setTimeout(done, 2000));
          }
        }

        refresh();
        follow();
        </script>
        </body>
        </html>
        """;
}
