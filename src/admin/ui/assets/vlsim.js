// vlsim dashboard: live refresh, and nothing else. Pages work without it; with it, a
// "Live" box re-fetches the page every 2 s and swaps in its [data-live] part.
(function () {
  "use strict";
  var box = document.getElementById("live");
  var target = document.querySelector("[data-live]");
  if (!box || !target) { return; }
  box.closest(".live").hidden = false;
  var timer = null;
  var key = "vlsim-live:" + location.pathname;
  function tick() {
    fetch(location.href, { credentials: "same-origin", cache: "no-store" })
      .then(function (r) { return r.ok ? r.text() : null; })
      .then(function (text) {
        if (!text) { return; }
        var fresh = new DOMParser().parseFromString(text, "text/html").querySelector("[data-live]");
        if (fresh) { target.replaceWith(fresh); target = fresh; }
      })
      .catch(function () {});
  }
  function set(on) {
    if (timer) { clearInterval(timer); timer = null; }
    if (on) { timer = setInterval(tick, 2000); }
    try { sessionStorage.setItem(key, on ? "1" : ""); } catch (e) {}
  }
  box.addEventListener("change", function () { set(box.checked); });
  var stored = "";
  try { stored = sessionStorage.getItem(key) || ""; } catch (e) {}
  if (stored) { box.checked = true; set(true); }
})();
