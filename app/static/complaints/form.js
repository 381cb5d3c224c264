// The public complaint form: an anonymous complaint asks for no name or contact.
(function () {
  var box = document.getElementById("anonymous");
  var identity = document.getElementById("identity");
  if (!box || !identity) { return; }
  function sync() {
    identity.hidden = box.checked;
    identity.querySelectorAll("input").forEach(function (input) { input.disabled = box.checked; });
  }
  box.addEventListener("change", sync);
  sync();
})();
