// layermap HTML report: clicking a stratum (or a table row) brings its Dockerfile line into view and
// highlights it; hovering a line lights its blocks. Plain DOM, no library, nothing fetched.
(function () {
  "use strict";
  function highlight(id) {
    var line = document.getElementById(id);
    if (!line) { return; }
    document.querySelectorAll(".highlight").forEach(function (el) { el.classList.remove("highlight"); });
    document.querySelectorAll(".stratum.active").forEach(function (el) { el.classList.remove("active"); });
    line.classList.add("highlight");
    document.querySelectorAll('[data-line="' + id + '"]').forEach(function (el) { el.classList.add("active"); });
    line.scrollIntoView({ block: "center" });
    if (history.replaceState) { history.replaceState(null, "", "#" + id); }
  }
  document.addEventListener("click", function (event) {
    var target = event.target.closest("[data-line]");
    if (!target) { return; }
    event.preventDefault();
    highlight(target.getAttribute("data-line"));
  });
  document.querySelectorAll("ol.dockerfile li[id]").forEach(function (li) {
    li.addEventListener("mouseenter", function () {
      document.querySelectorAll('.stratum[data-line="' + li.id + '"]').forEach(function (el) { el.classList.add("active"); });
    });
    li.addEventListener("mouseleave", function () {
      if (li.classList.contains("highlight")) { return; }
      document.querySelectorAll('.stratum[data-line="' + li.id + '"]').forEach(function (el) { el.classList.remove("active"); });
    });
  });
})();
