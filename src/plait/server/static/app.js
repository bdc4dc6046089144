// plait dashboard: draws each view from the JSON API and polls it for live state.
// Plain DOM (no framework, nothing fetched from elsewhere); text is always set with
// textContent, never parsed as HTML, so workflow data cannot inject markup.
"use strict";

const TOKEN_KEY = "plait.token";
const POLL_MS = 1000;
const TERMINAL = new Set(["completed", "failed", "cancelled"]);
const STEP_STATES = ["pending", "running", "waiting", "completed", "cached", "degraded", "failed", "skipped", "cancelled"];

// --- DOM and formatting helpers ---------------------------------------------------------

function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value === null || value === undefined || value === false) continue;
    if (key.startsWith("on")) el.addEventListener(key.slice(2), value);
    else if (key === "class") el.className = value;
    else el.setAttribute(key, value === true ? "" : String(value));
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const child of children.flat(Infinity)) {
    if (child === null || child === undefined || child === false) continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return el;
}

function fill(el, ...children) {
  el.replaceChildren();
  return append(el, children);
}

const SVG_NS = "http://www.w3.org/2000/svg";
function s(tag, attrs, ...children) {
  const el = document.createElementNS(SVG_NS, tag);
  for (const [key, value] of Object.entries(attrs || {})) {
    if (key.startsWith("on")) el.addEventListener(key.slice(2), value);
    else el.setAttribute(key, String(value));
  }
  append(el, children);
  return el;
}

function badge(status) {
  return h("span", { class: `badge status-${status}`, "data-status": status }, status);
}

function json(value) {
  return h("pre", {}, value === undefined ? "" : JSON.stringify(value, null, 2));
}

function when(seconds) {
  if (!seconds) return "";
  const date = new Date(seconds * 1000);
  const today = new Date().toDateString() === date.toDateString();
  return today ? date.toLocaleTimeString() : date.toLocaleString();
}

function duration(seconds) {
  if (seconds === null || seconds === undefined) return "";
  if (seconds < 1) return `${Math.round(seconds * 1000)} ms`;
  if (seconds < 120) return `${seconds.toFixed(2)} s`;
  return `${(seconds / 60).toFixed(1)} min`;
}

function percent(rate) {
  return `${(rate * 100).toFixed(1)}%`;
}

function link(href, ...text) {
  return h("a", { href, "data-link": true }, ...text);
}

// --- the API, with the token asked for once --------------------------------------------

let asking = null;

function askToken(message) {
  if (asking) return asking;
  const dialog = document.getElementById("token-dialog");
  const form = document.getElementById("token-form");
  const input = document.getElementById("token-input");
  const error = document.getElementById("token-error");
  error.hidden = !message;
  error.textContent = message || "";
  input.value = "";
  asking = new Promise((resolve) => {
    form.addEventListener("submit", () => {
      sessionStorage.setItem(TOKEN_KEY, input.value.trim());
      asking = null;
      resolve();
    }, { once: true });
  });
  dialog.showModal();
  return asking;
}

class ApiError extends Error {
  constructor(status, message) {
    super(message);
    this.status = status;
  }
}

async function api(path, options = {}, retried = false) {
  const headers = Object.assign({}, options.headers || {});
  const token = sessionStorage.getItem(TOKEN_KEY);
  if (token) headers.Authorization = `Bearer ${token}`;
  if (options.body !== undefined && typeof options.body !== "string") {
    headers["Content-Type"] = "application/json";
    options = Object.assign({}, options, { body: JSON.stringify(options.body) });
  }
  const response = await fetch(path, Object.assign({}, options, { headers }));
  if (response.status === 401) {
    await askToken(token ? "That token was not accepted." : "");
    return api(path, options, true);
  }
  const text = await response.text();
  let data = null;
  try { data = text ? JSON.parse(text) : null; } catch (_) { data = text; }
  if (!response.ok) {
    throw new ApiError(response.status, (data && data.error) || `${response.status} ${response.statusText}`);
  }
  return data;
}

// --- routing and polling ----------------------------------------------------------------

let stopCurrent = () => {};

