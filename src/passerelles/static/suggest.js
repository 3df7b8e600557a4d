/* Suggestions as one types, for every input[data-suggest] (the search box, the place pickers): progressive
   enhancement only (the forms work without it). Fills the <datalist> named by the input's `list` attribute
   from the JSON endpoint in data-suggest ({suggestions: [{label, value?}]}): `value` goes in the field,
   `label` is shown beside it when it differs. Loaded once even when several pickers include it. */
(function () {
  "use strict";
  if (window.passerellesSuggest || !window.fetch) { return; }
  window.passerellesSuggest = true;
  function attach(input) {
    var list = document.getElementById(input.getAttribute("list"));
    if (!list) { return; }
    var timer = null, last = "";
    input.addEventListener("input", function () {
      clearTimeout(timer);
      timer = setTimeout(function () {
        var q = input.value.trim();
        if (q.length < 2 || q === last) { return; }
        last = q;
        var url = input.dataset.suggest;
        url += (url.indexOf("?") < 0 ? "?" : "&") + "limit=8&q=" + encodeURIComponent(q);
        fetch(url, { headers: { Accept: "application/json" } })
          .then(function (r) { return r.ok ? r.json() : { suggestions: [] }; })
          .then(function (data) {
            if (input.value.trim() !== q) { return; }
            list.textContent = "";
            data.suggestions.forEach(function (s) {
              var option = document.createElement("option");
              option.value = s.value || s.label;
              if (s.value && s.label !== s.value) { option.label = s.label; }
              list.appendChild(option);
            });
          })
          .catch(function () { /* the plain form still works */ });
      }, 150);
    });
  }
  function start() { Array.prototype.forEach.call(document.querySelectorAll("input[data-suggest]"), attach); }
  if (document.readyState === "loading") { document.addEventListener("DOMContentLoaded", start); } else { start(); }
})();
