/* 逐户发放 (hand-out page): works offline, as the field form does (reports/field-form.js).
 *
 * A hand-out (one household, some items, a signature drawn on the canvas or a photo) is checked
 * here, stored in IndexedDB under its own Idempotency-Key, then sent to the JSON API. Without a
 * connection it waits; it is sent when the connection returns ("online", the 立即发送 button, or
 * every 30 s), always with the same key and the same bytes, so the server files it exactly once.
 * The page refuses at once an item the household already received this round, counting what the
 * page was given and what this phone recorded since (sent or still queued); the server refuses it
 * too (409), and a refusal is shown on the queued line.
 */
(function () {
  'use strict';

  var cfg = JSON.parse(document.getElementById('form-config').textContent);
  var t = JiuzaiOffline.translator();  // the page's words in the reader's language
  // the script's own joins, in the page's language (the server turns the page's punctuation)
  var EN = document.documentElement.lang === 'en';
  var SEP = EN ? ', ' : '、', COLON = EN ? ': ' : '：';
  var csrf = (document.querySelector('meta[name="csrf-token"]') || {}).content || '';
  var form = document.getElementById('handout-form');
  var errorBox = document.getElementById('form-errors');
  var listBox = document.getElementById('household-list');
  var search = document.getElementById('search');
  var chosenBox = document.getElementById('chosen');
  var canvas = document.getElementById('signature');
  var photoInput = document.getElementById('photo');
  var submitButton = document.getElementById('submit');
  var chosen = null;  // a household of cfg.households
  var itemNames = {};
  cfg.stock.forEach(function (s) {
    var label = document.querySelector('label[for="q-' + s.item + '"]');
    itemNames[s.item] = label ? label.childNodes[0].textContent.trim() : s.name;
  });

  // --- The queue of hand-outs waiting to be sent (IndexedDB; offline.js) ---------------------
  var queue = JiuzaiOffline.queue('jiuzai-distribution');
  function allItems() {  // this point's only: one phone may serve several points
    return queue.all().then(function (items) { return items.filter(function (i) { return i.pointId === cfg.pointId; }); });
  }
  var putItem = queue.put, deleteItem = queue.remove, newKey = JiuzaiOffline.newKey;

  // --- Helpers -------------------------------------------------------------------------------
  var el = JiuzaiOffline.el;
  /* GB 11643: 17 digits, a real birth date, the MOD 11-2 check character. */
  function idValid(text) {
    text = String(text || '').trim().toUpperCase();
    if (!/^\d{17}[\dX]$/.test(text)) return false;
    var y = +text.slice(6, 10), m = +text.slice(10, 12), d = +text.slice(12, 14);
    var born = new Date(Date.UTC(y, m - 1, d));
    if (born.getUTCFullYear() !== y || born.getUTCMonth() !== m - 1 || born.getUTCDate() !== d || y < 1900) return false;
    var w = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2], sum = 0;
    for (var i = 0; i < 17; i++) sum += (+text[i]) * w[i];
    return '10X98765432'[sum % 11] === text[17];
  }
  function keyOf(body) {
    return body.household_id ? 'H' + body.household_id : 'P' + String(body.person.id_number).toUpperCase();
  }

  // --- What each household received this round (page + this phone's records) ------------------
  var queued = [];
  function receivedBy(key) {
    var got = {};
    cfg.households.forEach(function (h) {
      if (h.household_id && 'H' + h.household_id === key) h.received.forEach(function (i) { got[i] = true; });
    });
    queued.forEach(function (q) {
      if (q.status !== 'failed' && q.round === cfg.round && q.recipient === key) {
        q.body.lines.forEach(function (l) { got[l.item] = true; });
      }
    });
    return got;
  }
  function usedHere(item) {
    // units this phone recorded that the page's stock figure does not count yet
    return queued.filter(function (q) { return q.status === 'pending' || (q.status === 'sent' && !q.counted); })
      .reduce(function (n, q) {
        return n + q.body.lines.filter(function (l) { return l.item === item; })
          .reduce(function (m, l) { return m + l.quantity; }, 0);
      }, 0);
  }
  function leftOf(item) {
    var s = cfg.stock.filter(function (x) { return x.item === item; })[0];
    return (s ? s.on_hand : 0) - usedHere(item);
  }

  // --- Household list ------------------------------------------------------------------------
  function renderHouseholds() {
    var q = (search.value || '').trim();
    listBox.innerHTML = '';
    cfg.households.filter(function (h) {
      return h.household_id && (!q || h.name.indexOf(q) >= 0 || h.id_number.slice(-4) === q);
    }).slice(0, 200).forEach(function (h) {
      var got = Object.keys(receivedBy('H' + h.household_id));
      var button = el('button', 'list-group-item list-group-item-action d-flex justify-content-between');
      button.type = 'button';
      button.dataset.household = h.household_id;
      button.appendChild(el('span', '', h.name + ' · ' + t('%(n)s 人', {n: h.members})));
      button.appendChild(el('span', got.length ? 'badge bg-success' : 'text-muted', got.length ?
        got.map(function (i) { return itemNames[i] || i; }).join(SEP) : h.id_number.slice(-4)));
      if (chosen && chosen.household_id === h.household_id) button.classList.add('active');
      button.addEventListener('click', function () { chosen = h; refresh(); });
      listBox.appendChild(button);
    });
  }
  function currentKey() {
    if (spotMode()) {
      var id = document.getElementById('person-id').value.trim().toUpperCase();
      return id ? 'P' + id : null;
    }
    return chosen ? 'H' + chosen.household_id : null;
  }
  function refresh() {
    renderHouseholds();
    var key = currentKey();
    var got = key ? receivedBy(key) : {};
    document.querySelectorAll('.item-row').forEach(function (row) {
      var item = row.dataset.item;
      row.querySelector('.left').textContent = String(leftOf(item));
      row.querySelector('.taken').hidden = !got[item];
    });
    chosenBox.textContent = '';
    if (!spotMode() && chosen) {
      chosenBox.textContent = t('已选：%(name)s', {name: chosen.name + ' (' + chosen.id_number + ')'});
      var names = Object.keys(got).map(function (i) { return itemNames[i] || i; });
      if (names.length) chosenBox.appendChild(el('div', 'text-success', t('本轮已领：%(items)s', {items: names.join(SEP)})));
    }
  }
  function spotMode() { return document.getElementById('who-spot').checked; }
  document.querySelectorAll('input[name=who]').forEach(function (r) {
    r.addEventListener('change', function () {
      document.getElementById('spot-box').hidden = !spotMode();
      document.getElementById('registry-box').hidden = spotMode();
      refresh();
    });
  });
  search.addEventListener('input', renderHouseholds);
  document.getElementById('person-id').addEventListener('change', refresh);

  // --- Signature and photo -------------------------------------------------------------------
  var strokes = 0, drawing = false;
  var ctx = canvas.getContext('2d');
  function resetCanvas() {
    ctx.fillStyle = '#fff';
    ctx.fillRect(0, 0, canvas.width, canvas.height);
    ctx.lineWidth = 3; ctx.lineCap = 'round'; ctx.strokeStyle = '#111';
    strokes = 0;
  }
  function point(event) {
    var r = canvas.getBoundingClientRect();
    return [(event.clientX - r.left) * canvas.width / r.width, (event.clientY - r.top) * canvas.height / r.height];
  }
  canvas.addEventListener('pointerdown', function (e) {
    drawing = true; canvas.setPointerCapture(e.pointerId);
    var p = point(e); ctx.beginPath(); ctx.moveTo(p[0], p[1]);
  });
  canvas.addEventListener('pointermove', function (e) {
    if (!drawing) return;
    var p = point(e); ctx.lineTo(p[0], p[1]); ctx.stroke(); strokes++;
  });
  ['pointerup', 'pointercancel', 'pointerleave'].forEach(function (name) {
    canvas.addEventListener(name, function () { drawing = false; });
  });
  document.getElementById('clear-signature').addEventListener('click', resetCanvas);
  function photoMode() { return document.getElementById('proof-photo').checked; }
  document.querySelectorAll('input[name=proof_kind]').forEach(function (r) {
    r.addEventListener('change', function () {
      document.getElementById('photo-box').hidden = !photoMode();
      document.getElementById('signature-box').hidden = photoMode();
    });
  });
  /* A photo as a JPEG data URL at most 1280 px wide (well under the server's limit). */
  function photoDataUrl(file) {
    return new Promise(function (resolve, reject) {
      var img = new Image();
      img.onload = function () {
        var scale = Math.min(1, 1280 / Math.max(img.width, img.height));
        var c = document.createElement('canvas');
        c.width = Math.round(img.width * scale); c.height = Math.round(img.height * scale);
        c.getContext('2d').drawImage(img, 0, 0, c.width, c.height);
        URL.revokeObjectURL(img.src);
        resolve(c.toDataURL('image/jpeg', 0.8));
      };
      img.onerror = reject;
      img.src = URL.createObjectURL(file);
    });
  }

  // --- The form ------------------------------------------------------------------------------
  function collect(errors) {
    var body = {lines: []};
    if (spotMode()) {
      var name = document.getElementById('person-name').value.trim();
      var id = document.getElementById('person-id').value.trim().toUpperCase();
      var size = Number(document.getElementById('person-size').value);
      if (!name) errors.push(t('请填写姓名'));
      if (!idValid(id)) errors.push(t('身份证号码有误'));
      if (!Number.isInteger(size) || size < 1 || size > 30) errors.push(t('请填写家庭人口（1–30）'));
      body.person = {name: name, id_number: id, household_size: size};
    } else if (chosen) {
      body.household_id = chosen.household_id;
    } else {
      errors.push(t('请选择领取户，或现场登记'));
    }
    var key = (body.household_id || (body.person && body.person.id_number)) ? keyOf(body) : null;
    var got = key ? receivedBy(key) : {};
    document.querySelectorAll('.item-row input').forEach(function (input) {
      var text = input.value.trim();
      if (!text) return;
      var item = input.dataset.item, n = Number(text), name = itemNames[item] || item;
      if (!Number.isInteger(n) || n < 1) errors.push(t('%(item)s：数量须为正整数', {item: name}));
      else if (got[item]) errors.push(t('%(item)s：该户本轮已领取', {item: name}));
      else if (n > leftOf(item)) errors.push(t('%(item)s：现有 %(left)s，不够发放', {item: name, left: leftOf(item)}));
      else body.lines.push({item: item, quantity: n});
    });
    if (!body.lines.length && !errors.some(function (e) { return e.indexOf(COLON) > 0; })) {
      errors.push(t('请至少填写一种物资的数量'));
    }
    body.proof_kind = photoMode() ? 'photo' : 'signature';
    return body;
  }
  async function submitOnce() {
    var errors = [];
    var body = collect(errors);
    if (body.proof_kind === 'signature' && strokes < 3) errors.push(t('请领取人签名'));
    if (body.proof_kind === 'photo' && !(photoInput.files || []).length) errors.push(t('请拍照'));
    JiuzaiOffline.showErrors(errorBox, errors);
    if (errors.length) return;
    body.proof = body.proof_kind === 'signature' ? canvas.toDataURL('image/png') : await photoDataUrl(photoInput.files[0]);
    body.handed_at = new Date().toISOString();
    var label = body.household_id ? chosen.name : body.person.name + (EN ? ' (' : '（') + t('现场登记') + (EN ? ')' : '）');
    var item = {key: newKey(), pointId: cfg.pointId, url: cfg.handoutUrl, body: body, bodyText: JSON.stringify(body),
                recipient: keyOf(body), round: cfg.round, label: label, status: 'pending',
                createdAt: new Date().toISOString()};
    await putItem(item);
    queued.push(item);
    // a fresh form for the next household
    chosen = null;
    form.querySelectorAll('.item-row input').forEach(function (i) { i.value = ''; });
    ['person-name', 'person-id', 'person-size'].forEach(function (id) { document.getElementById(id).value = ''; });
    photoInput.value = '';
    search.value = '';
    resetCanvas();
    refresh();
    await render();
    await flush();
  }
  var sending = false;
  form.addEventListener('submit', async function (event) {
    event.preventDefault();
    if (sending) return;  // a double click records one hand-out
    sending = true;
    submitButton.disabled = true;
    try { await submitOnce(); } finally { sending = false; submitButton.disabled = false; }
  });

  // --- The queue -----------------------------------------------------------------------------
  async function render() {
    var counted = {};
    queued.forEach(function (q) { if (q.counted) counted[q.key] = true; });
    queued = await allItems();
    queued.forEach(function (q) { if (counted[q.key]) q.counted = true; });
    var box = document.getElementById('queue-list');
    box.innerHTML = '';
    document.getElementById('pending-count').textContent =
      String(queued.filter(function (i) { return i.status === 'pending'; }).length);
    queued.slice().reverse().forEach(function (item) {
      var li = el('li', 'list-group-item');
      li.dataset.status = item.status;
      var what = item.body.lines.map(function (l) { return (itemNames[l.item] || l.item) + ' × ' + l.quantity; }).join(SEP);
      var badge = {pending: 'bg-secondary', sent: 'bg-success', failed: 'bg-danger'}[item.status];
      var word = {pending: t('待发送'), sent: t('已发送'), failed: t('未被接受')}[item.status];
      li.appendChild(el('span', 'badge ' + badge + ' me-1', word));
      li.appendChild(el('span', '', item.label + COLON + what));
      if (item.lastError && item.status === 'pending') li.appendChild(el('div', 'text-muted', item.lastError));
      if (item.status === 'failed') {
        JiuzaiOffline.problemMessages(item.problem, t).forEach(function (m) { li.appendChild(el('div', 'text-danger', m)); });
        var drop = el('button', 'btn btn-link btn-sm p-0', t('删除'));
        drop.type = 'button';
        drop.addEventListener('click', function () { deleteItem(item.key).then(render).then(refresh); });
        li.appendChild(drop);
      }
      box.appendChild(li);
    });
  }
  var setConnection = JiuzaiOffline.connectionBadge(t), retryLater = JiuzaiOffline.retryLater;
  async function sendAll() {
    var items = (await allItems()).filter(function (i) { return i.status === 'pending'; });
    for (var n = 0; n < items.length; n++) {
      var item = items[n], response, problem;
      try {
        response = await fetch(item.url, {
          method: 'POST', credentials: 'same-origin',
          headers: {'Content-Type': 'application/json', 'Accept': 'application/json',
                    'X-CSRFToken': csrf, 'Idempotency-Key': item.key},
          body: item.bodyText
        });
      } catch (e) { setConnection(false); return; }
      setConnection(true);
      problem = await response.json().catch(function () { return null; });
      if (response.status === 201) {
        item.status = 'sent';
        item.sentAt = new Date().toISOString();
        delete item.lastError;
      } else if (response.redirected || retryLater(problem, response.status)) {
        item.lastError = response.status === 401 || response.redirected ? t('登录已过期：请重新登录后再发送') :
          t('暂时无法发送，稍后重试');
        await putItem(item);
        return;
      } else {
        item.status = 'failed';
        item.problem = problem;
      }
      await putItem(item);
    }
    await JiuzaiOffline.pruneSent(await allItems(), 200, deleteItem);
  }
  var flush = JiuzaiOffline.sender({sendAll: sendAll, setConnection: setConnection,
                                    after: function () { return render().then(refresh); }});

  resetCanvas();
  render().then(function () {
    // hand-outs this phone sent before the page was loaded are in the page's figures already
    // (the page, perhaps a cached copy offline, says when the server drew it)
    queued.forEach(function (q) { if (q.status === 'sent' && new Date(q.sentAt) < new Date(cfg.renderedAt)) q.counted = true; });
    refresh();
    if (navigator.onLine) flush();
  });

  // The service worker serves the page offline (offline.js, offline-sw.js).
  JiuzaiOffline.serveOffline(cfg.swUrl, cfg.swScope, 'jiuzai-distribution-v1');
})();