function poll(fn, ms = POLL_MS) {
  let timer = null;
  let stopped = false;
  const live = document.getElementById("live");
  async function tick() {
    try {
      const again = await fn();
      live.classList.remove("stale");
      if (again === false) return;
    } catch (err) {
      live.classList.add("stale");
      live.title = err.message;
    }
    if (!stopped) timer = setTimeout(tick, ms);
  }
  tick();
  return () => { stopped = true; clearTimeout(timer); };
}

const ROUTES = [
  [/^\/$/, () => runsView(), "runs"],
  [/^\/runs\/([^/]+)$/, (m) => runView(decodeURIComponent(m[1])), "runs"],
  [/^\/inbox$/, () => inboxView(), "inbox"],
  [/^\/health$/, () => healthView(), "health"],
  [/^\/workflows$/, () => workflowsView(), "workflows"],
  [/^\/workflows\/([^/]+)$/, (m) => workflowView(decodeURIComponent(m[1])), "workflows"],
  [/^\/events$/, () => eventsView(), "events"],
];

function route() {
  stopCurrent();
  const app = document.getElementById("app");
  fill(app);
  const path = location.pathname;
  for (const [pattern, view, nav] of ROUTES) {
    const match = path.match(pattern);
    if (match) {
      for (const a of document.querySelectorAll("nav a")) a.classList.toggle("current", a.dataset.nav === nav);
      stopCurrent = view(match) || (() => {});
      return;
    }
  }
  app.append(h("p", { class: "empty" }, "No such page. ", link("/", "See the runs.")));
}

function go(path) {
  history.pushState(null, "", path);
  route();
}

document.addEventListener("click", (event) => {
  const a = event.target.closest("a[href]");
  if (!a || a.target || event.ctrlKey || event.metaKey || event.shiftKey) return;
  const url = new URL(a.href);
  if (url.origin !== location.origin || url.pathname.startsWith("/api") || url.pathname.startsWith("/static")) return;
  event.preventDefault();
  go(url.pathname + url.search);
});
window.addEventListener("popstate", route);

function refreshInboxCount() {
  return poll(async () => {
    const data = await api("/api/inbox");
    document.getElementById("inbox-count").textContent = data.requests.length || "";
  }, 3000);
}

// --- runs -------------------------------------------------------------------------------

function runsView() {
  const app = document.getElementById("app");
  const params = new URLSearchParams(location.search);
  const workflow = params.get("workflow");
  const status = h("select", { id: "status-filter", "aria-label": "Status" },
    h("option", { value: "" }, "any status"),
    ["running", "paused", "completed", "failed", "cancelled"].map((st) =>
      h("option", { value: st, selected: params.get("status") === st }, st)));
  const body = h("tbody", { id: "runs-body" });
  const more = h("p", { class: "muted" });
  app.append(
    h("div", { class: "row" },
      h("div", { class: "grow" }, h("h1", {}, "Runs"), h("p", { class: "muted" }, "Newest first; updates every second.")),
      link("/workflows", h("button", { class: "primary" }, "Start a run"))),
    h("div", { class: "toolbar" }, status, workflow ? [h("span", {}, "workflow ", h("code", {}, workflow)), link("/", "show all")] : null),
    h("div", { class: "panel" },
      h("table", { id: "runs-table" },
        h("thead", {}, h("tr", {}, ["Run", "Workflow", "Status", "Started", "Duration", ""].map((t) => h("th", {}, t)))),
        body),
      more));
  status.addEventListener("change", () => {
    const q = new URLSearchParams();
    if (status.value) q.set("status", status.value);
    if (workflow) q.set("workflow", workflow);
    history.replaceState(null, "", q.toString() ? `/?${q}` : "/");
  });
  return poll(async () => {
    let filter = status.value ? `&status=${encodeURIComponent(status.value)}` : "";
    if (workflow) filter += `&workflow_id=${encodeURIComponent(workflow)}`;
    const data = await api(`/api/runs?limit=50${filter}`);
    fill(body, ...data.runs.map((run) =>
      h("tr", { "data-run": run.run_id },
        h("td", { class: "mono" }, link(`/runs/${encodeURIComponent(run.run_id)}`, run.run_id)),
        h("td", {}, run.workflow_name || run.workflow_id),
        h("td", {}, badge(run.status)),
        h("td", {}, when(run.created_at)),
        h("td", { class: "num" }, duration(run.duration_s)),
        h("td", { class: "error" }, run.failed_step ? `failed at ${run.failed_step}` : "", run.server_error || ""))));
    if (!data.runs.length) body.append(h("tr", {}, h("td", { colspan: 6, class: "empty" }, "No runs yet.")));
    more.textContent = data.next_offset !== null ? "Showing the 50 newest runs." : "";
  });
}

