// The Lambic console: plain DOM, no framework, no network beyond this origin.
"use strict";

const API = "/_lambic/api/";
const state = { overview: null, selected: null, invocation: null, logsAfter: 0 };
const $ = (id) => document.getElementById(id);

async function api(path, options = {}) {
  const init = { ...options, headers: { ...(options.headers || {}) } };
  if (init.method && init.method !== "GET") init.headers["X-Lambic-Console"] = "1";
  const response = await fetch(API + path, init);
  const data = await response.json();
  if (!response.ok) throw new Error(data.message || response.statusText);
  return data;
}

function cell(row, text, className) {
  const td = document.createElement("td");
  td.textContent = text === null || text === undefined ? "–" : String(text);
  if (className) td.className = className;
  row.appendChild(td);
  return td;
}

const ms = (value) => (value === null || value === undefined ? "–" : `${Number(value).toFixed(1)} ms`);
const clock = (epochMs) => new Date(epochMs).toLocaleTimeString();
const pretty = (value) => (typeof value === "string" ? value : JSON.stringify(value, null, 2));

// ---------------------------------------------------------------- tabs

function showTab(name) {
  for (const tab of document.querySelectorAll("nav [role=tab]")) {
    const on = tab.getAttribute("aria-controls") === name;
    tab.setAttribute("aria-selected", String(on));
    tab.tabIndex = on ? 0 : -1;
    $(tab.getAttribute("aria-controls")).hidden = !on;
  }
  if (location.hash !== `#${name}`) history.replaceState(null, "", `#${name}`);
  if (name === "logs") loadLogs(true);
}

function setupTabs() {
  const tabs = [...document.querySelectorAll("nav [role=tab]")];
  tabs.forEach((tab, index) => {
    tab.addEventListener("click", () => showTab(tab.getAttribute("aria-controls")));
    tab.addEventListener("keydown", (event) => {
      const step = { ArrowRight: 1, ArrowLeft: -1 }[event.key];
      if (!step) return;
      const next = tabs[(index + step + tabs.length) % tabs.length];
      next.focus();
      showTab(next.getAttribute("aria-controls"));
    });
  });
  const initial = location.hash.slice(1);
  showTab(tabs.some((t) => t.getAttribute("aria-controls") === initial) ? initial : "overview");
}

// ---------------------------------------------------------------- overview

async function loadOverview() {
  const data = await api("overview");
  state.overview = data;
  $("app-name").textContent = `${data.app} · stage ${data.stage}`;
  const body = $("overview-functions").tBodies[0];
  body.replaceChildren();
  for (const f of data.functions) {
    const row = body.insertRow();
    row.dataset.function = f.name;
    row.tabIndex = 0;
    row.addEventListener("click", () => openFunction(f.name));
    row.addEventListener("keydown", (e) => { if (e.key === "Enter") openFunction(f.name); });
    cell(row, f.name);
    cell(row, f.kind);
    cell(row, f.stats.invocations, "num invocations");
    cell(row, f.stats.errors, "num errors");
    cell(row, f.stats.cold_starts, "num");
    cell(row, ms(f.stats.p50_ms), "num");
    cell(row, ms(f.stats.p99_ms), "num");
    cell(row, f.stats.max_memory_mb ? `${f.stats.max_memory_mb} MB` : "–", "num");
    cell(row, `${f.environments.warm} warm / ${f.environments.total}`, "num");
  }
  const routes = $("overview-routes");
  routes.replaceChildren(...data.routes.map((r) => {
    const li = document.createElement("li");
    li.textContent = `${r.methods.join(",").padEnd(14)} ${r.path}`;
    return li;
  }));
  fillFunctionSelects(data.functions);
  renderSchedules(data);
  if (state.selected) renderSettings(state.selected);
}

function fillFunctionSelects(functions) {
  for (const id of ["function-select", "logs-function"]) {
    const select = $(id);
    const current = select.value;
    const keep = id === "logs-function" ? [select.options[0]] : [];
    select.replaceChildren(...keep, ...functions.map((f) => new Option(f.name, f.name)));
    if (current) select.value = current;
  }
  if (!state.selected && functions.length) state.selected = functions[0].name;
  $("function-select").value = state.selected || "";
}

// ---------------------------------------------------------------- functions

