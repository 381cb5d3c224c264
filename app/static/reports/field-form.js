/* 现场填报 (field form): works offline.
 *
 * A report is checked here (the same consistency and jump rules as the server), stored in
 * IndexedDB with a generated Idempotency-Key and its photos, then sent. Without a connection it
 * waits; it is sent when the connection returns ("online" event, the 立即发送 button, or every
 * 30 s), always with the same key and the same bytes, so the server files it exactly once.
 */
(function () {
  'use strict';

  var cfg = JSON.parse(document.getElementById('form-config').textContent);
  var csrf = (document.querySelector('meta[name="csrf-token"]') || {}).content || '';
  var DB_NAME = 'jiuzai-field';
  var STORE = 'queue';
  // The page's words in the reader's language: #form-messages maps each Chinese text to its
  // translation (the catalogs'); %(name)s placeholders are filled in by t().
  var MESSAGES = JSON.parse((document.getElementById('form-messages') || {}).textContent || '{}');
  function t(text, params) {
    var out = MESSAGES[text] || text;
    Object.keys(params || {}).forEach(function (k) { out = out.split('%(' + k + ')s').join(String(params[k])); });
    return out;
  }
  var KIND_LABELS = {initial: t('初报'), update: t('续报'), final: t('核报')};
  var form = document.getElementById('field-form');
  var regionSelect = document.getElementById('region');
  var kindSelect = document.getElementById('kind');
  var asOfInput = document.getElementById('as_of');
  var noteInput = document.getElementById('note');
  var photoInput = document.getElementById('photos');
  var errorBox = document.getElementById('form-errors');
  var carriedPhotos = [];

  // --- IndexedDB ---------------------------------------------------------------------------
  var dbPromise = new Promise(function (resolve, reject) {
    var request = indexedDB.open(DB_NAME, 1);
    request.onupgradeneeded = function () {
      if (!request.result.objectStoreNames.contains(STORE)) {
        request.result.createObjectStore(STORE, {keyPath: 'key'});
      }
    };
    request.onsuccess = function () { resolve(request.result); };
    request.onerror = function () { reject(request.error); };
  });

  function done(request) {
    return new Promise(function (resolve, reject) {
      request.onsuccess = function () { resolve(request.result); };
      request.onerror = function () { reject(request.error); };
    });
  }

  function allItems() {
    return dbPromise.then(function (db) {
      return done(db.transaction(STORE).objectStore(STORE).getAll());
    }).then(function (items) {
      return items.sort(function (a, b) { return a.createdAt < b.createdAt ? -1 : 1; });
    });
  }

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

  function putItem(item) { return write('put', item); }
  function deleteItem(key) { return write('delete', key); }

  // --- Helpers ------------------------------------------------------------------------------
  function newKey() {
    var b = crypto.getRandomValues(new Uint8Array(16));
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    var h = Array.prototype.map.call(b, function (x) { return x.toString(16).padStart(2, '0'); }).join('');
    return h.slice(0, 8) + '-' + h.slice(8, 12) + '-' + h.slice(12, 16) + '-' + h.slice(16, 20) + '-' + h.slice(20);
  }

  function shanghaiNow() {
    var parts = {};
    new Intl.DateTimeFormat('en-GB', {timeZone: 'Asia/Shanghai', year: 'numeric', month: '2-digit',
      day: '2-digit', hour: '2-digit', minute: '2-digit', hourCycle: 'h23'})
      .formatToParts(new Date()).forEach(function (p) { parts[p.type] = p.value; });
    return parts.year + '-' + parts.month + '-' + parts.day + 'T' + parts.hour + ':' + parts.minute;
  }

  function fieldInfo(name) {
    for (var i = 0; i < cfg.fields.length; i++) { if (cfg.fields[i].field === name) return cfg.fields[i]; }
    return {label: name, unit: ''};
  }

  function text(node, value) { node.textContent = value; return node; }

  function el(tag, className, content) {
    var node = document.createElement(tag);
    if (className) node.className = className;
    if (content !== undefined) node.textContent = content;
    return node;
  }

  function regionName(code) {
    if (!regionSelect) return code;
    var option = regionSelect.querySelector('option[value="' + code + '"]');
    return option ? option.textContent.trim() : code;
  }

  // --- Previous figures ---------------------------------------------------------------------
  var queued = [];

  function previousFor(code) {
    var newest = null;
    queued.forEach(function (item) {
      if (item.eventId === cfg.eventId && item.body.region_code === code && item.status !== 'failed') newest = item.body;
    });
    return newest || cfg.previous[code] || null;
  }

  function showPrevious() {
    if (!form) return;
    var code = regionSelect.value;
    var prev = code ? previousFor(code) : null;
    var info = document.getElementById('previous-info');
    var option = code ? regionSelect.querySelector('option[value="' + code + '"]') : null;
    var level = option ? option.getAttribute('data-level') : '';
    var warning = document.getElementById('upper-level-warning');
    if (warning) warning.hidden = level !== 'prefecture' && level !== 'province';
    document.querySelectorAll('[data-prev]').forEach(function (node) {
      var name = node.getAttribute('data-prev');
      node.textContent = prev ? t('上次：%(value)s', {value: prev.figures[name] || 0}) : '';
    });
    if (!code) {
      info.textContent = '';
    } else if (!prev) {
      info.textContent = t('该区划尚无报告：本次为初报。');
      kindSelect.value = 'initial';
    } else {
      info.textContent = t('上次报告：%(kind)s，数据截至 %(time)s。', {kind: KIND_LABELS[prev.kind], time: String(prev.as_of).replace('T', ' ').slice(0, 16)}) +
        (prev.kind === 'final' ? t('该区划已核报，不再接受报告。') : t('下方「上次」为上次的累计值。'));
      kindSelect.value = prev.kind === 'final' ? 'final' : 'update';
    }
    markChanges();
  }

  function markChanges() {
    var prev = regionSelect && regionSelect.value ? previousFor(regionSelect.value) : null;
    cfg.fields.forEach(function (f) {
      var input = document.getElementById('f-' + f.field);
      var node = document.querySelector('[data-prev="' + f.field + '"]');
      var before = prev ? Number(prev.figures[f.field] || 0) : 0;
      var now = input.value === '' ? 0 : Number(input.value);
      node.classList.toggle('changed', !!prev && now !== before);
    });
  }

  // --- Checks (mirror the server's, so offline reports are right before they wait) ---------
  function check(body, photos) {
    var errors = [];
    var prev = previousFor(body.region_code);
    if (!body.region_code) errors.push(t('请选择报告区划'));
    if (!body.as_of) {
      errors.push(t('请填写数据截至时间'));
    } else if (Date.parse(body.as_of) > Date.now() + 60000) {
      errors.push(t('数据截至时间不能晚于现在'));
    }
    cfg.fields.forEach(function (f) {
      var value = body.figures[f.field];
      if (value === undefined) return;
      if (!isFinite(value) || value < 0) errors.push(t('%(field)s必须是不小于 0 的数字', {field: f.label}));
      else if (f.integer && Math.floor(value) !== value) errors.push(t('%(field)s必须是整数', {field: f.label}));
    });
    cfg.rules.forEach(function (rule) {
      var larger = body.figures[rule[1]] || 0, smaller = body.figures[rule[2]] || 0;
      if (smaller > larger) {
        errors.push(t('%(smaller)s（%(a)s）不能大于%(larger)s（%(b)s）', {smaller: fieldInfo(rule[2]).label, a: smaller, larger: fieldInfo(rule[1]).label, b: larger}));
      }
    });
    if (prev) {
      if (prev.kind === 'final') errors.push(t('该区划已核报，不再接受报告'));
      if (body.kind === 'initial') errors.push(t('该区划已有报告：应为续报或核报'));
      var jumped = [];
      cfg.fields.forEach(function (f) {
        var before = Number(prev.figures[f.field] || 0), after = body.figures[f.field] || 0;
        if (before > 0 && (after > before * cfg.jumpUp || after < before * cfg.jumpDown)) jumped.push(f.label);
      });
      if (jumped.length && !body.note) errors.push(t('%(fields)s与上次相比变化过大，须在「说明」中解释原因', {fields: jumped.join(t('、'))}));
    } else if (body.kind !== 'initial' && body.region_code) {
      errors.push(t('该区划尚无报告：第一份报告必须是初报'));
    }
    var deathsMissing = (body.figures.deaths || 0) + (body.figures.missing || 0);
    var needed = (cfg.major || deathsMissing >= cfg.directThreshold) ? cfg.minPhotos : 0;
    if (photos.length < needed) errors.push(t('重大灾害须至少附 %(needed)s 张现场照片（已选 %(chosen)s 张）', {needed: needed, chosen: photos.length}));
    photos.forEach(function (p) {
      if (cfg.photoTypes.indexOf(p.type) < 0) errors.push(t('照片「%(name)s」不是 JPEG、PNG 或 WebP', {name: p.name}));
      if (p.size > cfg.maxPhotoBytes) errors.push(t('照片「%(name)s」超过大小上限', {name: p.name}));
    });
    return errors;
  }

  function showErrors(messages) {
    errorBox.innerHTML = '';
    if (!messages.length) { errorBox.classList.add('d-none'); return; }
    var list = el('ul', 'mb-0');
    messages.forEach(function (m) { list.appendChild(el('li', '', m)); });
    errorBox.appendChild(list);
    errorBox.classList.remove('d-none');
  }

  function problemMessages(problem) {
    if (!problem) return [t('服务器未返回说明')];
    var out = (problem.errors || []).map(function (e) { return e.message; });
    return out.length ? out : [problem.detail || problem.title || t('请求失败')];
  }

  // --- Queue display ------------------------------------------------------------------------
  function render() {
    return allItems().then(function (items) {
      queued = items;
      var pending = items.filter(function (i) { return i.status === 'pending'; });
      text(document.getElementById('pending-count'), String(pending.length));
      var list = document.getElementById('queue-list');
      list.innerHTML = '';
      items.slice().reverse().forEach(function (item) {
        var li = el('li', 'list-group-item');
        li.setAttribute('data-key', item.key);
        li.setAttribute('data-status', item.status);
        var head = el('div', 'd-flex justify-content-between gap-2');
        head.appendChild(el('span', '', (item.regionName || item.body.region_code) + ' · ' + KIND_LABELS[item.body.kind] +
          ' · ' + t('截至 %(time)s', {time: item.body.as_of.replace('T', ' ').slice(0, 16)})));
        var badge;
        if (item.status === 'sent') badge = el('span', 'badge bg-success', t('已发送 #%(id)s', {id: item.reportId}));
        else if (item.status === 'failed') badge = el('span', 'badge bg-danger', t('未被接受'));
        else badge = el('span', 'badge bg-warning text-dark', item.reportId ? t('照片待上传') : t('待发送'));
        head.appendChild(badge);
        li.appendChild(head);
        if (item.photos && item.photos.length) {
          li.appendChild(el('div', 'text-muted', t('照片 %(done)s/%(total)s 已上传', {done: item.photoDone || 0, total: item.photos.length})));
        }
        (item.photoErrors || []).forEach(function (m) { li.appendChild(el('div', 'text-danger', m)); });
        if (item.status === 'failed') {
          problemMessages(item.problem).forEach(function (m) { li.appendChild(el('div', 'text-danger', m)); });
          var actions = el('div', 'mt-1 d-flex gap-2');
          var load = el('button', 'btn btn-sm btn-outline-primary', t('载入修改'));
          load.type = 'button';
          load.addEventListener('click', function () { loadItem(item); });
          var drop = el('button', 'btn btn-sm btn-outline-secondary', t('删除'));
          drop.type = 'button';
          drop.addEventListener('click', function () { deleteItem(item.key).then(render); });
          actions.appendChild(load);
          actions.appendChild(drop);
          li.appendChild(actions);
        } else if (item.lastError && item.status === 'pending') {
          li.appendChild(el('div', 'text-muted', item.lastError));
        }
        list.appendChild(li);
      });
      showPrevious();
    });
  }

  function loadItem(item) {
    regionSelect.value = item.body.region_code;
    showPrevious();
    kindSelect.value = item.body.kind;
    asOfInput.value = item.body.as_of.slice(0, 16);
    noteInput.value = item.body.note || '';
    cfg.fields.forEach(function (f) {
      var value = item.body.figures[f.field];
      document.getElementById('f-' + f.field).value = value === undefined ? '' : value;
    });
    carriedPhotos = item.photos || [];
    showErrors(problemMessages(item.problem).concat(carriedPhotos.length ? [t('已带入 %(count)s 张照片', {count: carriedPhotos.length})] : []));
    markChanges();
    return deleteItem(item.key).then(render);
  }

  // --- Sending ------------------------------------------------------------------------------
  var flushing = null;

  function setConnection(online) {
    var badge = document.getElementById('connection');
    badge.setAttribute('data-state', online ? 'online' : 'offline');
    badge.textContent = online ? t('在线') : t('离线');
  }

  function retryLater(problem, status) {
    // Not the report's fault: signed out, server trouble, or the same key still in progress.
    return status === 401 || status >= 500 || status === 429 ||
      (status === 409 && problem && !(problem.errors || []).length);
  }

  function sendReport(item) {
    return fetch(item.url, {
      method: 'POST', credentials: 'same-origin',
      headers: {'Content-Type': 'application/json', 'Accept': 'application/json',
                'X-CSRFToken': csrf, 'Idempotency-Key': item.key},
      body: item.bodyText
    });
  }

  function sendPhoto(item, index) {
    var file = item.photos[index];
    var boundary = '----jiuzai' + item.key.replace(/-/g, '') + 'p' + index;
    var name = (file.name || ('photo-' + index)).replace(/[^A-Za-z0-9._-]/g, '_');
    var head = '--' + boundary + '\r\nContent-Disposition: form-data; name="file"; filename="' + name +
      '"\r\nContent-Type: ' + (file.type || 'application/octet-stream') + '\r\n\r\n';
    return fetch(item.url + '/' + item.reportId + '/photos', {
      method: 'POST', credentials: 'same-origin',
      headers: {'Content-Type': 'multipart/form-data; boundary=' + boundary, 'Accept': 'application/json',
                'X-CSRFToken': csrf, 'Idempotency-Key': item.key + '-photo-' + index},
      body: new Blob([head, file, '\r\n--' + boundary + '--\r\n'])
    });
  }

  function readJson(response) {
    return response.json().catch(function () { return null; });
  }

  async function sendAll() {
    var items = (await allItems()).filter(function (i) { return i.status === 'pending'; });
    for (var n = 0; n < items.length; n++) {
      var item = items[n];
      var response, problem;
      if (!item.reportId) {
        try { response = await sendReport(item); } catch (e) { setConnection(false); return; }
        setConnection(true);
        problem = await readJson(response);
        if (response.status === 201) {
          item.reportId = problem.id;
          cfg.previous[item.body.region_code] = {kind: problem.kind, as_of: problem.as_of, figures: problem.figures};
          delete item.lastError;
          await putItem(item);
        } else if (retryLater(problem, response.status)) {
          item.lastError = response.status === 401 ? t('登录已过期：请重新登录后再发送') : t('暂时无法发送，稍后重试');
          await putItem(item);
          return;
        } else {
          item.status = 'failed';
          item.problem = problem;
          await putItem(item);
          continue;
        }
      }
      while ((item.photoDone || 0) < (item.photos || []).length) {
        var index = item.photoDone || 0;
        try { response = await sendPhoto(item, index); } catch (e) { setConnection(false); return; }
        problem = await readJson(response);
        if (!response.ok && retryLater(problem, response.status)) return;
        if (!response.ok) {
          item.photoErrors = (item.photoErrors || []).concat([t('照片 %(n)s：%(problems)s', {n: index + 1, problems: problemMessages(problem).join(t('；'))})]);
        }
        item.photoDone = index + 1;
        await putItem(item);
      }
      item.status = 'sent';
      item.sentAt = new Date().toISOString();
      await putItem(item);
    }
    await pruneSent();
  }

  async function pruneSent() {
    var sent = (await allItems()).filter(function (i) { return i.status === 'sent'; });
    for (var i = 0; i < sent.length - 20; i++) await deleteItem(sent[i].key);
  }

  var syncBar = document.getElementById('sync-bar');

  function flush() {
    if (!flushing) {
      syncBar.dataset.sync = 'busy';
      flushing = sendAll().catch(function (e) { console.error(e); }).then(function () {
        flushing = null;
        return render();
      }).then(function () {
        // observable end of a sending round (tests wait for it instead of sleeping)
        syncBar.dataset.rounds = String(Number(syncBar.dataset.rounds || 0) + 1);
        syncBar.dataset.sync = 'idle';
      });
    }
    return flushing;
  }

  // --- The form -----------------------------------------------------------------------------
  function collect() {
    var figures = {};
    cfg.fields.forEach(function (f) {
      var raw = document.getElementById('f-' + f.field).value;
      if (raw !== '') figures[f.field] = Number(raw);
    });
    var note = noteInput.value.trim();
    var body = {region_code: regionSelect.value, kind: kindSelect.value,
                as_of: asOfInput.value ? asOfInput.value + ':00+08:00' : '', figures: figures};
    if (note) body.note = note;
    return body;
  }

  function resetFigures() {
    cfg.fields.forEach(function (f) { document.getElementById('f-' + f.field).value = ''; });
    noteInput.value = '';
    photoInput.value = '';
    carriedPhotos = [];
    asOfInput.value = shanghaiNow();
  }

  if (form) {
    asOfInput.value = shanghaiNow();
    regionSelect.addEventListener('change', showPrevious);
    form.addEventListener('input', markChanges);
    form.addEventListener('submit', async function (event) {
      event.preventDefault();
      var body = collect();
      var photos = carriedPhotos.concat(Array.prototype.slice.call(photoInput.files || []));
      var errors = check(body, photos);
      showErrors(errors);
      if (errors.length) return;
      var item = {key: newKey(), url: cfg.reportsUrl, eventId: cfg.eventId, body: body,
                  bodyText: JSON.stringify(body), photos: photos, photoDone: 0, status: 'pending',
                  regionName: regionName(body.region_code), createdAt: new Date().toISOString()};
      await putItem(item);
      resetFigures();
      await render();
      await flush();
      var items = await allItems();
      var mine = items.filter(function (i) { return i.key === item.key; })[0];
      if (mine && mine.status === 'failed') await loadItem(mine);
    });
  }

  document.getElementById('send-now').addEventListener('click', function () { flush(); });
  window.addEventListener('online', function () { setConnection(true); flush(); });
  window.addEventListener('offline', function () { setConnection(false); });
  setConnection(navigator.onLine);
  setInterval(function () { if (navigator.onLine) flush(); }, 30000);
  render().then(function () { if (navigator.onLine) flush(); });

  if ('serviceWorker' in navigator && cfg.swUrl) {
    navigator.serviceWorker.register(cfg.swUrl, {scope: cfg.swScope}).catch(function (e) {
      console.warn('service worker not registered', e);
    });
  }
})();
