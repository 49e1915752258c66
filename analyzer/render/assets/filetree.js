// layermap file browser: expands the compressed listing embedded in the page (JSON, zlib, base64) with
// the browser's DecompressionStream when a tab is chosen, and draws the chosen layer (or the whole
// image) as a tree of <details>. Files carry data-line, so report.js highlights their Dockerfile line.
(function () {
  "use strict";
  var source = document.getElementById("filetree-data");
  var view = document.getElementById("tree-view");
  if (!source || !view) { return; }
  var loaded = null;

  function load() {
    if (loaded) { return loaded; }
    var bytes = Uint8Array.from(atob(source.textContent.trim()), function (c) { return c.charCodeAt(0); });
    var stream = new Blob([bytes]).stream().pipeThrough(new DecompressionStream("deflate"));
    loaded = new Response(stream).text().then(JSON.parse);
    return loaded;
  }

  // The page's language: its sentences ({name} placeholders) and number style come with the data.
  var T = null;

  function t(key, values) {
    return T[key].replace(/\{(\w+)\}/g, function (whole, name) {
      return values[name] === undefined ? whole : String(values[name]);
    });
  }

  function size(n) {
    var units = T.units, i = 0, v = n;
    while (Math.abs(v) >= 1000 && i < units.length - 1) { v /= 1000; i += 1; }
    return i === 0 ? n + " " + units[0] : v.toPrecision(3).replace(".", T.decimal) + " " + units[i];
  }

  function el(tag, cls, text) {
    var node = document.createElement(tag);
    if (cls) { node.className = cls; }
    if (text !== undefined) { node.textContent = text; }
    return node;
  }

  // Nest leaf records {path, ...} into directories; a directory's size is the sum below it.
  function nest(leaves) {
    var root = { dirs: {}, files: [], size: 0, marked: 0 };
    leaves.forEach(function (leaf) {
      var parts = leaf.path.split("/").filter(Boolean), node = root, mark = leaf.sign === "!" || leaf.sign === "−";
      root.size += leaf.size;
      for (var i = 0; i < parts.length - 1; i += 1) {
        node = node.dirs[parts[i]] || (node.dirs[parts[i]] = { dirs: {}, files: [], size: 0, marked: 0 });
        node.size += leaf.size;
        node.marked += mark ? 1 : 0;
      }
      leaf.name = parts[parts.length - 1] || "/";
      if (leaf.dir && node.dirs[leaf.name]) { node.dirs[leaf.name].self = leaf; } else { node.files.push(leaf); }
    });
    return root;
  }

  // Folders open down to openDepth, and always where something was deleted or hidden.
  function draw(node, depth, openDepth) {
    var list = el("ul", "tree");
    Object.keys(node.dirs).sort().forEach(function (name) {
      var sub = node.dirs[name], item = el("li", "dir"), details = el("details"), summary = el("summary");
      details.open = depth < openDepth || sub.marked > 0;
      summary.appendChild(el("span", "name", name + "/"));
      summary.appendChild(el("span", "tsize", size(sub.size)));
      details.appendChild(summary);
      details.appendChild(draw(sub, depth + 1, openDepth));
      item.appendChild(details);
      list.appendChild(item);
    });
    node.files.sort(function (a, b) { return a.name < b.name ? -1 : 1; }).forEach(function (leaf) {
      var item = el("li", "file " + leaf.cls);
      item.tabIndex = 0;
      if (leaf.line !== null && leaf.line !== undefined) { item.setAttribute("data-line", "L" + leaf.line); }
      item.appendChild(el("span", "sign", leaf.sign));
      item.appendChild(el("span", "name", leaf.name + (leaf.dir ? "/" : "") + (leaf.link ? " → " + leaf.link : "")));
      item.appendChild(el("span", "tsize", size(leaf.size)));
      if (leaf.note) { item.appendChild(el("span", "note", leaf.note)); }
      item.title = leaf.path;
      list.appendChild(item);
    });
    return list;
  }

  var SIGNS = { added: "+", modified: "~", deleted: "−" };

  function layerLeaves(data, layer) {
    return layer.e.map(function (e) {
      var note = "";
      if (e[1] === "w") { note = t("whiteout", { size: size(e[3]) }); }
      if (e[1] === "o") { note = t("opaque", { size: size(e[3]) }); }
      return { path: e[0], dir: e[1] === "d", cls: e[2], sign: SIGNS[e[2]] || "", size: e[2] === "deleted" ? 0 : e[3],
               link: e[4], line: layer.line, note: note };
    });
  }

  function where(data, index) {
    var line = data.lines[String(index)];
    if (line !== undefined) { return t("layer_line", { index: index, line: line }); }
    return t("layer", { index: index }) + (data.base ? " (" + data.base + ")" : "");
  }

  function finalLeaves(data) {
    return data.final.e.map(function (e) {
      var versions = e[4], last = versions[versions.length - 1], visible = e[2] === 1;
      var hidden = versions.filter(function (v) { return v[2] !== null; });
      var notes = hidden.map(function (v) {
        return t("stored", { size: size(v[1]), layer: where(data, v[0]), how: T.how[v[3]] || v[3], by: where(data, v[2]) });
      });
      var owner = visible ? last[0] : hidden[hidden.length - 1][0];
      var stored = hidden.reduce(function (sum, v) { return sum + v[1]; }, 0);
      return { path: e[0], dir: false, cls: visible ? (hidden.length ? "hidden-versions" : "") : "gone",
               sign: visible ? (hidden.length ? "!" : "") : "−", size: visible ? last[1] : stored,
               link: e[3], line: data.lines[String(owner)], note: (visible ? t("from", { layer: where(data, last[0]) }) : T.gone) +
               (notes.length ? "; " + notes.join("; ") : "") };
    });
  }

  function show(which) {
    load().then(function (data) {
      var leaves, head;
      T = data.t;
      if (which === "final") {
        leaves = finalLeaves(data);
        head = t("whole", { shown: data.final.e.length, total: data.final.total });
      } else {
        var layer = data.layers[Number(which)];
        leaves = layerLeaves(data, layer);
        head = t(layer.omitted ? "changes_omitted" : "changes", { layer: where(data, layer.i), shown: layer.e.length,
          total: layer.total, omitted: layer.omitted, size: size(layer.omitted_bytes) });
      }
      view.textContent = "";
      view.appendChild(el("p", "legend", head));
      view.appendChild(draw(nest(leaves), 0, which === "final" ? 0 : 2));
      document.querySelectorAll(".tree-tab").forEach(function (tab) {
        tab.classList.toggle("active", tab.getAttribute("data-tree") === which);
      });
    }).catch(function (err) {
      view.textContent = T ? t("failed", { error: err }) : String(err);
    });
  }

  document.querySelectorAll(".tree-tab").forEach(function (tab) {
    tab.addEventListener("click", function () { show(tab.getAttribute("data-tree")); });
  });
})();
