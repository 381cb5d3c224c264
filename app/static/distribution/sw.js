/* Service worker of the hand-out page (逐户发放), served at /distribution/sw.js (scope
 * /distribution/). As the field form's (reports/field-sw.js): network first, the last good copy
 * of the hand-out page and of the local CSS/JS when the network fails. It never touches POST
 * requests: hand-outs wait in the page's IndexedDB queue and are sent by the page.
 */
var CACHE = 'jiuzai-distribution-v1';

self.addEventListener('install', function () { self.skipWaiting(); });
self.addEventListener('activate', function (event) { event.waitUntil(self.clients.claim()); });

function cacheable(request) {
  if (request.method !== 'GET') return false;
  var url = new URL(request.url);
  if (url.origin !== self.location.origin) return false;
  if (/^\/distribution\/points\/\d+\/handout$/.test(url.pathname)) return true;
  return /^\/(static|bootstrap|xstatic)\//.test(url.pathname);
}

self.addEventListener('fetch', function (event) {
  var request = event.request;
  if (!cacheable(request)) return;
  event.respondWith(fetch(request).then(function (response) {
    if (response.ok) {
      var copy = response.clone();
      caches.open(CACHE).then(function (cache) { cache.put(request, copy); });
    }
    return response;
  }).catch(function () {
    return caches.match(request, {ignoreVary: true}).then(function (hit) {
      return hit || caches.match(request, {ignoreVary: true, ignoreSearch: true});
    }).then(function (hit) { return hit || Response.error(); });
  }));
});