// --- one run: its graph, live ----------------------------------------------------------

function drawGraph(graph, statuses, selected, onSelect) {
  const w = graph.node_width, hgt = graph.node_height;
  const at = Object.fromEntries(graph.nodes.map((n) => [n.id, n]));
  const svg = s("svg", { class: "dag", width: graph.width, height: graph.height, viewBox: `0 0 ${graph.width} ${graph.height}`, role: "img", "aria-label": "workflow graph" });
  svg.append(s("defs", {}, s("marker", { id: "arrow", viewBox: "0 0 10 10", refX: 9, refY: 5, markerWidth: 7, markerHeight: 7, orient: "auto-start-reverse" },
    s("path", { d: "M 0 0 L 10 5 L 0 10 z", fill: "#9aa4b4" }))));
  for (const e of graph.edges) {
    const a = at[e.source], b = at[e.target];
    const x1 = a.x + w, y1 = a.y + hgt / 2, x2 = b.x - 2, y2 = b.y + hgt / 2, mid = (x1 + x2) / 2;
    svg.append(s("path", { class: "edge", d: `M ${x1} ${y1} C ${mid} ${y1}, ${mid} ${y2}, ${x2} ${y2}`, "marker-end": "url(#arrow)", "data-edge": `${e.source}->${e.target}` }));
  }
  for (const n of graph.nodes) {
    const status = statuses[n.id] || "pending";
    const label = n.id.length > 22 ? `${n.id.slice(0, 21)}…` : n.id;
    const g = s("g", { class: `node status-${status}${n.id === selected ? " selected" : ""}`, "data-step": n.id, "data-status": status, transform: `translate(${n.x},${n.y})`, tabindex: 0, role: "button", onclick: () => onSelect(n.id), onkeydown: (ev) => { if (ev.key === "Enter") onSelect(n.id); } },
      s("title", {}, `${n.id}: ${status}`),
      s("rect", { width: w, height: hgt, rx: 8 }),
      s("rect", { class: "bar", width: 6, height: hgt - 4, x: 2, y: 2, rx: 3 }),
      s("text", { x: 14, y: 19 }, label),
      s("text", { x: 14, y: 35, class: "state" }, status));
    svg.append(g);
  }
  return svg;
}

function legend() {
  return h("div", { class: "legend" }, STEP_STATES.map((st) => badge(st)));
}

function stepDetail(step) {
  if (!step) return h("p", { class: "muted" }, "Click a step to see its inputs, result, attempts and errors.");
  const attempts = step.attempt_history || [];
  return h("div", { id: "step-detail", "data-step": step.step_id },
    h("h3", {}, step.step_id, " ", badge(step.status)),
    h("dl", { class: "kv" },
      h("dt", {}, "Agent"), h("dd", {}, step.agent || "—"),
      h("dt", {}, "Attempts"), h("dd", {}, String(step.attempts || 0)),
      h("dt", {}, "Started"), h("dd", {}, when(step.started_at) || "—"),
      h("dt", {}, "Finished"), h("dd", {}, when(step.finished_at) || "—"),
      h("dt", {}, "Duration"), h("dd", {}, duration(step.duration_s) || "—"),
      step.reason ? [h("dt", {}, "Reason"), h("dd", {}, step.reason)] : null,
      step.strategy ? [h("dt", {}, "Recovery"), h("dd", {}, step.strategy)] : null),
    step.error ? [h("h3", {}, "Error"), h("pre", { class: "error" }, step.error_type && !step.error.startsWith(step.error_type) ? `${step.error_type}: ${step.error}` : step.error)] : null,
    h("h3", {}, "Inputs"), json(step.inputs),
    h("h3", {}, "Result"), json(step.result),
    attempts.length ? [h("h3", {}, "Attempts"),
      h("table", {}, h("thead", {}, h("tr", {}, ["#", "Started", "Finished", "Outcome", "Error", "Retry in"].map((t) => h("th", {}, t)))),
        h("tbody", {}, attempts.map((a) => h("tr", {},
          h("td", {}, String(a.attempt)), h("td", {}, when(a.started_at)), h("td", {}, when(a.finished_at)),
          h("td", {}, badge(a.outcome)), h("td", { class: "error" }, a.error || ""),
          h("td", {}, a.retry_delay !== null && a.retry_delay !== undefined ? duration(a.retry_delay) : "")))))] : null);
}

