/* Service worker of the field form (现场填报), served at /events/field-sw.js (scope /events/).
 *
 * It keeps the last good copy of the form page and of the local CSS/JS it uses, so the form
 * opens without a connection: network first, the cached copy when the network fails. The page
 * puts itself and its assets into this cache on its first visit (field-form.js, precache), as
 * that visit was loaded before the worker existed. It never
 * touches POST requests: reports wait in the page's IndexedDB queue and are sent by the page.
 */
var CACHE = 'jiuzai-field-v1';

self.addEventListener('install', function () { self.skipWaiting(); });
self.addEventListener('activate', function (event) { event.waitUntil(self.clients.claim()); });

function cacheable(request) {
  if (request.method !== 'GET') return false;
  var url = new URL(request.url);
  if (url.origin !== self.location.origin) return false;
  if (/^\/events\/\d+\/report$/.test(url.pathname)) return true;
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
