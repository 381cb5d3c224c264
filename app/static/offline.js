/* What the pages that work offline share (the field form 现场填报, the hand-out page 逐户发放):
 * a queue of submissions in IndexedDB, idempotency keys, the page's words in the reader's
 * language, and the service worker that serves the page when the network is gone
 * (offline-sw.js), and the small DOM helpers both draw with (el, showErrors, problemMessages).
 * Each page keeps its own form, sending and rendering.
 */
window.JiuzaiOffline = (function () {
  'use strict';

  /* The page's words: #form-messages maps each Chinese text to its translation (the catalogs');
   * %(name)s placeholders are filled in. */
  function translator() {
    var messages = JSON.parse((document.getElementById('form-messages') || {}).textContent || '{}');
    return function t(text, params) {
      var out = messages[text] || text;
      Object.keys(params || {}).forEach(function (k) { out = out.split('%(' + k + ')s').join(String(params[k])); });
      return out;
    };
  }

  /* A queue in the IndexedDB database ``name`` (one object store, keyed by ``key``), oldest first. */
  function queue(name) {
    var STORE = 'queue';
    var dbPromise = new Promise(function (resolve, reject) {
      var request = indexedDB.open(name, 1);
      request.onupgradeneeded = function () {
        if (!request.result.objectStoreNames.contains(STORE)) request.result.createObjectStore(STORE, {keyPath: 'key'});
      };
      request.onsuccess = function () { resolve(request.result); };
      request.onerror = function () { reject(request.error); };
    });
    function write(method, value) {
      return dbPromise.then(function (db) {
        return new Promise(function (resolve, reject) {
          var tx = db.transaction(STORE, 'readwrite');
          tx.objectStore(STORE)[method](value);
          tx.oncomplete = function () { resolve(); };
          tx.onerror = function () { reject(tx.error); };
          tx.onabort = function () { reject(tx.error); };
        });
      });
    }
    return {
      all: function () {
        return dbPromise.then(function (db) {
          return new Promise(function (resolve, reject) {
            var request = db.transaction(STORE).objectStore(STORE).getAll();
            request.onsuccess = function () { resolve(request.result); };
            request.onerror = function () { reject(request.error); };
          });
        }).then(function (items) {
          return items.sort(function (a, b) { return a.createdAt < b.createdAt ? -1 : 1; });
        });
      },
      put: function (item) { return write('put', item); },
      remove: function (key) { return write('delete', key); }
    };
  }

  /* A random UUID (version 4): the Idempotency-Key a queued submission is sent under, every time. */
  function newKey() {
    var b = crypto.getRandomValues(new Uint8Array(16));
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    var h = Array.prototype.map.call(b, function (x) { return x.toString(16).padStart(2, '0'); }).join('');
    return h.slice(0, 8) + '-' + h.slice(8, 12) + '-' + h.slice(12, 16) + '-' + h.slice(16, 20) + '-' + h.slice(20);
  }

  /* Register the page's service worker and, online, put the page and its local assets into the
   * worker's cache ``cacheName``: the page was loaded before the worker existed, so without this
   * the first offline reload would fail. Sets body[data-offline-ready] when done. */
  function serveOffline(swUrl, scope, cacheName) {
    if (!('serviceWorker' in navigator) || !swUrl) return;
    function precache() {
      var urls = [location.href];
      document.querySelectorAll('script[src], link[rel=stylesheet][href]').forEach(function (node) {
        var url = new URL(node.src || node.href, location.href);
        if (url.origin === location.origin) urls.push(url.href);
      });
      // what the stylesheets loaded in turn (icon fonts), as far as the worker caches such files
      (performance.getEntriesByType ? performance.getEntriesByType('resource') : []).forEach(function (entry) {
        var url = new URL(entry.name, location.href);
        if (url.origin === location.origin && /^\/(static|bootstrap|xstatic)\//.test(url.pathname)) urls.push(url.href);
      });
      urls = urls.filter(function (url, i) { return urls.indexOf(url) === i; });
      return caches.open(cacheName).then(function (cache) { return cache.addAll(urls); }).then(function () {
        document.body.dataset.offlineReady = '1';
      });
    }
    navigator.serviceWorker.register(swUrl, {scope: scope}).then(function () {
      return navigator.serviceWorker.ready;
    }).then(function () {
      return navigator.onLine ? precache() : null;
    }).catch(function (e) { console.warn('service worker not registered', e); });
  }

  /* Whether an answer is not the queued item's fault, so it stays pending and is sent again:
   * signed out, server trouble, too many requests, or the same key still in progress. */
  function retryLater(problem, status) {
    return status === 401 || status >= 500 || status === 429 ||
      (status === 409 && problem && !(problem.errors || []).length);
  }

  /* The connection badge (#connection): data-state online|offline, its word in the reader's
   * language (t: the page's translator). */
  function connectionBadge(t) {
    return function setConnection(online) {
      var badge = document.getElementById('connection');
      badge.setAttribute('data-state', online ? 'online' : 'offline');
      badge.textContent = online ? t('在线') : t('离线');
    };
  }

  /* The queue's sender: flush() runs one sending round at a time (options.sendAll sends what is
   * pending); a call during a round asks for one more round after it, then options.after()
   * redraws. The sync bar's data-sync (busy|idle) and data-rounds (a count) make the end of a
   * round observable: tests wait for it instead of sleeping. It also wires the "send now"
   * button, the online and offline events (options.setConnection) and a retry every 30 s. */
  function sender(options) {
    var bar = document.getElementById('sync-bar');
    var flushing = null, again = false;
    function flush() {
      if (flushing) { again = true; return flushing; }
      bar.dataset.sync = 'busy';
      flushing = (async function () {
        do {
          again = false;
          try { await options.sendAll(); } catch (e) { console.error(e); }
        } while (again);
        flushing = null;
        await options.after();
        bar.dataset.rounds = String(Number(bar.dataset.rounds || 0) + 1);
        bar.dataset.sync = 'idle';
      })();
      return flushing;
    }
    document.getElementById('send-now').addEventListener('click', function () { flush(); });
    window.addEventListener('online', function () { options.setConnection(true); flush(); });
    window.addEventListener('offline', function () { options.setConnection(false); });
    options.setConnection(navigator.onLine);
    setInterval(function () { if (navigator.onLine) flush(); }, 30000);
    return flush;
  }

  /* A new element with a class and text; text is set as text, never parsed as HTML, so what the
   * server or a person wrote is shown as written. */
  function el(tag, className, content) {
    var node = document.createElement(tag);
    if (className) node.className = className;
    if (content !== undefined) node.textContent = content;
    return node;
  }

  /* ``messages`` as a list in the error box ``box``, hidden (Bootstrap d-none) when there are none. */
  function showErrors(box, messages) {
    box.innerHTML = '';
    box.classList.toggle('d-none', !messages.length);
    if (!messages.length) return;
    var list = el('ul', 'mb-0');
    messages.forEach(function (m) { list.appendChild(el('li', '', m)); });
    box.appendChild(list);
  }

  /* What a refusal (application/problem+json) says, for a queued line: its detail, then each
   * field's message; without a readable answer, "服务器未返回说明" (t: the page's translator). */
  function problemMessages(problem, t) {
    if (!problem) return [t('服务器未返回说明')];
    var out = [problem.detail || problem.title].concat((problem.errors || []).map(function (e) { return e.message; }))
      .filter(function (m, i, all) { return m && all.indexOf(m) === i; });
    return out.length ? out : [t('请求失败')];
  }

  /* Sent items beyond the newest ``keep`` removed from the queue (``items`` oldest first). */
  async function pruneSent(items, keep, remove) {
    var sent = items.filter(function (i) { return i.status === 'sent'; });
    for (var i = 0; i < sent.length - keep; i++) await remove(sent[i].key);
  }

  return {translator: translator, queue: queue, newKey: newKey, serveOffline: serveOffline, retryLater: retryLater,
          connectionBadge: connectionBadge, sender: sender, pruneSent: pruneSent,
          el: el, showErrors: showErrors, problemMessages: problemMessages};
})();
