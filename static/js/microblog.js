// Our JavaScript: no framework, no CDN. Pages work without it; it only makes them nicer.
'use strict';

// Chapter 12 (Flask-Moment's part): dates as "3 minutes ago", in the page's language and the
// reader's time zone, with the full date on hover. The server writes a readable UTC date inside
// each <time datetime="..."> element, which is what a reader without JavaScript sees.
(function () {
  // The page's language (<html lang>, chapter 13): the browser's Intl names the units in it.
  const lang = document.documentElement.lang || 'en';
  const relative = new Intl.RelativeTimeFormat(lang, { numeric: 'auto' });
  const full = new Intl.DateTimeFormat(lang, { dateStyle: 'long', timeStyle: 'short' });
  const units = [
    ['year', 365 * 24 * 3600], ['month', 30 * 24 * 3600], ['week', 7 * 24 * 3600],
    ['day', 24 * 3600], ['hour', 3600], ['minute', 60], ['second', 1],
  ];

  function fromNow(date) {
    const seconds = (date.getTime() - Date.now()) / 1000;
    for (const [unit, size] of units) {
      if (Math.abs(seconds) >= size || unit === 'second') {
        return relative.format(Math.round(seconds / size), unit);
      }
    }
  }

  function renderTimes(root) {
    root.querySelectorAll('time[datetime]').forEach(function (el) {
      const date = new Date(el.getAttribute('datetime'));
      if (isNaN(date)) return;
      el.title = full.format(date);
      el.textContent = el.hasAttribute('data-relative') ? fromNow(date) : full.format(date);
    });
  }

  window.microblogRenderTimes = renderTimes;
  renderTimes(document);
  setInterval(function () { renderTimes(document); }, 60 * 1000);
})();

// Chapter 20: hovering a username shows a card from /user/<name>/popup, with the avatar, the
// counts and the follow button. The card's HTML comes from our own server, escaped by Tera.
(function () {
  const cache = new Map();
  let card = null;
  let showTimer = null;
  let hideTimer = null;

  function hide() {
    if (card) { card.remove(); card = null; }
  }

  function place(link, html) {
    hide();
    card = document.createElement('div');
    card.className = 'user-popup-box card shadow p-3';
    card.setAttribute('role', 'dialog');
    card.setAttribute('aria-label', link.textContent.trim());
    card.innerHTML = html;
    const box = link.getBoundingClientRect();
    card.style.left = (window.scrollX + box.left) + 'px';
    card.style.top = (window.scrollY + box.bottom + 6) + 'px';
    card.addEventListener('mouseenter', function () { clearTimeout(hideTimer); });
    card.addEventListener('mouseleave', function () { hideTimer = setTimeout(hide, 300); });
    document.body.appendChild(card);
    // Kept on the screen: a name near the right edge opens its card leftwards.
    const width = document.documentElement.clientWidth;
    const right = card.getBoundingClientRect().right;
    if (right > width - 8) {
      const left = window.scrollX + box.left - (right - (width - 8));
      card.style.left = Math.max(window.scrollX + 8, left) + 'px';
    }
    if (window.microblogRenderTimes) window.microblogRenderTimes(card);
  }

  async function load(url) {
    if (!cache.has(url)) {
      const response = await fetch(url, { credentials: 'same-origin' });
      // A login that ended meanwhile is redirected to the login page: no card for that.
      if (!response.ok || response.redirected) throw new Error(response.status);
      cache.set(url, await response.text());
    }
    return cache.get(url);
  }

  document.addEventListener('mouseover', function (event) {
    const link = event.target.closest && event.target.closest('a.user-popup');
    if (!link) return;
    clearTimeout(hideTimer);
    clearTimeout(showTimer);
    showTimer = setTimeout(function () {
      load(link.getAttribute('href') + '/popup')
        .then(function (html) { place(link, html); })
        .catch(function () { /* no card: the link still works */ });
    }, 500);
    link.addEventListener('mouseleave', function () {
      clearTimeout(showTimer);
      hideTimer = setTimeout(hide, 300);
    }, { once: true });
  });
})();

