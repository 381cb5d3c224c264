/* The depots pages' own scripts (no inline script: CSP); their pickers are /static/picker.js.
 * - inputs with data-stock (usable stock per depot of an item): the hint beside them shows the
 *   chosen source depot's stock (.jz-depot-stock, data-depot-field = the depot select's id).
 * - the allocation plan: "select all" ticks or clears every plan line.
 */
(function () {
  "use strict";

  function setupStock() {
    var hints = document.querySelectorAll(".jz-depot-stock");
    if (!hints.length) { return; }
    var select = document.getElementById(hints[0].getAttribute("data-depot-field"));
    if (!select) { return; }
    function update() {
      hints.forEach(function (hint) {
        var input = document.getElementById(hint.parentNode.id.replace(/^avail-/, "qty-"));
        var stock = {};
        try { stock = JSON.parse(input.getAttribute("data-stock") || "{}"); } catch (e) { stock = {}; }
        hint.textContent = select.value ? "｜" + hint.getAttribute("data-label") + " " + (stock[select.value] || 0) : "";
      });
    }
    select.addEventListener("change", update);
    update();
  }

  function setupPlan() {
    var all = document.getElementById("select-all");
    if (!all) { return; }
    var lines = document.querySelectorAll(".plan-line");
    all.addEventListener("change", function () {
      lines.forEach(function (line) { line.checked = all.checked; });
    });
    var form = document.getElementById("accept-form");
    form.addEventListener("submit", function () {
      var button = document.getElementById("accept");
      if (button) { setTimeout(function () { button.disabled = true; }, 0); }
    });
  }

  setupStock();
  setupPlan();
}());