function functionInfo(name) {
  return state.overview ? state.overview.functions.find((f) => f.name === name) : null;
}

function renderSettings(name) {
  const f = functionInfo(name);
  const list = $("function-settings");
  list.replaceChildren();
  if (!f) return;
  const rows = [
    ["Deployed name", f.deployed_name], ["Handler", f.handler], ["Trigger", f.kind],
    ["Memory", `${f.memory_size} MB`], ["Timeout", `${f.timeout} s`], ["Runtime", f.runtime],
    ["Environments", `${f.environments.warm} warm of ${f.environments.total}`],
    ["Environment variables", f.environment.join(", ") || "–"],
    ["Invocations", `${f.stats.invocations} (${f.stats.errors} errors, ${f.stats.cold_starts} cold)`],
  ];
  for (const [term, value] of rows) {
    const dt = document.createElement("dt");
    dt.textContent = term;
    const dd = document.createElement("dd");
    dd.textContent = value;
    list.append(dt, dd);
  }
}

async function openFunction(name) {
  state.selected = name;
  $("function-select").value = name;
  showTab("functions");
  renderSettings(name);
  $("invocation").hidden = true;
  await Promise.all([loadInvocations(), loadSample()]);
}

async function loadSample() {
  if (!state.selected) return;
  const data = await api(`functions/${encodeURIComponent(state.selected)}/sample`);
  $("invoke-event").value = JSON.stringify(data.event, null, 2);
}

async function loadInvocations() {
  if (!state.selected) return;
  const data = await api(`functions/${encodeURIComponent(state.selected)}/invocations`);
  const body = $("invocations").tBodies[0];
  body.replaceChildren();
  for (const inv of data.invocations) addInvocationRow(inv, false);
}

function addInvocationRow(inv, first) {
  const body = $("invocations").tBodies[0];
  const row = body.insertRow(first ? 0 : -1);
  row.tabIndex = 0;
  row.dataset.requestId = inv.request_id;
  if (inv.status !== "ok") row.className = "error";
  const open = () => openInvocation(inv.request_id);
  row.addEventListener("click", open);
  row.addEventListener("keydown", (e) => { if (e.key === "Enter") open(); });
  cell(row, clock(inv.timestamp_ms));
  cell(row, inv.request_id);
  cell(row, inv.status);
  cell(row, ms(inv.duration_ms), "num");
  cell(row, inv.cold_start ? "cold" : "warm");
  cell(row, `${inv.max_memory_mb} / ${inv.memory_size_mb} MB`, "num");
}

async function openInvocation(requestId) {
  const name = state.selected;
  const data = await api(`invocations/${encodeURIComponent(requestId)}?function=${encodeURIComponent(name)}`);
  state.invocation = requestId;
  $("invocation").hidden = false;
  $("invocation-id").textContent = requestId;
  const gone = "(not kept: the console keeps the events of the newest 50 invocations per function)";
  $("invocation-event").textContent = data.kept ? pretty(data.event) : gone;
  $("invocation-response").textContent = data.kept ? pretty(data.response) : gone;
  $("invocation-logs").textContent = data.logs.map((l) => l.message.replace(/\n$/, "")).join("\n");
  $("replay-button").disabled = !data.kept || data.truncated;
  $("invocation").scrollIntoView({ block: "nearest" });
}

async function invoke(path, body) {
  const out = $("invoke-result");
  out.textContent = "running…";
  try {
    const result = await api(path, { method: "POST", body });
    out.textContent = `${result.status} in ${ms(result.duration_ms)} (${result.cold_start ? "cold" : "warm"}) · ${result.request_id}\n${pretty(result.response)}`;
  } catch (error) {
    out.textContent = `Error: ${error.message}`;
  }
}

// ---------------------------------------------------------------- logs

async function loadLogs(reset) {
  const params = new URLSearchParams();
  for (const [key, id] of [["function", "logs-function"], ["level", "logs-level"], ["text", "logs-text"]]) {
    if ($(id).value) params.set(key, $(id).value);
  }
  if (!reset && state.logsAfter) params.set("after", state.logsAfter);
  const data = await api(`logs?${params}`);
  const pre = $("logs-lines");
  if (reset) pre.textContent = "";
  appendLogs(data.logs);
}

