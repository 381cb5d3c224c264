/* 现场填报 (field form): works offline.
 *
 * The form starts from what is known: the region's current total and its basis (its own latest
 * report, or the sum of N reports from below), an update pre-filled with the latest figures (a
 * blank box keeps the previous figure; zeroing is typing 0), and for a region with reports from
 * below the choice 汇总下级 / 本级填报, with what the totals will become.
 *
 * A report is checked here (the same consistency, jump and sum-from-below rules as the server),
 * stored in IndexedDB under the form's one Idempotency-Key with its photos, then sent. Without a
 * connection it waits; it is sent when the connection returns ("online" event, the 立即发送 button,
 * or every 30 s), always with the same key and the same bytes, so the server files it exactly
 * once. Times are shown in Asia/Shanghai.
 */
(function () {
  'use strict';

  var cfg = JSON.parse(document.getElementById('form-config').textContent);
  var T = JSON.parse(document.getElementById('form-text').textContent);
  var csrf = (document.querySelector('meta[name="csrf-token"]') || {}).content || '';
  // The page's words in the reader's language (#form-messages; offline.js)
  var t = JiuzaiOffline.translator();
  var KIND_LABELS = {initial: t('初报'), update: t('续报'), final: t('核报')};
  var form = document.getElementById('field-form');
  var regionSelect = document.getElementById('region');
  var kindSelect = document.getElementById('kind');
  var asOfInput = document.getElementById('as_of');
  var noteInput = document.getElementById('note');
  var photoInput = document.getElementById('photos');
  var errorBox = document.getElementById('form-errors');
  var carriedPhotos = [];

  // --- The queue of reports waiting to be sent (IndexedDB; offline.js) ------------------------
  var queue = JiuzaiOffline.queue('jiuzai-field');
  var allItems = queue.all, putItem = queue.put, deleteItem = queue.remove, newKey = JiuzaiOffline.newKey;

  // --- Helpers ------------------------------------------------------------------------------
  function shanghaiNow() {
    var parts = {};
    new Intl.DateTimeFormat('en-GB', {timeZone: 'Asia/Shanghai', year: 'numeric', month: '2-digit',
      day: '2-digit', hour: '2-digit', minute: '2-digit', hourCycle: 'h23'})
      .formatToParts(new Date()).forEach(function (p) { parts[p.type] = p.value; });
    return parts.year + '-' + parts.month + '-' + parts.day + 'T' + parts.hour + ':' + parts.minute;
  }

  /* Times as the clerk reads them: Asia/Shanghai, whatever the device's zone. */
  function fmtTime(iso) {
    if (!iso) return '';
    var date = new Date(iso);
    if (isNaN(date.getTime())) return String(iso);
    var parts = {};
    new Intl.DateTimeFormat('en-GB', {timeZone: 'Asia/Shanghai', year: 'numeric', month: '2-digit',
      day: '2-digit', hour: '2-digit', minute: '2-digit', hourCycle: 'h23'})
      .formatToParts(date).forEach(function (p) { parts[p.type] = p.value; });
    return parts.year + '-' + parts.month + '-' + parts.day + ' ' + parts.hour + ':' + parts.minute;
  }

  function fmt(template, values) {
    return template.replace(/\{(\w+)\}/g, function (whole, name) {
      return values[name] === undefined ? whole : String(values[name]);
    });
  }

  function num(value) {
    var n = Number(value || 0);
    return Number.isInteger(n) ? String(n) : String(Math.round(n * 100) / 100);
  }

  function shortLabel(f) { return f.label; }

  function fieldInfo(name) {
    for (var i = 0; i < cfg.fields.length; i++) { if (cfg.fields[i].field === name) return cfg.fields[i]; }
    return {label: name, unit: ''};
  }

  function text(node, value) { node.textContent = value; return node; }

  var el = JiuzaiOffline.el;

  function regionName(code) {
    if (!regionSelect) return code;
    var option = regionSelect.querySelector('option[value="' + code + '"]');
    return option ? option.textContent.trim() : code;
  }

  // --- What is known: the region's own latest report and the sum from below ---------------
  var queued = [];

  function previousFor(code) {
    var newest = null;
    queued.forEach(function (item) {
      if (item.eventId === cfg.eventId && item.body.region_code === code && item.status !== 'failed') newest = item.body;
    });
    return newest || cfg.previous[code] || null;
  }

  function belowFor(code) { return (cfg.below || {})[code] || null; }

  function chosenBasis() {
    var checked = form ? form.querySelector('input[name=basis]:checked') : null;
    return checked ? checked.value : '';
  }

  /* The region's total as it stands: its own latest report, else the sum from below. */
  function currentTotal(code) {
    var prev = previousFor(code), below = belowFor(code);
    if (prev) return {basis: 'own', figures: prev.figures, kind: prev.kind, as_of: prev.as_of};
    if (below) return {basis: 'sum', figures: below.figures, units: below.units, as_of: below.as_of};
    return {basis: 'none', figures: {}};
  }

  function figureList(figures, only) {
    return cfg.fields.filter(function (f) { return only ? only(f) : Number(figures[f.field] || 0) > 0; })
      .map(function (f) { return shortLabel(f) + ' ' + num(figures[f.field] || 0); }).join(t('、'));
  }

  function showPrevious() {
    if (!form) return;
    var code = regionSelect.value;
    var prev = code ? previousFor(code) : null;
    var below = code ? belowFor(code) : null;
    var info = document.getElementById('previous-info');
    var option = code ? regionSelect.querySelector('option[value="' + code + '"]') : null;
    var level = option ? option.getAttribute('data-level') : '';
    var warning = document.getElementById('upper-level-warning');
    if (warning) warning.hidden = level !== 'prefecture' && level !== 'province';
    var total = code ? currentTotal(code) : null;
    info.innerHTML = '';
    if (code) {
      var line = total.basis === 'own' ? fmt(T.ownBasis, {kind: KIND_LABELS[total.kind], time: fmtTime(total.as_of)})
        : total.basis === 'sum' ? fmt(T.sumBasis, {n: total.units, time: fmtTime(total.as_of)}) : T.noTotal;
      info.appendChild(el('div', 'fw-semibold', line));
      info.setAttribute('data-basis', total.basis);
      if (total.basis !== 'none') info.appendChild(el('div', 'text-muted', figureList(total.figures) || '0'));
      info.appendChild(el('div', 'text-muted', !prev ? T.noReport : prev.kind === 'final' ? T.closedRegion : T.updateHint));
    }
    var choice = document.getElementById('basis-choice');
    choice.hidden = !below || (prev && prev.kind === 'final');
    if (below) {
      text(document.getElementById('below-info'), fmt(T.belowInfo, {n: below.units, time: fmtTime(below.as_of),
        list: figureList(below.figures) || '0'}));
    }
    markChanges();
  }

  /* Start the form from what is known: an update carries the latest figures (a blank box keeps
   * the previous figure; zeroing is typing 0); adopting the sum from below fills it in. */
  function prefill(keepNote) {
    if (!form) return;
    var code = regionSelect.value;
    var prev = code ? previousFor(code) : null;
    var below = code ? belowFor(code) : null;
    var source = chosenBasis() === 'below' && below ? below.figures : prev ? prev.figures : null;
    cfg.fields.forEach(function (f) {
      var input = document.getElementById('f-' + f.field);
      input.value = source && source[f.field] !== undefined ? String(source[f.field]) : '';
      input.placeholder = prev ? T.keeps + ' ' + num(prev.figures[f.field] || 0) : '';
    });
    kindSelect.value = !prev ? 'initial' : prev.kind === 'final' ? 'final' : 'update';
    if (!keepNote) noteInput.value = '';
    showPrevious();
  }

  /* The figures the report will carry: a blank box keeps the previous figure of an update. */
  function newFigures(code) {
    var prev = code ? previousFor(code) : null;
    var figures = {};
    cfg.fields.forEach(function (f) {
      var raw = document.getElementById('f-' + f.field).value;
      if (raw !== '') figures[f.field] = Number(raw);
      else if (prev && prev.figures[f.field] !== undefined) figures[f.field] = Number(prev.figures[f.field]);
    });
    return figures;
  }

  function markChanges() {
    var code = regionSelect && regionSelect.value;
    var summary = document.getElementById('change-summary');
    if (!code) { summary.hidden = true; return; }
    var total = currentTotal(code);
    var after = newFigures(code);
    var changes = [];
    var prev = previousFor(code);
    // a region with reports from below: nothing changes until the clerk has chosen how
    var undecided = !!belowFor(code) && !chosenBasis() && !(prev && prev.kind === 'final');
    if (undecided) after = total.figures;
    cfg.fields.forEach(function (f) {
      var node = document.querySelector('[data-prev="' + f.field + '"]');
      var before = Number(total.figures[f.field] || 0), now = Number(after[f.field] || 0);
      var changed = now !== before;
      node.textContent = total.basis === 'none' ? '' : T.current + ' ' + num(before) +
        (changed ? ' → ' + num(now) + '（' + (now > before ? '+' : '−') + num(Math.abs(now - before)) + '）' : '');
      node.classList.toggle('changed', changed && total.basis !== 'none');
      if (changed) changes.push(shortLabel(f) + ' ' + num(before) + ' → ' + num(now));
    });
    var name = regionName(code).replace(/（\d+）$/, '');
    summary.hidden = false;
    summary.textContent = undecided ? T.chooseBasis : changes.length
      ? fmt(T.willBecome, {region: name, list: changes.join(t('、'))}) : fmt(T.unchanged, {region: name});
    updatePhotoRule(after);
  }

  function photosNeeded(figures) {
    var deathsMissing = (figures.deaths || 0) + (figures.missing || 0);
    return (cfg.major || deathsMissing >= cfg.directThreshold) ? cfg.minPhotos : 0;
  }

  function updatePhotoRule(figures) {
    var rule = document.getElementById('photo-rule');
    if (!rule) return;
    var needed = photosNeeded(figures);
    rule.hidden = !needed;
    rule.textContent = !needed ? '' : cfg.major ? fmt(T.photoRuleMajor, {k: cfg.minPhotos})
      : fmt(T.photoRuleDeaths, {n: cfg.directThreshold, k: cfg.minPhotos});
  }

  // --- Checks (mirror the server's, so offline reports are right before they wait) ---------
  // One message per field: a field that is already wrong is not checked again.
  function check(body, photos) {
    var errors = [], bad = {};
    var prev = previousFor(body.region_code);
    var below = belowFor(body.region_code);
    if (!body.region_code) errors.push(t('请选择报告区划'));
    if (!body.as_of) {
      errors.push(t('请填写数据截至时间'));
    } else if (Date.parse(body.as_of) > Date.now() + 60000) {
      errors.push(t('数据截至时间不能晚于现在'));
    }
    cfg.fields.forEach(function (f) {
      var value = body.figures[f.field];
      if (value === undefined) return;
      if (!isFinite(value) || value < 0) { errors.push(t('%(field)s必须是不小于 0 的数字', {field: f.label})); bad[f.field] = 1; }
      else if (f.integer && Math.floor(value) !== value) { errors.push(t('%(field)s必须是整数', {field: f.label})); bad[f.field] = 1; }
    });
    cfg.rules.forEach(function (rule) {
      if (bad[rule[1]] || bad[rule[2]]) return;
      var larger = body.figures[rule[1]] || 0, smaller = body.figures[rule[2]] || 0;
      if (smaller > larger) {
        errors.push(t('%(smaller)s（%(a)s）不能大于%(larger)s（%(b)s）', {smaller: fieldInfo(rule[2]).label, a: smaller, larger: fieldInfo(rule[1]).label, b: larger}));
        bad[rule[2]] = 1;
      }
    });
    var noted = {};
    if (prev) {
      if (prev.kind === 'final') errors.push(t('该区划已核报，不再接受报告'));
      if (body.kind === 'initial') errors.push(t('该区划已有报告：应为续报或核报'));
      var jumped = [];
      cfg.fields.forEach(function (f) {
        if (bad[f.field]) return;
        var before = Number(prev.figures[f.field] || 0), after = body.figures[f.field] || 0;
        if (before > 0 && (after > before * cfg.jumpUp || after < before * cfg.jumpDown)) { jumped.push(f.label); noted[f.field] = 1; }
      });
      if (jumped.length && !body.note) errors.push(t('%(fields)s与上次相比变化过大，须在「说明」中解释原因', {fields: jumped.join(t('、'))}));
    } else if (body.kind !== 'initial' && body.region_code) {
      errors.push(t('该区划尚无报告：第一份报告必须是初报'));
    }
    if (below && !(prev && prev.kind === 'final')) {
      if (!chosenBasis()) errors.push(T.chooseBasis);
      var lower = cfg.fields.filter(function (f) {
        return !bad[f.field] && !noted[f.field] && (body.figures[f.field] || 0) < Number(below.figures[f.field] || 0);
      });
      if (lower.length && !body.note) {
        errors.push(fmt(T.lowerThanSum, {list: lower.map(function (f) {
          return shortLabel(f) + ' ' + num(body.figures[f.field] || 0) + ' < ' + num(below.figures[f.field]);
        }).join(t('、'))}));
      }
    }
    var needed = photosNeeded(body.figures);
    if (photos.length < needed) errors.push(fmt(T.photoShort, {k: needed, have: photos.length}));
    photos.forEach(function (p) {
      if (cfg.photoTypes.indexOf(p.type) < 0) errors.push(t('照片「%(name)s」不是 JPEG、PNG 或 WebP', {name: p.name}));
      if (p.size > cfg.maxPhotoBytes) errors.push(t('照片「%(name)s」超过大小上限', {name: p.name}));
    });
    return errors;
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
          ' · ' + t('截至 %(time)s', {time: fmtTime(item.body.as_of)})));
        var refused = item.photoRefused || [];
        var badge;
        if (item.status === 'sent' && refused.length) {
          badge = el('span', 'badge bg-warning text-dark', fmt(T.sentPhotoRefused, {id: item.reportId}));
        } else if (item.status === 'sent') badge = el('span', 'badge bg-success', t('已发送 #%(id)s', {id: item.reportId}));
        else if (item.status === 'failed') badge = el('span', 'badge bg-danger', t('未被接受'));
        else badge = el('span', 'badge bg-warning text-dark', item.reportId ? t('照片待上传') : t('待发送'));
        head.appendChild(badge);
        li.appendChild(head);
        if (item.photos && item.photos.length) {
          li.appendChild(el('div', 'text-muted', fmt(T.photosUploaded, {ok: item.photoOk || 0, all: item.photos.length})));
        }
        refused.forEach(function (r) {
          var line = el('div', 'text-danger photo-refused', fmt(T.photoRefused, {i: r.index + 1, name: r.name, why: r.why}));
          li.appendChild(line);
        });
        if (item.status === 'failed') {
          JiuzaiOffline.problemMessages(item.problem, t).forEach(function (m) { li.appendChild(el('div', 'text-danger', m)); });
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
    formKey = newKey();  // the refused key keeps its answer: the corrected report is a new request
    form.querySelectorAll('input[name=basis]').forEach(function (r) { r.checked = r.value === item.basis; });
    kindSelect.value = item.body.kind;
    asOfInput.value = item.body.as_of.slice(0, 16);
    noteInput.value = item.body.note || '';
    cfg.fields.forEach(function (f) {
      var value = item.body.figures[f.field];
      document.getElementById('f-' + f.field).value = value === undefined ? '' : value;
    });
    carriedPhotos = item.photos || [];
    JiuzaiOffline.showErrors(errorBox, JiuzaiOffline.problemMessages(item.problem, t).concat(carriedPhotos.length ? [t('已带入 %(count)s 张照片', {count: carriedPhotos.length})] : []));
    markChanges();
    return deleteItem(item.key).then(render);
  }

  // --- Sending ------------------------------------------------------------------------------

  var setConnection = JiuzaiOffline.connectionBadge(t), retryLater = JiuzaiOffline.retryLater;

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
          item.photoRefused = (item.photoRefused || []).concat([{index: index, name: item.photos[index].name || '',
            why: JiuzaiOffline.problemMessages(problem, t).join('；')}]);
        } else {
          item.photoOk = (item.photoOk || 0) + 1;
        }
        item.photoDone = index + 1;
        await putItem(item);
      }
      item.status = 'sent';
      item.sentAt = new Date().toISOString();
      await putItem(item);
    }
    await JiuzaiOffline.pruneSent(await allItems(), 20, deleteItem);
  }

  var flush = JiuzaiOffline.sender({sendAll: sendAll, setConnection: setConnection, after: render});

  // --- The form -----------------------------------------------------------------------------
  // One Idempotency-Key per form instance: a double click, a retry or the offline queue all send
  // the same report under the same key, so the server files it once. A new key only for a new
  // form (after a report is stored, or a refused one is loaded back for correction).
  var formKey = newKey();
  var sending = false;
  var submitButton = document.getElementById('submit');

  function collect() {
    var note = noteInput.value.trim();
    var body = {region_code: regionSelect.value, kind: kindSelect.value,
                as_of: asOfInput.value ? asOfInput.value + ':00+08:00' : '', figures: newFigures(regionSelect.value)};
    if (note) body.note = note;
    return body;
  }

  function resetForm() {
    noteInput.value = '';
    photoInput.value = '';
    carriedPhotos = [];
    asOfInput.value = shanghaiNow();
    form.querySelectorAll('input[name=basis]').forEach(function (r) { r.checked = false; });
  }

  async function submitOnce() {
    var body = collect();
    var photos = carriedPhotos.concat(Array.prototype.slice.call(photoInput.files || []));
    var errors = check(body, photos);
    JiuzaiOffline.showErrors(errorBox, errors);
    if (errors.length) return;
    var item = {key: formKey, url: cfg.reportsUrl, eventId: cfg.eventId, body: body,
                bodyText: JSON.stringify(body), photos: photos, photoDone: 0, status: 'pending',
                regionName: regionName(body.region_code), basis: chosenBasis(), createdAt: new Date().toISOString()};
    await putItem(item);
    formKey = newKey();
    resetForm();
    await render();
    prefill();  // the next report starts from the figures just filed
    await flush();
    var mine = (await allItems()).filter(function (i) { return i.key === item.key; })[0];
    if (mine && mine.status === 'failed') await loadItem(mine);
  }

  if (form) {
    asOfInput.value = shanghaiNow();
    regionSelect.addEventListener('change', function () {
      form.querySelectorAll('input[name=basis]').forEach(function (r) { r.checked = false; });
      prefill();
    });
    form.querySelectorAll('input[name=basis]').forEach(function (radio) {
      radio.addEventListener('change', function () { prefill(true); });
    });
    form.addEventListener('input', markChanges);
    form.addEventListener('submit', async function (event) {
      event.preventDefault();
      if (sending) return;
      sending = true;
      submitButton.disabled = true;
      var label = submitButton.textContent;
      submitButton.textContent = T.sending;
      try {
        await submitOnce();
      } finally {
        sending = false;
        submitButton.disabled = false;
        submitButton.textContent = label;
      }
    });
  }

  render().then(function () {
    prefill();
    if (navigator.onLine) flush();
  });

  // The service worker serves the form offline (offline.js, offline-sw.js).
  JiuzaiOffline.serveOffline(cfg.swUrl, cfg.swScope, 'jiuzai-field-v1');
})();