// Chapter 14: the Translate link under a post in another language. It POSTs the post's text to
// /translate (JSON, with the page's CSRF token in a header) and puts the answer in its place.
// The words it writes itself come from <body data-text-...>, in the page's language.
(function () {
  const body = document.body;
  const failed = body.dataset.textTranslateFailed || 'Error: Could not contact server.';
  const translating = body.dataset.textTranslating || '…';

  document.addEventListener('click', async function (event) {
    const link = event.target.closest && event.target.closest('a.translate-link');
    if (!link) return;
    event.preventDefault();
    const post = document.getElementById('post-' + link.dataset.post + '-body');
    if (!post) return;
    const place = link.parentNode;
    const spinner = document.createElement('span');
    spinner.className = 'spinner-border spinner-border-sm';
    spinner.setAttribute('role', 'status');
    const label = document.createElement('span');
    label.className = 'visually-hidden';
    label.textContent = translating;
    spinner.appendChild(label);
    place.replaceChildren(spinner);
    let text;
    try {
      const response = await fetch('/translate', {
        method: 'POST',
        credentials: 'same-origin',
        headers: {
          'Content-Type': 'application/json',
          'Accept': 'application/json',
          'X-CSRFToken': body.dataset.csrfToken || '',
        },
        body: JSON.stringify({
          text: post.textContent,
          source_language: link.dataset.from,
          dest_language: link.dataset.to,
        }),
      });
      if (response.redirected) {
        // The login has ended and the server sent us to the login page: go there, to come
        // back to this page after logging in.
        const here = window.location.pathname + window.location.search;
        window.location.assign('/auth/login?next=' + encodeURIComponent(here));
        return;
      }
      const answer = await response.json();
      text = response.ok ? answer.text : (answer.message || failed);
    } catch (e) {
      text = failed;
    }
    const translation = document.createElement('span');
    translation.className = 'translation';
    translation.textContent = text;
    // In the reader's language (an error message too), whatever the post's own `lang`.
    translation.lang = document.documentElement.lang;
    place.replaceChildren(translation);
  });
})();

// A counter under the post and message boxes: characters as the server counts them (a line
// break is sent as two), red with how many too many past the limit. The box takes a longer
// text, so a paste is never cut without a word: the server then says it is too long.
(function () {
  const tooMany = document.body.dataset.textTooMany || '0';
  function count(box) {
    const counter = document.getElementById(box.id + '-counter');
    if (!counter) return;
    const max = Number(box.dataset.max);
    const used = Array.from(box.value.replace(/\r?\n/g, '\r\n')).length;
    const over = used - max;
    counter.textContent = used + ' / ' + max + (over > 0 ? ' (' + tooMany.replace('0', over) + ')' : '');
    counter.classList.toggle('text-danger', over > 0);
    counter.hidden = false;
  }
  document.querySelectorAll('textarea[data-max]').forEach(function (box) {
    count(box);
    box.addEventListener('input', function () { count(box); });
  });
})();

// Avatars come from Gravatar. Where it cannot be reached (an offline classroom), each one would
// be a broken image: show the site's own placeholder instead. Error events do not bubble, so the
// listener catches them on their way down.
(function () {
  function placeholder(img) {
    if (img.dataset.placeholder) return;
    img.dataset.placeholder = 'yes';
    img.src = '/static/img/avatar.svg';
  }
  document.addEventListener('error', function (event) {
    const img = event.target;
    if (img.tagName === 'IMG' && img.classList.contains('avatar')) placeholder(img);
  }, true);
  // Those that failed before this script ran (offline, a lookup fails at once).
  document.querySelectorAll('img.avatar').forEach(function (img) {
    if (img.complete && img.naturalWidth === 0) placeholder(img);
  });
})();