function appendLogs(rows) {
  if (!rows.length) return;
  const pre = $("logs-lines");
  const atBottom = pre.scrollTop + pre.clientHeight >= pre.scrollHeight - 4;
  const text = rows.map((r) => `${clock(r.timestamp_ms)} [${r.log_group.split("/").pop()}] ${r.message.replace(/\n$/, "")}`).join("\n");
  pre.textContent += (pre.textContent ? "\n" : "") + text;
  state.logsAfter = Math.max(state.logsAfter, ...rows.map((r) => r.id));
  if (atBottom) pre.scrollTop = pre.scrollHeight;
}

function logMatches(row) {
  const f = $("logs-function").value;
  if (f) {
    const info = functionInfo(f);
    if (!info || row.log_group !== `/aws/lambda/${info.deployed_name}`) return false;
  }
  const text = $("logs-text").value.toLowerCase();
  if (text && !row.message.toLowerCase().includes(text)) return false;
  const level = $("logs-level").value;
  if (level === "error") return /\[ERROR\]| ERROR |ERROR:|Traceback|Task timed out/.test(row.message);
  if (level === "warning") return /\[(ERROR|WARNING)\]| (ERROR|WARNING) |(ERROR|WARNING):|Traceback|Task timed out/.test(row.message);
  return true;
}

// ---------------------------------------------------------------- schedules

function renderSchedules(data) {
  const body = $("schedules-table").tBodies[0];
  body.replaceChildren();
  for (const s of data.schedules) {
    const row = body.insertRow();
    row.dataset.function = s.function;
    cell(row, s.function);
    cell(row, s.expression);
    cell(row, s.next ? new Date(s.next).toLocaleTimeString() : "never");
    const f = functionInfo(s.function);
    cell(row, f && f.stats.last_ms ? `${clock(f.stats.last_ms)} · ${f.stats.invocations} runs, ${f.stats.errors} errors` : "not run yet", "last");
    const td = cell(row, "");
    const button = document.createElement("button");
    button.textContent = "Fire now";
    button.addEventListener("click", async () => {
      button.disabled = true;
      try {
        const result = await api(`schedules/${encodeURIComponent(s.function)}/fire`, { method: "POST" });
        button.textContent = `Fired · ${result.request_id.slice(0, 8)}`;
      } catch (error) {
        button.textContent = `Error: ${error.message}`;
      } finally {
        setTimeout(() => { button.disabled = false; button.textContent = "Fire now"; }, 1500);
      }
    });
    td.appendChild(button);
  }
}

// ---------------------------------------------------------------- live feed

let refreshTimer = null;
function refreshSoon() {
  if (refreshTimer) return;
  refreshTimer = setTimeout(() => { refreshTimer = null; loadOverview().catch(() => {}); }, 300);
}

function connectLive() {
  const live = $("live");
  const source = new EventSource(API + "live");
  source.onopen = () => { live.textContent = "live"; live.classList.add("on"); };
  source.onerror = () => { live.textContent = "reconnecting…"; live.classList.remove("on"); };
  source.addEventListener("invocation", (event) => {
    const inv = JSON.parse(event.data);
    refreshSoon();
    if (inv.function === state.selected) addInvocationRow(inv, true);
  });
  source.addEventListener("log", (event) => {
    const row = JSON.parse(event.data);
    if (row.id > state.logsAfter && logMatches(row)) appendLogs([row]);
  });
}

// ---------------------------------------------------------------- start

document.addEventListener("DOMContentLoaded", async () => {
  setupTabs();
  $("function-select").addEventListener("change", (e) => openFunction(e.target.value));
  $("sample-button").addEventListener("click", loadSample);
  $("invoke-button").addEventListener("click", () =>
    invoke(`functions/${encodeURIComponent(state.selected)}/invoke`, $("invoke-event").value));
  $("replay-button").addEventListener("click", () =>
    invoke(`invocations/${encodeURIComponent(state.invocation)}/replay`, "{}"));
  for (const id of ["logs-function", "logs-level"]) $(id).addEventListener("change", () => loadLogs(true));
  $("logs-text").addEventListener("input", () => loadLogs(true));
  await loadOverview();
  if (state.selected) { loadInvocations(); loadSample(); }
  connectLive();
  setInterval(() => loadOverview().catch(() => {}), 15000);
});
