// clawtrail web view: live rows over server-sent events.
//
// The page is complete without this script (the server renders every row); the
// script only adds rows that land while the page is open. Every value from the
// ledger is set with textContent, never parsed as HTML, because a command is
// whatever the agent typed.
'use strict';

(function () {
  const tbody = document.getElementById('rows');
  if (!tbody || !tbody.dataset.stream || !window.EventSource) {
    return;
  }
  const limit = parseInt(tbody.dataset.limit || '50', 10);
  const live = document.getElementById('live');
  const empty = document.getElementById('empty');

  function text(tag, value, cls) {
    const el = document.createElement(tag);
    el.textContent = value === null || value === undefined ? '' : String(value);
    if (cls) {
      el.className = cls;
    }
    return el;
  }

  function link(href, value, cls) {
    const a = text('a', value, cls);
    a.href = href;
    return a;
  }

  function cell(child, cls) {
    const td = document.createElement('td');
    if (cls) {
      td.className = cls;
    }
    if (child) {
      td.appendChild(child);
    }
    return td;
  }

  function duration(ms) {
    if (ms === null || ms === undefined) {
      return '';
    }
    if (ms < 1000) {
      return ms + ' ms';
    }
    if (ms < 60000) {
      return (ms / 1000).toFixed(1) + ' s';
    }
    return Math.floor(ms / 60000) + ' min ' + Math.round((ms % 60000) / 1000) + ' s';
  }

  function row(item) {
    const tr = document.createElement('tr');
    tr.id = 'x' + item.seq;
    tr.className = 'row-' + item.provenance + ' fresh';
    tr.appendChild(cell(text('time', item.time_display), 'time'));
    const badge = document.createElement('td');
    badge.className = 'prov';
    badge.appendChild(text('span', item.badge, 'badge b-' + item.provenance));
    if (item.tool) {
      badge.appendChild(text('span', '(tool: ' + item.tool + ')', 'tool'));
    }
    tr.appendChild(badge);
    const cmd = cell(link('/exec/' + item.seq, item.command_display, 'cmd'), 'command');
    tr.appendChild(cmd);
    tr.appendChild(cell(text('span', item.exit_code === null || item.exit_code === undefined ? '' : item.exit_code), 'num'));
    tr.appendChild(cell(text('span', duration(item.duration_ms)), 'num'));
    tr.appendChild(cell(text('span', item.cwd), 'cwd'));
    tr.appendChild(cell(text('span', item.agent), 'agent'));
    tr.appendChild(cell(item.session_url ? link(item.session_url, item.session, 'sess') : text('span', item.session), 'session'));
    tr.appendChild(cell(link('/exec/' + item.seq, '#' + item.seq), 'num seq'));
    return tr;
  }

  function upsert(item) {
    const fresh = row(item);
    const old = document.getElementById(fresh.id);
    if (old) {
      old.replaceWith(fresh);
    } else {
      tbody.insertBefore(fresh, tbody.firstChild);
      while (tbody.rows.length > limit) {
        tbody.deleteRow(tbody.rows.length - 1);
      }
    }
    if (empty) {
      empty.hidden = true;
    }
  }

  const source = new EventSource(tbody.dataset.stream);
  source.addEventListener('open', function () {
    if (live) {
      live.textContent = 'live';
      live.className = 'live on';
    }
  });
  source.addEventListener('error', function () {
    if (live) {
      live.textContent = 'reconnecting';
      live.className = 'live off';
    }
  });
  source.addEventListener('exec', function (ev) {
    upsert(JSON.parse(ev.data));
  });
  source.addEventListener('reset', function () {
    // Too much happened while we were away to replay it: show the server's page.
    source.close();
    window.location.reload();
  });
})();
