// Our JavaScript: no framework, no CDN. Pages work without it; it only makes them nicer.
'use strict';

// Chapter 12 (Flask-Moment's part): dates as "3 minutes ago", in the reader's language and time
// zone, with the full date on hover. The server writes a readable UTC date inside each
// <time datetime="..."> element, which is what a reader without JavaScript sees.
(function () {
  // The reader's own language, as their browser reports it.
  const lang = (navigator.languages && navigator.languages[0]) || navigator.language || 'en';
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
    card.innerHTML = html;
    const box = link.getBoundingClientRect();
    card.style.left = (window.scrollX + box.left) + 'px';
    card.style.top = (window.scrollY + box.bottom + 6) + 'px';
    card.addEventListener('mouseenter', function () { clearTimeout(hideTimer); });
    card.addEventListener('mouseleave', function () { hideTimer = setTimeout(hide, 300); });
    document.body.appendChild(card);
    if (window.microblogRenderTimes) window.microblogRenderTimes(card);
  }

  async function load(url) {
    if (!cache.has(url)) {
      const response = await fetch(url, { credentials: 'same-origin' });
      if (!response.ok) throw new Error(response.status);
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
