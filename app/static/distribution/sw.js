/* Service worker of the hand-out page (逐户发放), served at /distribution/sw.js (scope
 * /distribution/): the hand-out page opens without a connection (offline-sw.js). */
importScripts('/static/offline-sw.js');
jiuzaiOfflineWorker('jiuzai-distribution-v1', /^\/distribution\/points\/\d+\/handout$/);