function requestCard(request, onDone) {
  const by = h("input", { placeholder: "your name (optional)", "aria-label": "Answered by", class: "answer-by" });
  const reason = h("input", { placeholder: "reason (required to reject)", "aria-label": "Reason", class: "answer-reason" });
  const status = h("span", { class: "muted" });
  const base = `/api/runs/${encodeURIComponent(request.run_id)}/steps/${encodeURIComponent(request.step_id)}`;
  async function answer(kind) {
    if (kind === "reject" && !reason.value.trim()) { status.textContent = "Give a reason to reject."; reason.focus(); return; }
    const body = { by: by.value.trim() || null, reason: reason.value.trim() || null };
    try {
      await api(`${base}/${kind}`, { method: "POST", body: kind === "reject" ? { reason: body.reason, by: body.by } : body });
      status.textContent = kind === "approve" ? "Approved." : "Rejected.";
      if (onDone) onDone();
    } catch (err) { status.textContent = err.message; status.className = "error"; }
  }
  return h("div", { class: "panel request", "data-request": `${request.run_id}/${request.step_id}` },
    h("div", { class: "row" },
      h("div", { class: "grow" },
        h("strong", {}, request.prompt || "Please review"),
        h("div", { class: "muted" }, "Run ", link(`/runs/${encodeURIComponent(request.run_id)}`, request.run_id), ", step ", h("code", {}, request.step_id),
          request.assignees.length ? ` · for ${request.assignees.join(", ")}` : "", ` · asked ${when(request.created_at)}`,
          request.expires_at ? ` · expires ${when(request.expires_at)}` : ""))),
    json(request.data),
    h("div", { class: "actions" }, by, reason,
      h("button", { class: "approve", onclick: () => answer("approve") }, "Approve"),
      h("button", { class: "danger", onclick: () => answer("reject") }, "Reject"),
      status));
}

