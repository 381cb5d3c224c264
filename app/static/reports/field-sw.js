/* Service worker of the field form (现场填报), served at /events/field-sw.js (scope /events/):
 * the form page opens without a connection (offline-sw.js). */
importScripts('/static/offline-sw.js');
jiuzaiOfflineWorker('jiuzai-field-v1', /^\/events\/\d+\/report$/);