// The unread message badge, live (chapter 21). The tutorial asks /notifications every 10
// seconds from every tab. Here one tab of the browser holds a stream, /notifications/stream,
// and passes each notification to the others: it holds a Web Lock named after the user for as
// long as it is open, and when it closes the lock goes to another tab, which opens the stream in
// its turn. So ten open tabs use one connection to the site, not ten of the browser's six. A
// stream the server ends for good (the login ended, the server is being replaced) lets the lock
// go and is tried again later, a little later each time. A browser without Web Locks or
// BroadcastChannel asks /notifications every 10 seconds.
(function () {
  const badge = document.getElementById('message_count');
  if (!badge) return;
  const name = 'microblog-live-' + badge.dataset.user;
  let since = 0;

  // A running task's bar (chapter 22): its width comes from its value (the CSP allows no
  // inline style), and each task_progress notification moves it.
  function setBar(box, progress) {
    const bar = box.querySelector('.progress');
    if (!bar) return; // it ended (failed) already
    bar.setAttribute('aria-valuenow', progress);
    bar.querySelector('.progress-bar').style.width = progress + '%';
    box.querySelector('.task-progress').textContent = progress;
  }
  document.querySelectorAll('.task[data-task]').forEach(function (box) {
    setBar(box, box.querySelector('.progress').getAttribute('aria-valuenow'));
  });

  // A finished export: the box says so and links the file, with its expiry in the reader's
  // words; the flash that said it had started, and the link to an older file, are gone.
  function finished(box, download) {
    if (box.classList.contains('alert-success')) return;
    box.className = 'alert alert-success task';
    const words = document.body.dataset;
    document.querySelectorAll('.flash').forEach(function (flash) {
      if (flash.textContent.trim() === words.textExportStarted) flash.remove();
    });
    if (!download) return;
    document.querySelectorAll('.export-ready').forEach(function (old) { old.remove(); });
    const line = document.createElement('p');
    line.className = 'mt-2 mb-0 export-ready';
    const link = document.createElement('a');
    link.className = 'export-download alert-link';
    link.href = download.url;
    link.setAttribute('download', '');
    link.textContent = words.textExportDownload;
    const until = document.createElement('time');
    until.setAttribute('datetime', download.until);
    until.textContent = download.until;
    line.append(words.textExportDone + ' ', link, ' (' + words.textExportKeptUntil + ' ', until, ')');
    box.appendChild(line);
    if (window.microblogRenderTimes) window.microblogRenderTimes(box);
  }

  function show(notification) {
    since = Math.max(since, notification.timestamp);
    if (notification.name === 'unread_message_count') {
      // The navbar's badge, and the one beside the menu's button on a phone.
      document.querySelectorAll('.message-count').forEach(function (count) {
        count.textContent = notification.data;
      });
      badge.hidden = !notification.data;
      document.querySelectorAll('.navbar-unread').forEach(function (link) {
        link.hidden = !notification.data;
      });
    }
    if (notification.name === 'task_progress') {
      const task = notification.data;
      const box = document.querySelector('.task[data-task="' + task.task_id + '"]');
      if (!box) return;
      if (task.failed) {
        box.className = 'alert alert-danger task';
        box.textContent = document.body.dataset.textExportFailed;
      } else {
        setBar(box, task.progress);
        if (task.progress >= 100) finished(box, task.download);
      }
    }
  }

  if (!('locks' in navigator) || typeof BroadcastChannel !== 'function' ||
      typeof EventSource !== 'function') {
    const poll = function () {
      fetch('/notifications?since=' + since, { credentials: 'same-origin' })
        .then(function (res) { return res.ok ? res.json() : []; })
        .then(function (list) { list.forEach(show); })
        .catch(function () {});
    };
    poll();
    setInterval(poll, 10000);
    return;
  }

  const tabs = new BroadcastChannel(name);
  tabs.onmessage = function (event) { show(event.data); };
  let wait = 1000;
  function hold() {
    navigator.locks.request(name, function () {
      // This tab holds the stream until it closes, or until the server ends it for good.
      return new Promise(function (release) {
        const stream = new EventSource('/notifications/stream?since=' + since);
        stream.onopen = function () { wait = 1000; };
        stream.addEventListener('notification', function (event) {
          const notification = JSON.parse(event.data);
          show(notification);
          tabs.postMessage(notification);
        });
        stream.onerror = function () {
          if (stream.readyState !== EventSource.CLOSED) return; // it reconnects by itself
          release();
          setTimeout(hold, wait);
          wait = Math.min(wait * 2, 60000);
        };
      });
    });
  }
  hold();
})();