function runView(runId) {
  const app = document.getElementById("app");
  const title = h("h1", {}, "Run ", h("span", { class: "mono" }, runId));
  const summary = h("div", { id: "run-summary" });
  const controls = h("div", { class: "toolbar", id: "run-controls" });
  const graphBox = h("div", { class: "dag-wrap", id: "dag" });
  const detail = h("div", { class: "panel grow", id: "step-panel" });
  const requests = h("div", { id: "run-requests" });
  const outcome = h("div", { id: "run-outcome" });
  const message = h("p", { class: "muted", id: "run-message" });
  app.append(title, summary, controls, message, requests,
    h("div", { class: "panel" }, h("h2", {}, "Graph"), graphBox, legend()),
    h("div", { class: "row" }, detail, h("div", { class: "panel grow" }, outcome)));
  let selected = null;
  let last = null;
  let shownRequests = "";

  function render() {
    const data = last;
    const run = data.run;
    const statuses = Object.fromEntries(data.steps.map((st) => [st.step_id, st.status]));
    fill(summary, h("p", {},
      badge(run.status), " ", run.workflow_name || run.workflow_id, " · started ", when(run.created_at),
      run.duration_s !== null ? ` · ${duration(run.duration_s)}` : "",
      run.active ? " · executing in this server" : ""));
    fill(controls,
      h("button", { id: "pause", disabled: run.status !== "running", onclick: () => control("pause") }, "Pause"),
      h("button", { id: "resume", disabled: run.status !== "paused" && !(run.status === "running" && !run.active), onclick: () => control("resume") }, "Resume"),
      h("button", { id: "cancel", class: "danger", disabled: run.terminal, onclick: () => control("cancel") }, "Cancel"));
    const graph = data.workflow ? data.workflow.graph : null;
    if (graph) fill(graphBox, drawGraph(graph, statuses, selected, (id) => { selected = id; render(); }));
    else fill(graphBox, h("p", { class: "muted" }, "The workflow's definition is not available; steps are listed below."));
    const step = data.steps.find((st) => st.step_id === selected);
    fill(detail, h("h2", {}, "Step"), stepDetail(step));
    const pending = data.requests.filter((r) => r.status === "pending");
    const key = pending.map((r) => r.step_id).join(",");
    if (key !== shownRequests) {  // keep typed answers while polling
      shownRequests = key;
      fill(requests, ...pending.map((r) => requestCard(r, refresh)));
    }
    fill(outcome,
      h("h2", {}, "Inputs"), json(run.inputs),
      run.output !== null ? [h("h2", {}, "Output"), json(run.output)] : null,
      run.error ? [h("h2", {}, "Error"), h("pre", { class: "error" }, run.error)] : null,
      run.server_error ? [h("h2", {}, "Server"), h("pre", { class: "error" }, run.server_error)] : null,
      graph ? null : [h("h2", {}, "Steps"), h("ul", {}, data.steps.map((st) => h("li", {}, st.step_id, " ", badge(st.status))))]);
  }

  async function control(action) {
    try {
      const result = await api(`/api/runs/${encodeURIComponent(runId)}/${action}`, { method: "POST" });
      message.textContent = result.message;
      message.className = "muted";
    } catch (err) { message.textContent = err.message; message.className = "error"; }
    refresh();
  }

  async function load() {
    last = await api(`/api/runs/${encodeURIComponent(runId)}`);
    render();
  }
  function refresh() { load().catch((err) => { message.textContent = err.message; message.className = "error"; }); }

  return poll(async () => {
    try { await load(); } catch (err) {
      if (err.status === 404) { fill(summary, h("p", { class: "error" }, err.message)); return false; }
      throw err;
    }
    return true;
  });
}

// --- inbox ------------------------------------------------------------------------------

function inboxView() {
  const app = document.getElementById("app");
  const list = h("div", { id: "inbox-list" });
  app.append(h("h1", {}, "Inbox"), h("p", { class: "muted" }, "Requests waiting for a person. An answer continues the run at once."), list);
  let shown = "";
  function load() {
    return api("/api/inbox").then((data) => {
      const key = data.requests.map((r) => `${r.run_id}/${r.step_id}`).join(",");
      if (key === shown) return;
      shown = key;
      fill(list, ...data.requests.map((r) => requestCard(r, load)));
      if (!data.requests.length) list.append(h("p", { class: "empty" }, "Nothing is waiting for you."));
    });
  }
  return poll(load, POLL_MS);
}

// --- health -----------------------------------------------------------------------------

function rateBar(rate) {
  const fill = h("i");
  fill.style.width = percent(rate);  // CSSOM, which the page's CSP allows (inline style= it does not)
  return h("span", { class: "rate" }, fill);
}

function healthView() {
  const app = document.getElementById("app");
  const box = h("div", { id: "health" });
  app.append(h("h1", {}, "Health"), h("p", { class: "muted" }, "Finished runs in the store: success rates, durations and failures."), box);
  return poll(async () => {
    const r = await api("/api/stats");
    const card = (label, value) => h("div", { class: "card" }, h("div", { class: "value" }, value), h("div", { class: "label" }, label));
    const d = r.duration_s || {};
    const rows = Object.entries(r.workflows).map(([id, t]) => h("tr", { "data-workflow": id },
      h("td", {}, link(`/?workflow=${encodeURIComponent(id)}`, id)),
      h("td", { class: "num" }, String(t.executions)),
      h("td", {}, rateBar(t.success_rate), percent(t.success_rate)),
      h("td", { class: "num" }, String(t.failures)),
      h("td", { class: "num" }, duration(t.duration_s.mean)),
      h("td", { class: "num" }, duration(t.duration_s.p50)),
      h("td", { class: "num" }, duration(t.duration_s.p95)),
      h("td", {}, t.most_common_errors.map((e) => `${e.error_type} ×${e.count}`).join(", "))));
    const unhandled = Object.entries(r.events.by_type).filter(([, c]) => c.unhandled);
    fill(box,
      h("div", { class: "cards" },
        card("runs finished", String(r.total_executions)),
        card("success rate", percent(r.success_rate)),
        card("failures", String(r.failures)),
        card("mean duration", duration(d.mean) || "—"),
        card("p95 duration", duration(d.p95) || "—"),
        card("running here", String(r.active_runs)),
        card("events unhandled", String(r.events.unhandled))),
      h("div", { class: "panel" }, h("h2", {}, "Per workflow"),
        h("table", { id: "health-workflows" },
          h("thead", {}, h("tr", {}, ["Workflow", "Runs", "Success rate", "Failures", "Mean", "p50", "p95", "Common errors"].map((t) => h("th", {}, t)))),
          h("tbody", {}, rows.length ? rows : h("tr", {}, h("td", { colspan: 8, class: "empty" }, "No finished runs yet."))))),
      r.most_common_failures.length ? h("div", { class: "panel" }, h("h2", {}, "Most common failing steps"),
        h("ul", {}, r.most_common_failures.map(([step, n]) => h("li", {}, h("code", {}, step), ` ×${n}`)))) : null,
      unhandled.length ? h("div", { class: "panel" }, h("h2", {}, "Events with no handler"),
        h("ul", {}, unhandled.map(([type, c]) => h("li", {}, h("code", {}, type), ` ×${c.unhandled}`)))) : null);
  }, 5000);
}

