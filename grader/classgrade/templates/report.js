"use strict";
(function () {
  const data = JSON.parse(document.getElementById("data").textContent);
  const SVG = "http://www.w3.org/2000/svg";
  const S = data.strings;
  const text = (i) => (i === null || i === undefined ? "" : S[i]);

  function el(tag, text, cls) {
    const node = document.createElement(tag);
    if (text !== undefined && text !== null) node.textContent = String(text);
    if (cls) node.className = cls;
    return node;
  }

  function sortKey(row, column, numeric) {
    const cell = row.cells[column];
    const raw = cell.dataset.v !== undefined ? cell.dataset.v : cell.textContent;
    return numeric ? parseFloat(raw) : raw.toLowerCase();
  }

  function sortBy(table, header) {
    const column = header.cellIndex;
    const numeric = header.dataset.type === "num";
    const ascending = header.getAttribute("aria-sort") !== "ascending";
    for (const th of table.tHead.rows[0].cells) th.removeAttribute("aria-sort");
    header.setAttribute("aria-sort", ascending ? "ascending" : "descending");
    const body = table.tBodies[0];
    const rows = Array.from(body.rows).map((row) => [sortKey(row, column, numeric), row]);
    rows.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0) * (ascending ? 1 : -1));
    const fragment = document.createDocumentFragment();
    for (const pair of rows) fragment.appendChild(pair[1]);
    body.appendChild(fragment);
  }

  for (const table of document.querySelectorAll("table.sortable")) {
    for (const header of table.tHead.rows[0].cells) {
      header.querySelector("button").addEventListener("click", () => sortBy(table, header));
    }
  }

  const students = document.getElementById("student-table");
  const search = document.getElementById("search");
  const shown = document.getElementById("shown");
  search.addEventListener("input", () => {
    const wanted = search.value.trim().toLowerCase();
    let count = 0;
    for (const row of students.tBodies[0].rows) {
      const match = !wanted || row.cells[0].dataset.v.toLowerCase().includes(wanted);
      row.hidden = !match;
      count += match;
    }
    shown.textContent = count + " shown";
  });

  function curve(history) {
    const names = Object.keys(history);
    if (!names.length) return null;
    const width = 400, height = 160, pad = 8;
    const svg = document.createElementNS(SVG, "svg");
    svg.setAttribute("viewBox", "0 0 " + width + " " + height);
    svg.setAttribute("class", "curve");
    const colours = ["#3b6fd4", "#c0392b", "#2e7d32", "#b26b00", "#7b3fb5", "#555"];
    names.forEach((name, index) => {
      const values = history[name];
      const low = Math.min(...values), high = Math.max(...values);
      const span = high - low || 1;
      const step = values.length > 1 ? (width - 2 * pad) / (values.length - 1) : 0;
      const points = values.map((v, i) =>
        (pad + i * step).toFixed(1) + "," + (height - pad - ((v - low) / span) * (height - 2 * pad)).toFixed(1));
      const line = document.createElementNS(SVG, "polyline");
      line.setAttribute("points", points.join(" "));
      line.setAttribute("stroke", colours[index % colours.length]);
      const title = document.createElementNS(SVG, "title");
      title.textContent = name + ": " + values[0].toPrecision(3) + " → " + values[values.length - 1].toPrecision(3);
      line.appendChild(title);
      svg.appendChild(line);
    });
    const wrap = el("figure");
    wrap.appendChild(svg);
    const legend = el("figcaption", "learning curve (each line scaled to its own range): ", "muted");
    names.forEach((name, index) => {
      const key = el("span", "■ " + name + "  ");
      key.style.color = colours[index % colours.length];
      legend.appendChild(key);
    });
    wrap.appendChild(legend);
    return wrap;
  }

  function check(values) {
    const item = {};
    data.check_fields.forEach((name, i) => { item[name] = values[i]; });
    const box = el("div", null, "check");
    box.appendChild(el("strong", "✗ " + text(item.title)));
    box.appendChild(el("span", " " + item.points + "/" + item.max_points + ", " + text(item.status).replace(/_/g, " "), "muted"));
    if (item.message !== null) box.appendChild(el("p", text(item.message)));
    const fields = el("dl");
    for (const [label, key] of [["called", "call"], ["expected", "expected"], ["got", "got"], ["hint", "hint"], ["mistake", "mistake"]]) {
      if (item[key] === null) continue;
      fields.appendChild(el("dt", label));
      fields.appendChild(el("dd", text(item[key])));
    }
    if (fields.childNodes.length) box.appendChild(fields);
    if (item.output !== null) {
      box.appendChild(el("div", "printed:", "muted"));
      box.appendChild(el("pre", text(item.output)));
    }
    return box;
  }

  function show(index) {
    const s = data.students[index];
    const panel = document.getElementById("feedback");
    panel.replaceChildren();
    panel.appendChild(el("h3", s.student));
    const total = s.total === null ? "—" : s.total;
    panel.appendChild(el("p", "total " + total + "/" + data.max + " · seed " + s.seed));
    const link = el("a", "feedback file (Markdown)");
    link.href = s.feedback;
    panel.appendChild(link);
    if (s.notes.length) {
      panel.appendChild(el("h4", "Refused files", "warn"));
      const list = el("ul");
      for (const note of s.notes) list.appendChild(el("li", text(note)));
      panel.appendChild(list);
    }
    s.exercises.forEach((ex, n) => {
      const info = data.exercises[n];
      const score = ex.score === null ? "—" : ex.score;
      const head = el("h4", info.id + " — " + info.title + ": " + score + "/" + info.max + " ");
      head.appendChild(el("span", ex.status.replace(/_/g, " "), "st-" + ex.status));
      panel.appendChild(head);
      if (ex.problem !== null) panel.appendChild(el("pre", text(ex.problem)));
      if (ex.status === "missing" || ex.status === "not_graded" || ex.status === "grader_error") return;
      if (ex.not_started) {
        panel.appendChild(el("p", "Not started: every function still raises NotImplementedError.", "muted"));
        return;
      }
      if (ex.passed.length) panel.appendChild(el("p", "✓ passed " + ex.passed.length + ": " + ex.passed.map(text).join(", "), "st-passed"));
      for (const item of ex.failed) panel.appendChild(check(item));
      if (ex.accuracy !== null) panel.appendChild(el("p", "test accuracy " + (ex.accuracy * 100).toFixed(2) + "%"));
      const drawn = curve(ex.curve);
      if (drawn) panel.appendChild(drawn);
    });
    for (const row of students.querySelectorAll("tr.current")) row.classList.remove("current");
    const current = students.querySelector('tr[data-i="' + index + '"]');
    if (current) current.classList.add("current");
  }

  students.tBodies[0].addEventListener("click", (event) => {
    const button = event.target.closest("button.student");
    if (button) show(Number(button.closest("tr").dataset.i));
  });
})();
