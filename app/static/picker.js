/* A search picker (no inline script: CSP), used by the depots' and the distribution points'
 * forms: a .jz-picker box asks GET data-picker-url?q=…&kind=… (regions or depots by name or
 * code) and puts the chosen code in its hidden .jz-picker-value input; typed text is never
 * taken for a code.
 */
(function () {
  "use strict";

  function setupPicker(box) {
    var url = box.getAttribute("data-picker-url");
    var kind = box.getAttribute("data-picker-kind") || "region";
    var search = box.querySelector(".jz-picker-search");
    var value = box.querySelector(".jz-picker-value");
    var results = box.querySelector(".jz-picker-results");
    var timer = null;
    var asked = 0;

    function close() {
      results.innerHTML = "";
      search.setAttribute("aria-expanded", "false");
    }

    function choose(row) {
      value.value = row.code;
      search.value = row.label;
      search.classList.add("is-valid");
      close();
    }

    function show(rows) {
      results.innerHTML = "";
      rows.forEach(function (row) {
        var button = document.createElement("button");
        button.type = "button";
        button.className = "list-group-item list-group-item-action py-1 small";
        button.setAttribute("role", "option");
        button.textContent = row.label;
        button.addEventListener("click", function () { choose(row); });
        results.appendChild(button);
      });
      if (!rows.length) {
        var none = document.createElement("div");
        none.className = "list-group-item small text-muted";
        none.textContent = search.getAttribute("data-none");
        results.appendChild(none);
      }
      search.setAttribute("aria-expanded", "true");
    }

    function ask() {
      var text = search.value.trim();
      if (!text) { close(); return; }
      var mine = ++asked;
      fetch(url + "?kind=" + encodeURIComponent(kind) + "&q=" + encodeURIComponent(text),
            {credentials: "same-origin", headers: {"Accept": "application/json"}})
        .then(function (response) { return response.ok ? response.json() : []; })
        .then(function (rows) { if (mine === asked) { show(rows); } })
        .catch(function () { close(); });
    }

    // a code already chosen (the form shown again after a refusal): show its name
    if (value.value && search.value === value.value) {
      fetch(url + "?kind=" + encodeURIComponent(kind) + "&q=" + encodeURIComponent(value.value),
            {credentials: "same-origin", headers: {"Accept": "application/json"}})
        .then(function (response) { return response.ok ? response.json() : []; })
        .then(function (rows) {
          rows.forEach(function (row) {
            if (row.code === value.value && search.value === value.value) { search.value = row.label; }
          });
        })
        .catch(function () { return null; });
    }

    search.addEventListener("input", function () {
      value.value = "";  // typed text is never a code: a row must be chosen
      search.classList.remove("is-valid");
      clearTimeout(timer);
      timer = setTimeout(ask, 250);
    });
    search.addEventListener("keydown", function (event) {
      if (event.key === "Escape") { close(); }
      if (event.key === "Enter" && results.firstChild && results.firstChild.tagName === "BUTTON") {
        event.preventDefault();
        results.firstChild.click();
      }
    });
  }

  document.querySelectorAll(".jz-picker").forEach(setupPicker);
}());