// --- workflows and the start form ------------------------------------------------------

function workflowsView() {
  const app = document.getElementById("app");
  const list = h("div", { id: "workflow-list" });
  app.append(h("h1", {}, "Workflows"), list);
  api("/api/workflows").then((data) => {
    list.append(h("div", { class: "panel" }, h("table", {},
      h("thead", {}, h("tr", {}, ["Workflow", "Description", "Steps", "Triggers"].map((t) => h("th", {}, t)))),
      h("tbody", {}, data.workflows.map((w) => h("tr", { "data-workflow": w.workflow_id },
        h("td", {}, link(`/workflows/${encodeURIComponent(w.workflow_id)}`, w.name), h("div", { class: "muted mono" }, w.workflow_id)),
        h("td", {}, w.description),
        h("td", { class: "num" }, String(w.steps)),
        h("td", {}, w.triggers.map((t) => t.event ? `event ${t.event}` : `cron ${t.cron}`).join(", ")))),
        data.workflows.length ? null : h("tr", {}, h("td", { colspan: 4, class: "empty" }, "No workflows in the served folder."))))));
    if (data.problems.length) {
      list.append(h("div", { class: "panel" }, h("h2", {}, "Files that could not be served"),
        data.problems.map((p) => [h("div", { class: "mono" }, p.file), h("pre", { class: "error" }, p.error)])));
    }
  }).catch((err) => list.append(h("p", { class: "error" }, err.message)));
}

function inputField(spec) {
  const id = `input-${spec.name}`;
  const hint = [spec.type, spec.required ? "required" : "optional", spec.description].filter(Boolean).join(" · ");
  let control;
  const given = spec.default;
  if (spec.type === "boolean") {
    control = h("input", { type: "checkbox", id, name: spec.name, checked: given === true });
  } else if (spec.type === "integer" || spec.type === "number") {
    control = h("input", { type: "number", id, name: spec.name, step: spec.type === "integer" ? "1" : "any", required: spec.required, value: given ?? null });
  } else if (spec.type === "string") {
    control = h("input", { type: "text", id, name: spec.name, required: spec.required, value: given ?? null, size: 50 });
  } else {
    control = h("textarea", { id, name: spec.name, required: spec.required, placeholder: "JSON" }, given === null || given === undefined ? "" : JSON.stringify(given, null, 2));
  }
  control.dataset.type = spec.type;
  return h("label", { class: "field", for: id }, h("span", {}, spec.name), control, h("small", {}, hint));
}

function readInputs(form, specs) {
  const inputs = {};
  for (const spec of specs) {
    const el = form.elements[spec.name];
    if (spec.type === "boolean") { inputs[spec.name] = el.checked; continue; }
    const raw = el.value;
    if (raw === "" && !spec.required) continue;
    if (spec.type === "integer") inputs[spec.name] = raw === "" ? raw : Number.parseInt(raw, 10);
    else if (spec.type === "number") inputs[spec.name] = raw === "" ? raw : Number(raw);
    else if (spec.type === "string") inputs[spec.name] = raw;
    else {
      try { inputs[spec.name] = JSON.parse(raw); } catch (_) {
        if (spec.type === "any") inputs[spec.name] = raw;
        else throw new Error(`${spec.name}: not valid JSON`);
      }
    }
  }
  return inputs;
}

