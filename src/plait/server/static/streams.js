// The streams page: each stream's recent windows and aggregates, and recent alerts.
// Reads /api/streams and /api/streams/alerts every two seconds; builds DOM nodes
// with textContent only (no HTML from data).
"use strict";
(function () {
  function el(tag, text) {
    const node = document.createElement(tag);
    if (text !== undefined) node.textContent = String(text);
    return node;
  }
  function headers() {
    const token = sessionStorage.getItem("plait-token");
    return token ? { Authorization: "Bearer " + token } : {};
  }
  async function get(path) {
    const answer = await fetch(path, { headers: headers() });
    if (answer.status === 401) {
      const token = prompt("API token");
      if (token) sessionStorage.setItem("plait-token", token);
      throw new Error("unauthorised");
    }
    return answer.json();
  }
  function summary(output) {
    if (!output) return "";
    const agg = output.aggregates || output;
    const parts = [];
    for (const name of ["count", "mean", "p50", "p95", "max"]) {
      if (agg[name] !== undefined && agg[name] !== null) parts.push(name + " " + agg[name]);
    }
    const anomalies = output.anomalies ? output.anomalies.length : 0;
    if (anomalies) parts.push(anomalies + " anomal" + (anomalies === 1 ? "y" : "ies"));
    return parts.join(" · ");
  }
  function drawStreams(data) {
    const root = document.getElementById("streams");
    root.replaceChildren();
    for (const s of data.streams) {
      const section = el("section");
      section.className = "stream";
      section.append(el("h2", s.name));
      section.append(el("p", s.description + " — " + s.window.type + " windows of " +
        s.window.size + (s.window.type === "count" ? " events" : " s") + "; " +
        s.stats.events + " events, " + s.stats.dropped_late + " too late, " +
        s.stats.duplicates + " duplicates"));
      const table = el("table");
      const head = el("tr");
      for (const h of ["start", "end", "key", "events", "version", "status", "aggregates"]) head.append(el("th", h));
      table.append(head);
      for (const w of s.windows) {
        const row = el("tr");
        for (const v of [w.start, w.end, w.key || "", w.events, w.version, w.status, summary(w.output)]) row.append(el("td", v));
        table.append(row);
      }
      section.append(table);
      root.append(section);
    }
    if (!data.streams.length) root.append(el("p", "No stream files under the served folder."));
  }
  function drawAlerts(data) {
    const body = document.querySelector("#alerts tbody");
    body.replaceChildren();
    for (const a of data.alerts) {
      const row = el("tr");
      const when = new Date(a.created_at * 1000).toISOString();
      for (const v of [when, a.stream, a.key, a.start, a.alert.message || JSON.stringify(a.alert)]) row.append(el("td", v));
      body.append(row);
    }
  }
  async function refresh() {
    try {
      drawStreams(await get("/api/streams"));
      drawAlerts(await get("/api/streams/alerts"));
      document.getElementById("status").textContent = "updated " + new Date().toLocaleTimeString();
    } catch (error) {
      document.getElementById("status").textContent = "cannot load: " + error.message;
    }
  }
  refresh();
  setInterval(refresh, 2000);
})();
