/* refdb site: filters by indication and evidence level (also from the URL:
   index.html?indication=CRPS&level=rct), and copy buttons on a study's page.
   Everything it needs is in the page's data- attributes: no requests, so file:// works.
   Without JavaScript the filters stay hidden and every study is shown. */
(function () {
  "use strict";
  document.documentElement.className = document.documentElement.className.replace("no-js", "js");

  function norm(value) {
    return (value || "").trim().toLowerCase();
  }

  function choose(select, wanted) {
    // Select the option matching `wanted` (case-insensitive); "" (all) when none does.
    var options = select.options;
    for (var i = 0; i < options.length; i++) {
      if (norm(options[i].value) === norm(wanted)) {
        select.value = options[i].value;
        return;
      }
    }
    select.value = "";
  }

  function setupFilters(form) {
    var indication = document.getElementById("f-indication");
    var level = document.getElementById("f-level");
    var status = document.getElementById("f-status");
    var empty = document.getElementById("f-empty");
    var studies = Array.prototype.slice.call(document.querySelectorAll(".study"));
    var groups = Array.prototype.slice.call(document.querySelectorAll(".group"));
    var total = {};
    studies.forEach(function (li) { total[li.getAttribute("data-key")] = true; });
    var totalCount = Object.keys(total).length;

    function apply() {
      var wantIndication = indication.value;
      var wantLevel = level.value;
      var shown = {};
      studies.forEach(function (li) {
        var ok = (!wantIndication || li.getAttribute("data-indication") === wantIndication) &&
          (!wantLevel || li.getAttribute("data-level") === wantLevel);
        li.hidden = !ok;
        if (ok) { shown[li.getAttribute("data-key")] = true; }
      });
      groups.forEach(function (group) {
        group.hidden = !group.querySelector(".study:not([hidden])");
      });
      var count = Object.keys(shown).length;
      empty.hidden = count > 0;
      status.textContent = (wantIndication || wantLevel)
        ? "Showing " + count + " of " + totalCount + " studies."
        : "Showing all " + totalCount + " studies.";
    }

    function remember() {
      // The view in the URL, so that a link shares it (no new history entry).
      var params = new URLSearchParams(window.location.search);
      [["indication", indication.value], ["level", level.value]].forEach(function (pair) {
        if (pair[1]) { params.set(pair[0], pair[1]); } else { params.delete(pair[0]); }
      });
      var query = params.toString();
      try {
        window.history.replaceState(null, "", window.location.pathname + (query ? "?" + query : "") + window.location.hash);
      } catch (e) {
        /* some browsers refuse it on file://; the filters still work */
      }
    }

    var params = new URLSearchParams(window.location.search);
    choose(indication, params.get("indication"));
    choose(level, params.get("level"));
    form.hidden = false;
    form.addEventListener("submit", function (event) { event.preventDefault(); });
    indication.addEventListener("change", function () { apply(); remember(); });
    level.addEventListener("change", function () { apply(); remember(); });
    document.getElementById("f-reset").addEventListener("click", function () {
      indication.value = "";
      level.value = "";
      apply();
      remember();
    });
    apply();
  }

  function setupCopy() {
    var buttons = document.querySelectorAll("button.copy");
    Array.prototype.forEach.call(buttons, function (button) {
      var source = document.getElementById(button.getAttribute("data-copy"));
      if (!source || !navigator.clipboard) { return; }
      button.hidden = false;
      var label = button.textContent;
      button.addEventListener("click", function () {
        navigator.clipboard.writeText(source.textContent).then(function () {
          button.textContent = "Copied";
          setTimeout(function () { button.textContent = label; }, 2000);
        }, function () {
          button.textContent = "Select the text and copy it";
        });
      });
    });
  }

  function start() {
    var form = document.getElementById("filters");
    if (form) { setupFilters(form); }
    setupCopy();
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
