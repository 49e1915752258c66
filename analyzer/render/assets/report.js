// layermap HTML report: clicking anything that names a line (a stratum, a table row, a finding, a file
// of the browser) brings that Dockerfile line into view and highlights it; hovering a line lights its
// blocks. Plain DOM, no library, nothing fetched.
(function () {
  "use strict";
  function highlight(id, origin) {
    var line = document.getElementById(id);
    if (!line) { return; }
    document.querySelectorAll(".highlight").forEach(function (el) { el.classList.remove("highlight"); });
    document.querySelectorAll("[data-line].active").forEach(function (el) { el.classList.remove("active"); });
    line.classList.add("highlight");
    document.querySelectorAll('[data-line="' + id + '"]').forEach(function (el) { el.classList.add("active"); });
    if (origin) { origin.classList.add("highlight"); }
    line.scrollIntoView({ block: "center" });
    if (history.replaceState) { history.replaceState(null, "", "#" + id); }
  }
  document.addEventListener("click", function (event) {
    var target = event.target.closest("[data-line]");
    if (!target) { return; }
    event.preventDefault();
    highlight(target.getAttribute("data-line"), target.tagName === "LI" && !target.id ? target : null);
  });
  document.addEventListener("keydown", function (event) {
    var target = event.target.closest && event.target.closest("[data-line][tabindex]");
    if (target && (event.key === "Enter" || event.key === " ")) {
      event.preventDefault();
      highlight(target.getAttribute("data-line"), target);
    }
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
