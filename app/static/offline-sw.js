/* The service worker the offline pages share (imported by reports/field-sw.js and
 * distribution/sw.js): network first; when the network fails, the last good copy of the page
 * (its path matches ``page``) and of the local CSS/JS. It never touches POST requests: the
 * pages keep their submissions in IndexedDB and send them themselves (offline.js).
 */
function jiuzaiOfflineWorker(cacheName, page) {
  self.addEventListener('install', function () { self.skipWaiting(); });
  self.addEventListener('activate', function (event) { event.waitUntil(self.clients.claim()); });

  function cacheable(request) {
    if (request.method !== 'GET') return false;
    var url = new URL(request.url);
    if (url.origin !== self.location.origin) return false;
    if (page.test(url.pathname)) return true;
    return /^\/(static|bootstrap|xstatic)\//.test(url.pathname);
  }

  self.addEventListener('fetch', function (event) {
    var request = event.request;
    if (!cacheable(request)) return;
    event.respondWith(fetch(request).then(function (response) {
      if (response.ok) {
        var copy = response.clone();
        caches.open(cacheName).then(function (cache) { cache.put(request, copy); });
      }
      return response;
    }).catch(function () {
      return caches.match(request, {ignoreVary: true}).then(function (hit) {
        return hit || caches.match(request, {ignoreVary: true, ignoreSearch: true});
      }).then(function (hit) { return hit || Response.error(); });
    }));
  });
}