function workflowView(workflowId) {
  const app = document.getElementById("app");
  api(`/api/workflows/${encodeURIComponent(workflowId)}`).then((w) => {
    const error = h("p", { class: "error", id: "start-error" });
    const form = h("form", { id: "start-form" },
      w.inputs.length ? w.inputs.map(inputField) : h("p", { class: "muted" }, "This workflow declares no inputs."),
      h("button", { type: "submit", class: "primary", id: "start-run" }, "Start run"), error);
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      try {
        const inputs = readInputs(form, w.inputs);
        const started = await api(`/api/workflows/${encodeURIComponent(workflowId)}/runs`, { method: "POST", body: { inputs } });
        go(`/runs/${encodeURIComponent(started.run_id)}`);
      } catch (err) { error.textContent = err.message; }
    });
    app.append(
      h("h1", {}, w.name), h("p", { class: "muted" }, w.description, " · ", h("code", {}, w.workflow_id)),
      h("div", { class: "row" },
        h("div", { class: "panel grow" }, h("h2", {}, "Start a run"), form),
        h("div", { class: "panel grow" }, h("h2", {}, "Triggers"),
          w.triggers.length ? h("ul", {}, w.triggers.map((t) => h("li", {}, t.event ? `event ${t.event}` : `cron ${t.cron}`,
            t.filter ? [" if ", h("code", {}, t.filter)] : null))) : h("p", { class: "muted" }, "None: started by hand or through the API."))),
      h("div", { class: "panel" }, h("h2", {}, "Graph"), h("div", { class: "dag-wrap" }, drawGraph(w.graph, {}, null, () => {}))));
  }).catch((err) => app.append(h("p", { class: "error" }, err.message)));
}

// --- events -----------------------------------------------------------------------------

function eventsView() {
  const app = document.getElementById("app");
  const body = h("tbody", { id: "events-body" });
  const type = h("input", { name: "type", placeholder: "type, e.g. customer_signup", required: true, "aria-label": "Event type" });
  const data = h("textarea", { name: "data", placeholder: "data as JSON, e.g. {\"customer_id\": \"C-1\"}", "aria-label": "Event data" });
  const result = h("p", { class: "muted" });
  const form = h("form", { id: "event-form" }, h("div", { class: "toolbar" }, type, h("button", { type: "submit", class: "primary" }, "Post event")), data, result);
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    try {
      const payload = { type: type.value.trim(), data: data.value.trim() ? JSON.parse(data.value) : null };
      const r = await api("/events", { method: "POST", body: payload });
      result.textContent = `${r.status}: ${r.run_ids.length} run(s) started${r.warning ? " · " + r.warning : ""}`;
    } catch (err) { result.textContent = err.message; }
  });
  app.append(h("h1", {}, "Events"), h("div", { class: "panel" }, h("h2", {}, "Post an event"), form),
    h("div", { class: "panel" }, h("table", {}, h("thead", {}, h("tr", {}, ["Event", "Type", "Status", "Received", "Runs"].map((t) => h("th", {}, t)))), body)));
  return poll(async () => {
    const r = await api("/api/events?limit=50");
    fill(body, ...r.events.map((e) => h("tr", { "data-event": e.id },
      h("td", { class: "mono" }, e.id), h("td", {}, e.type), h("td", {}, badge(e.status)), h("td", {}, when(e.received_at)),
      h("td", {}, e.run_ids.map((id) => [link(`/runs/${encodeURIComponent(id)}`, id), " "]), e.errors.length ? h("div", { class: "error" }, e.errors.join("; ")) : null))));
    if (!r.events.length) body.append(h("tr", {}, h("td", { colspan: 5, class: "empty" }, "No events yet.")));
  }, 2000);
}

// --- start ------------------------------------------------------------------------------

document.addEventListener("DOMContentLoaded", () => {
  route();
  refreshInboxCount();
});
