// The Lambic console: plain DOM, no framework, no network beyond this origin.
"use strict";

const API = "/_lambic/api/";
const state = { overview: null, selected: null, invocation: null, logsAfter: 0, logsQuery: 0 };
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
  const loaders = { s3: loadBuckets, dynamodb: loadTables, sqs: loadQueues, publish: loadTopics, cost: loadCost };
  if (loaders[name]) loaders[name]().catch((error) => say(name === "publish" ? "publish" : name === "dynamodb" ? "ddb" : name, error.message));
}

function say(panel, text) {
  const status = $(`${panel}-status`);
  if (status) status.textContent = text;
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
    cell(row, trigger(f));
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
  loadResources().catch(() => {});
  if (state.selected) renderSettings(state.selected);
}

function trigger(f) {
  const s = f.event_source || {};
  const named = s.schedule_expression || s.bucket || s.queue || s.topic || s.stream_arn || "";
  return named ? `${f.kind}: ${String(named).split(":").pop()}` : f.kind;
}

async function loadResources() {
  const [buckets, tables, queues, topics] = await Promise.all([
    api("s3/buckets").catch(() => ({ buckets: [] })),
    api("dynamodb/tables").catch(() => ({ tables: [] })),
    api("sqs/queues").catch(() => ({ queues: [] })),
    api("sns/topics").catch(() => ({ topics: [] })),
  ]);
  const lines = [
    ...buckets.buckets.map((b) => `S3 bucket       ${b}`),
    ...tables.tables.map((t) => `DynamoDB table  ${t.name} (${t.items} items${t.stream ? ", stream" : ""})`),
    ...queues.queues.map((q) => `SQS queue       ${q.name} (${q.visible} visible)`),
    ...topics.topics.map((t) => `SNS topic       ${t.split(":").pop()}`),
  ];
  $("overview-resources").replaceChildren(...lines.map((line) => {
    const li = document.createElement("li");
    li.textContent = line;
    return li;
  }));
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

async function loadInvocations(older) {
  if (!state.selected) return;
  const page = older && state.before ? `?before=${state.before}` : "";
  const data = await api(`functions/${encodeURIComponent(state.selected)}/invocations${page}`);
  if (data.function !== state.selected) return;  // another function was chosen meanwhile
  const body = $("invocations").tBodies[0];
  if (!older) body.replaceChildren();
  for (const inv of data.invocations) addInvocationRow(inv, false, data.function);
  state.before = data.before;
  $("invocations-more").hidden = !data.before;
}

function addInvocationRow(inv, first, name) {
  const body = $("invocations").tBodies[0];
  const row = body.insertRow(first ? 0 : -1);
  row.tabIndex = 0;
  row.dataset.requestId = inv.request_id;
  row.dataset.function = name;
  if (inv.status !== "ok") row.className = "error";
  const open = () => openInvocation(inv.request_id, name);
  row.addEventListener("click", open);
  row.addEventListener("keydown", (e) => { if (e.key === "Enter") open(); });
  cell(row, clock(inv.timestamp_ms));
  cell(row, inv.request_id);
  cell(row, inv.status);
  cell(row, ms(inv.duration_ms), "num");
  cell(row, inv.cold_start ? "cold" : "warm");
  cell(row, `${inv.max_memory_mb} / ${inv.memory_size_mb} MB`, "num");
}

async function openInvocation(requestId, name) {
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
  const asked = ++state.logsQuery;  // typing sends a query per key: show only the last
  const data = await api(`logs?${params}`);
  if (asked !== state.logsQuery) return;
  const pre = $("logs-lines");
  if (reset) { pre.textContent = ""; state.logsAfter = 0; }
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

// ---------------------------------------------------------------- S3

const q = (params) => new URLSearchParams(params).toString();

async function loadBuckets() {
  const data = await api("s3/buckets");
  const select = $("s3-bucket");
  const current = select.value;
  select.replaceChildren(...data.buckets.map((b) => new Option(b, b)));
  if (current && data.buckets.includes(current)) select.value = current;
  await loadObjects();
}

async function loadObjects() {
  const bucket = $("s3-bucket").value;
  const body = $("s3-objects").tBodies[0];
  body.replaceChildren();
  if (!bucket) { say("s3", "No buckets yet."); return; }
  const data = await api(`s3/objects?${q({ bucket, prefix: $("s3-prefix").value })}`);
  for (const folder of data.folders) {
    const row = body.insertRow();
    row.tabIndex = 0;
    row.dataset.key = folder;
    const open = () => { $("s3-prefix").value = folder; loadObjects(); };
    row.addEventListener("click", open);
    row.addEventListener("keydown", (e) => { if (e.key === "Enter") open(); });
    cell(row, folder); cell(row, ""); cell(row, ""); cell(row, "");
  }
  for (const object of data.objects) {
    const row = body.insertRow();
    row.tabIndex = 0;
    row.dataset.key = object.key;
    const open = () => previewObject(object.key);
    row.addEventListener("click", open);
    row.addEventListener("keydown", (e) => { if (e.key === "Enter") open(); });
    cell(row, object.key); cell(row, object.size, "num"); cell(row, object.modified); cell(row, "");
  }
  say("s3", `${data.objects.length} objects, ${data.folders.length} folders under "${data.prefix}"`);
}

async function previewObject(key) {
  const bucket = $("s3-bucket").value;
  const data = await api(`s3/preview?${q({ bucket, key })}`);
  $("s3-preview").hidden = false;
  $("s3-preview-key").textContent = key;
  $("s3-download").href = `${API}s3/download?${q({ bucket, key })}`;
  const image = $("s3-preview-image");
  image.hidden = !data.image;
  if (data.image) image.src = data.image;
  $("s3-preview-text").textContent = data.image ? "" : data.text === null ? `(binary, ${data.size} bytes: download it)` : data.text + (data.truncated ? "\n…" : "");
  $("s3-delete").onclick = async () => {
    if (!confirm(`Delete ${key}?`)) return;
    await api(`s3/object?${q({ bucket, key })}`, { method: "DELETE" });
    $("s3-preview").hidden = true;
    await loadObjects();
    say("s3", `Deleted ${key}`);
  };
}

async function uploadFile() {
  const file = $("s3-file").files[0];
  const bucket = $("s3-bucket").value;
  if (!file || !bucket) return;
  const key = $("s3-prefix").value + file.name;
  await api(`s3/object?${q({ bucket, key })}`, {
    method: "PUT", body: file, headers: { "Content-Type": file.type || "application/octet-stream" },
  });
  $("s3-file").value = "";
  await loadObjects();
  say("s3", `Uploaded ${key}`);
}

// ---------------------------------------------------------------- DynamoDB

const ddb = { tables: [], next: null, key: null };

async function loadTables() {
  const data = await api("dynamodb/tables");
  ddb.tables = data.tables;
  const select = $("ddb-table");
  const current = select.value;
  select.replaceChildren(...data.tables.map((t) => new Option(`${t.name} (${t.items} items)`, t.name)));
  if (current) select.value = current;
  await loadItems(false);
}

function keyOf(item) {
  const table = ddb.tables.find((t) => t.name === $("ddb-table").value);
  const key = {};
  for (const part of table ? table.keys : []) key[part.AttributeName] = item[part.AttributeName];
  return key;
}

async function loadItems(more) {
  const table = $("ddb-table").value;
  const body = $("ddb-items").tBodies[0];
  if (!more) body.replaceChildren();
  if (!table) { say("ddb", "No tables yet."); return; }
  const params = { table };
  if ($("ddb-partition").value) params.partition = $("ddb-partition").value;
  if (more && ddb.next) params.start = JSON.stringify(ddb.next);
  const data = await api(`dynamodb/items?${q(params)}`);
  ddb.next = data.next;
  $("ddb-more").hidden = !data.next;
  for (const item of data.items) {
    const row = body.insertRow();
    row.tabIndex = 0;
    const key = keyOf(item);
    row.dataset.key = JSON.stringify(key);
    const open = () => editItem(item);
    row.addEventListener("click", open);
    row.addEventListener("keydown", (e) => { if (e.key === "Enter") open(); });
    cell(row, JSON.stringify(key));
    cell(row, JSON.stringify(item));
  }
  say("ddb", `${body.rows.length} items shown`);
}

function editItem(item) {
  $("ddb-editor").hidden = false;
  $("ddb-item").value = JSON.stringify(item, null, 2);
  $("ddb-delete").disabled = !item || !Object.keys(item).length;
  $("ddb-item").focus();
}

async function saveItem() {
  const table = $("ddb-table").value;
  try {
    await api(`dynamodb/item?${q({ table })}`, { method: "PUT", body: $("ddb-item").value });
    await loadItems(false);
    say("ddb", "Saved");
  } catch (error) { say("ddb", `Error: ${error.message}`); }
}

async function deleteItem() {
  const table = $("ddb-table").value;
  let item;
  try { item = JSON.parse($("ddb-item").value); } catch (error) { say("ddb", `Error: ${error.message}`); return; }
  if (!confirm("Delete this item?")) return;
  await api(`dynamodb/item?${q({ table })}`, { method: "DELETE", body: JSON.stringify(keyOf(item)) });
  $("ddb-editor").hidden = true;
  await loadItems(false);
  say("ddb", "Deleted");
}

// ---------------------------------------------------------------- SQS

async function loadQueues() {
  const data = await api("sqs/queues");
  const body = $("sqs-queues").tBodies[0];
  body.replaceChildren();
  for (const queue of data.queues) {
    const row = body.insertRow();
    row.dataset.queue = queue.name;
    cell(row, queue.name);
    cell(row, queue.visible, "num visible");
    cell(row, queue.in_flight, "num");
    cell(row, queue.delayed, "num");
    cell(row, queue.dead_letter_for.join(", ") || "–");
    const actions = cell(row, "");
    const add = (label, handler, className) => {
      const button = document.createElement("button");
      button.textContent = label;
      if (className) button.className = className;
      button.addEventListener("click", handler);
      actions.appendChild(button);
    };
    add("Peek", () => peekQueue(queue.name), "secondary");
    if (queue.dead_letter_for.length) {
      add("Redrive", async () => {
        await api(`sqs/redrive?${q({ queue: queue.name })}`, { method: "POST" });
        say("sqs", `Moved ${queue.name}'s messages back to ${queue.dead_letter_for.join(", ")}`);
        loadQueues();
      });
    }
    add("Purge", async () => {
      if (!confirm(`Delete every message in ${queue.name}?`)) return;
      await api(`sqs/purge?${q({ queue: queue.name })}`, { method: "POST" });
      say("sqs", `Purged ${queue.name}`);
      loadQueues();
    }, "secondary");
  }
  if (!data.queues.length) say("sqs", "No queues yet.");
}

async function peekQueue(name) {
  const data = await api(`sqs/peek?${q({ queue: name })}`);
  $("sqs-detail").hidden = false;
  $("sqs-name").textContent = name;
  $("sqs-messages").textContent = data.messages.length
    ? data.messages.map((m) => `${m.message_id} (received ${m.receive_count}×)\n${m.body}`).join("\n\n")
    : "(no visible messages)";
  $("sqs-send").onclick = async () => {
    await api(`sqs/send?${q({ queue: name })}`, { method: "POST", body: JSON.stringify({ body: $("sqs-body").value }) });
    $("sqs-body").value = "";
    say("sqs", `Sent to ${name}`);
    loadQueues();
    peekQueue(name);
  };
}

// ---------------------------------------------------------------- SNS, EventBridge

async function loadTopics() {
  const data = await api("sns/topics");
  $("sns-topic").replaceChildren(...data.topics.map((t) => new Option(t.split(":").pop(), t)));
}

async function publish() {
  try {
    const topic = $("sns-topic").value;
    const result = await api(`sns/publish?${q({ topic })}`, {
      method: "POST", body: JSON.stringify({ message: $("sns-message").value, subject: $("sns-subject").value }),
    });
    say("publish", `Published ${result.message_id}`);
  } catch (error) { say("publish", `Error: ${error.message}`); }
}

async function putEvent() {
  try {
    const detail = JSON.parse($("eb-detail").value || "{}");
    const result = await api("events/put", {
      method: "POST", body: JSON.stringify({ source: $("eb-source").value, detail_type: $("eb-detail-type").value, detail }),
    });
    say("publish", result.failed ? `Failed: ${JSON.stringify(result.entries)}` : `Put ${result.entries[0].EventId}`);
  } catch (error) { say("publish", `Error: ${error.message}`); }
}

// ---------------------------------------------------------------- cost

function money(value) {
  if (value === 0) return "$0";
  if (value < 0.000001) return "<$0.000001";
  if (value < 0.01) return `$${Number(value.toPrecision(3))}`;
  return `$${value.toFixed(2)}`;
}

function bars(id, totals) {
  const entries = Object.entries(totals);
  const top = Math.max(...entries.map(([, t]) => t.monthly_billed), 0);
  $(id).replaceChildren(...entries.map(([name, t]) => {
    const row = document.createElement("div");
    row.className = "bar";
    row.dataset.name = name;
    const label = document.createElement("span");
    label.textContent = name;
    const track = document.createElement("span");
    const fill = document.createElement("span");
    fill.className = "fill";
    fill.style.display = "block";
    fill.style.width = top > 0 ? `${(100 * t.monthly_billed) / top}%` : "0";
    track.appendChild(fill);
    const value = document.createElement("span");
    value.className = "value";
    value.textContent = money(t.monthly_billed);
    row.append(label, track, value);
    return row;
  }));
}

async function loadCost() {
  $("cost-totals").dataset.loading = "1";
  const params = { region: $("cost-region").value, free_tier: $("cost-free-tier").checked ? "1" : "0" };
  if ($("cost-per-day").value) params.per_day = $("cost-per-day").value;
  let data;
  try {
    data = await api(`cost?${q(params)}`);
  } catch (error) {
    $("cost-summary").textContent = error.message;
    return;
  }
  $("cost-summary").textContent = data.summary;
  const totals = [
    ["This window", money(data.totals.amount)],
    ["A month at list price", money(data.totals.monthly_amount)],
    [data.free_tier ? "A month after the always-free tier" : "A month (no free tier)", money(data.totals.monthly_billed)],
    ["Projection", data.projection.basis === "observed" ? `observed rate ×${data.projection.factor.toFixed(1)}` : `${data.projection.per_day} requests a day`],
  ];
  $("cost-totals").replaceChildren(...totals.flatMap(([term, value]) => {
    const dt = document.createElement("dt");
    dt.textContent = term;
    const dd = document.createElement("dd");
    dd.textContent = value;
    dd.dataset.total = term;
    return [dt, dd];
  }));
  bars("cost-by-service", data.by_service);
  bars("cost-by-function", data.by_function);
  const body = $("cost-lines").tBodies[0];
  body.replaceChildren();
  for (const line of data.lines) {
    const row = body.insertRow();
    cell(row, line.description);
    cell(row, line.resource || "(account)");
    cell(row, `${Number(line.quantity.toPrecision(6))} ${line.unit}`, "num");
    const unchecked = line.verified ? "" : " *";  // as `lambic cost` marks it
    cell(row, `$${line.unit_price} / ${line.per === 1 ? "" : line.per.toLocaleString() + " "}${line.unit}${unchecked}`);
    cell(row, money(line.amount), "num");
    cell(row, money(line.monthly_amount), "num");
    cell(row, money(line.monthly_billed), "num");
  }
  $("cost-totals").dataset.until = String(data.window.until_ms);  // `lambic cost --until`
  $("cost-totals").dataset.loading = "0";
  const unverified = data.unverified.length
    ? ` * Not verified: the ${data.region} price of ${data.unverified.join(", ")} was shipped without being checked against AWS's pricing pages; these amounts may be wrong.`
    : "";
  $("cost-source").textContent = `${data.region} prices of ${data.price_date} (${data.currency}); the same figures as \`lambic cost --format json\`.${unverified}`;
}

// ---------------------------------------------------------------- live feed

let refreshTimer = null;
function refreshSoon() {
  if (refreshTimer) return;
  refreshTimer = setTimeout(() => {
    refreshTimer = null;
    loadOverview().catch(() => {});
    if (!$("cost").hidden) loadCost();
  }, 300);
}

function connectLive() {
  const live = $("live");
  const source = new EventSource(API + "live");
  source.onopen = () => { live.textContent = "live"; live.classList.add("on"); };
  source.onerror = () => { live.textContent = "reconnecting…"; live.classList.remove("on"); };
  source.addEventListener("invocation", (event) => {
    const inv = JSON.parse(event.data);
    refreshSoon();
    if (inv.function === state.selected) addInvocationRow(inv, true, inv.function);
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
  $("invocations-more").addEventListener("click", () => loadInvocations(true));
  $("invoke-button").addEventListener("click", () =>
    invoke(`functions/${encodeURIComponent(state.selected)}/invoke`, $("invoke-event").value));
  $("replay-button").addEventListener("click", () =>
    invoke(`invocations/${encodeURIComponent(state.invocation)}/replay`, "{}"));
  for (const id of ["logs-function", "logs-level"]) $(id).addEventListener("change", () => loadLogs(true));
  $("logs-text").addEventListener("input", () => loadLogs(true));
  $("s3-bucket").addEventListener("change", () => { $("s3-prefix").value = ""; loadObjects(); });
  $("s3-prefix").addEventListener("change", loadObjects);
  $("s3-file").addEventListener("change", () => uploadFile().catch((e) => say("s3", `Error: ${e.message}`)));
  $("ddb-table").addEventListener("change", () => loadItems(false));
  $("ddb-partition").addEventListener("change", () => loadItems(false));
  $("ddb-more").addEventListener("click", () => loadItems(true));
  $("ddb-new").addEventListener("click", () => editItem({}));
  $("ddb-save").addEventListener("click", saveItem);
  $("ddb-delete").addEventListener("click", () => deleteItem().catch((e) => say("ddb", `Error: ${e.message}`)));
  $("sns-publish").addEventListener("click", publish);
  for (const id of ["cost-region", "cost-per-day", "cost-free-tier"]) $(id).addEventListener("change", loadCost);
  $("eb-put").addEventListener("click", putEvent);
  try {
    await loadOverview();
  } catch (error) {
    // `lambic services` has no app: only the service panels.
    for (const id of ["overview", "functions", "logs", "schedules"]) $(`tab-${id}`).hidden = true;
    $("app-name").textContent = "services";
    showTab("s3");
    return;
  }
  if (state.selected) { loadInvocations(); loadSample(); }
  connectLive();
  setInterval(() => loadOverview().catch(() => {}), 15000);
});
