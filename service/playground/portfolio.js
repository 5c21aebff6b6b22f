// The portfolio page: a CSV of accounts sent to POST /assess/stream (same origin, nothing stored), then the book
// drawn for people: the recommendations, what drives them, and how a second model (?compare=) would change them.

import { $, el, initialLanguage, LANGUAGES, translate } from "./dom.js";

const STRATEGIES = ["relational", "hybrid", "transactional"];
// The file goes in slices: a browser sends a whole body before it reads the answer, so each body stays small
// enough for the socket buffers to hold while the service answers it row by row.
const SLICE_ROWS = 500;
const ANALYSIS_FIELDS = "recommendation,rationale";

const state = {
  lang: "en",
  catalogue: {},
  criteria: null, // GET /criteria of the model chosen, in state.lang
  ready: null, // GET /readyz: the models loaded
  run: null, // the last file scored: { name, records, model, compare, summary }
  ticket: 0, // only the newest run may draw its answer
};

function t(key, params = {}) {
  return translate(state.catalogue, state.lang, key, params);
}

const isObject = (value) => value !== null && typeof value === "object" && !Array.isArray(value);
const list = (value) => (Array.isArray(value) ? value : []);
const text = (value) => (typeof value === "string" ? value : "");

const number = (value, digits = 0) => new Intl.NumberFormat(state.lang, { maximumFractionDigits: digits }).format(value);
const percent = (value) => new Intl.NumberFormat(state.lang, { style: "percent", maximumFractionDigits: 1 }).format(value);
// A contribution c moves the relational score (50 × (1 + index)) by 50 × c points.
const points = (contribution) => new Intl.NumberFormat(state.lang, {
  minimumFractionDigits: 1, maximumFractionDigits: 1, signDisplay: "exceptZero",
}).format(50 * contribution);

function strategyLabel(name) {
  return list(state.criteria?.strategies).find((strategy) => strategy.name === name)?.label ?? String(name);
}

function criterionLabel(name) {
  return list(state.criteria?.criteria).find((criterion) => criterion.name === name)?.label ?? String(name);
}

// ---- talking to the API -------------------------------------------------------------------------

function headers(extra = {}) {
  const result = { "Accept-Language": state.lang, ...extra };
  const key = $("#api-key").value.trim();
  if (key && /^[\x21-\x7e]+$/.test(key)) result.Authorization = `Bearer ${key}`;
  return result;
}

class ApiError extends Error {
  constructor(status, body) {
    super(`HTTP ${status}`);
    this.status = status;
    this.body = isObject(body) ? body : {};
  }
}

async function getJson(path) {
  let response;
  try {
    response = await fetch(path, { headers: headers({ Accept: "application/json" }), cache: "no-store" });
  } catch {
    throw new ApiError(0, null);
  }
  const body = await response.json().catch(() => null);
  if (!response.ok) throw new ApiError(response.status, body);
  return body;
}

// One slice through the stream; `onText` gets the answer's text as it arrives.
async function postSlice(query, body, accept, onText) {
  let response;
  try {
    response = await fetch(`assess/stream?${query}`, {
      method: "POST", body, cache: "no-store", credentials: "same-origin",
      headers: headers({ "Content-Type": "text/csv", Accept: accept }),
    });
  } catch {
    throw new ApiError(0, null);
  }
  if (!response.ok) throw new ApiError(response.status, await response.json().catch(() => null));
  const reader = response.body.getReader();
  const decoder = new TextDecoder();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    onText(decoder.decode(value, { stream: true }));
  }
  onText(decoder.decode());
}

// ---- the file -------------------------------------------------------------------------------------

// CSV records, each with its line end; a newline inside quotes belongs to its record. Blank lines are no rows.
function records(csvText) {
  const found = [];
  let start = 0;
  let quoted = false;
  for (let i = 0; i < csvText.length; i += 1) {
    const c = csvText[i];
    if (c === '"') quoted = !quoted;
    else if (c === "\n" && !quoted) {
      found.push(csvText.slice(start, i + 1));
      start = i + 1;
    }
  }
  if (start < csvText.length) found.push(`${csvText.slice(start)}\n`);
  return found.filter((record, index) => index === 0 || record.trim() !== "");
}

function query(run, fields) {
  const params = new URLSearchParams();
  if (run.model) params.set("model", run.model);
  if (run.compare) params.set("compare", run.compare);
  if (fields) params.set("fields", fields);
  return params.toString();
}

async function eachSlice(run, action) {
  const [header, ...rows] = run.records;
  for (let start = 0; start < rows.length; start += SLICE_ROWS) {
    await action(header + rows.slice(start, start + SLICE_ROWS).join(""), start);
  }
}

// ---- scoring --------------------------------------------------------------------------------------

function emptySummary(run) {
  const flips = {};
  for (const first of STRATEGIES) flips[first] = Object.fromEntries([...STRATEGIES, "refused"].map((s) => [s, 0]));
  return {
    total: run.records.length - 1, done: 0, scored: 0,
    counts: Object.fromEntries([...STRATEGIES, "invalid"].map((s) => [s, 0])),
    sums: {}, flips, reasons: new Map(),
  };
}

function reasonsOf(problem) {
  const errors = list(problem?.errors).filter(isObject);
  if (errors.length) return errors.map((error) => `${text(error.pointer).slice(1) || "/"}: ${text(error.detail)}`);
  return [text(problem?.detail) || String(problem?.status ?? "")];
}

function count(summary, item, offset) {
  summary.done += 1;
  if (item.status === 200 && isObject(item.assessment)) {
    const assessment = item.assessment;
    const recommendation = text(assessment.recommendation);
    if (!(recommendation in summary.counts)) return;
    summary.counts[recommendation] += 1;
    summary.scored += 1;
    for (const factor of list(assessment.rationale?.factors).filter(isObject)) {
      const name = text(factor.criterion);
      summary.sums[name] = (summary.sums[name] ?? 0) + (Number(factor.contribution) || 0);
    }
    const comparison = assessment.comparison;
    if (isObject(comparison)) {
      const other = text(comparison.assessment?.recommendation) || "refused";
      if (other in summary.flips[recommendation]) summary.flips[recommendation][other] += 1;
    }
  } else {
    summary.counts.invalid += 1;
    for (const reason of reasonsOf(item.problem)) {
      const entry = summary.reasons.get(reason) ?? { count: 0, rows: [] };
      entry.count += 1;
      // the row's line in the file: the header is line 1
      if (entry.rows.length < 5) entry.rows.push(offset + Number(item.index) + 2);
      summary.reasons.set(reason, entry);
    }
  }
}

async function score(run, ticket) {
  const summary = emptySummary(run);
  run.summary = summary;
  showProgress(summary);
  await eachSlice(run, async (body, offset) => {
    let pending = "";
    await postSlice(query(run, ANALYSIS_FIELDS), body, "application/x-ndjson", (chunk) => {
      pending += chunk;
      const lines = pending.split("\n");
      pending = lines.pop();
      for (const line of lines) if (line.trim()) count(summary, JSON.parse(line), offset);
    });
    if (ticket === state.ticket) showProgress(summary);
  });
}

// ---- drawing --------------------------------------------------------------------------------------

function showProgress(summary) {
  const bar = $("#progress");
  bar.hidden = false;
  bar.max = Math.max(1, summary.total);
  bar.value = summary.done;
  $("#status").textContent = t("progress", { done: number(summary.done), total: number(summary.total) });
}

function distribution(summary) {
  const total = Math.max(1, summary.total);
  return [...STRATEGIES, "invalid"].map((name) => {
    const value = summary.counts[name];
    const label = name === "invalid" ? t("invalid") : strategyLabel(name);
    const bar = el("span", { class: `share share--${name}` });
    bar.style.width = `${(value / total) * 100}%`; // CSSOM, which the CSP allows; a style attribute it would not
    return el("li", { class: "distribution-row", "data-strategy": name, "data-count": value },
      el("span", { class: "distribution-label", text: label }),
      el("span", {
        class: "share-track", role: "img",
        "aria-label": t("countLabel", { label, count: number(value), share: percent(value / total) }),
      }, bar),
      el("span", { class: "distribution-value", "aria-hidden": "true", text: `${number(value)} · ${percent(value / total)}` }));
  });
}

function drivers(summary) {
  const names = list(state.criteria?.criteria).map((criterion) => criterion.name);
  for (const name of Object.keys(summary.sums)) if (!names.includes(name)) names.push(name);
  const means = names.map((name) => ({ name, mean: summary.scored ? (summary.sums[name] ?? 0) / summary.scored : 0 }));
  means.sort((a, b) => Math.abs(b.mean) - Math.abs(a.mean));
  const largest = Math.max(0, ...means.map((item) => Math.abs(item.mean)));
  return means.map(({ name, mean }) => {
    const direction = mean > 0 ? "relational" : mean < 0 ? "transactional" : "neither";
    const label = criterionLabel(name);
    const bar = el("span", { class: `bar bar--${direction}` });
    bar.style.width = largest > 0 ? `${(Math.abs(mean) / largest) * 50}%` : "0%";
    return el("li", { class: "chart-row", "data-criterion": name, "data-mean": mean, "data-direction": direction },
      el("span", { class: "chart-label", text: label }),
      el("span", {
        class: "track", role: "img",
        "aria-label": t("barLabel", { label, points: points(mean), direction: t(`favours_${direction}`) }),
      }, bar),
      el("span", { class: `chart-value chart-value--${direction}`, "aria-hidden": "true", text: points(mean) }));
  });
}

function flips(run) {
  const summary = run.summary;
  const table = $("#flips");
  if (!run.compare) {
    table.replaceChildren();
    $("#flips-summary").textContent = t("flipsNone");
    return;
  }
  const columns = [...STRATEGIES, "refused"];
  const first = run.model || state.ready?.default_model || "";
  const head = el("tr", {}, el("th", { scope: "col", text: t("flipsCorner", { first, second: run.compare }) }),
    columns.map((name) => el("th", { scope: "col", text: name === "refused" ? t("flipsRefused") : strategyLabel(name) })));
  const body = STRATEGIES.map((from) => el("tr", {}, el("th", { scope: "row", text: strategyLabel(from) }),
    columns.map((to) => el("td", {
      class: from === to ? "flip flip--same" : summary.flips[from][to] ? "flip flip--changed" : "flip",
      "data-from": from, "data-to": to, text: number(summary.flips[from][to]),
    }))));
  table.replaceChildren(el("thead", {}, head), el("tbody", {}, body));
  const agree = STRATEGIES.reduce((sum, name) => sum + summary.flips[name][name], 0);
  $("#flips-summary").textContent = t("flipsSummary", {
    first, second: run.compare, agree: number(agree), total: number(summary.scored),
    share: percent(summary.scored ? agree / summary.scored : 0), changed: number(summary.scored - agree),
  });
}

function refused(summary) {
  if (!summary.reasons.size) return [el("li", { text: t("refusedNone") })];
  return [...summary.reasons.entries()].sort((a, b) => b[1].count - a[1].count).slice(0, 10).map(([reason, entry]) =>
    el("li", { "data-count": entry.count }, t("refusedLine", { count: number(entry.count), reason }), " ",
      el("span", { class: "hint", text: `(${t("refusedRows", { rows: entry.rows.join(", ") })})` })));
}

function showRun(run) {
  const summary = run.summary;
  $("#distribution").replaceChildren(...distribution(summary));
  $("#drivers").replaceChildren(...drivers(summary));
  flips(run);
  $("#refused").replaceChildren(...refused(summary));
  $("#result").hidden = false;
  $("#result-empty").hidden = true;
  $("#progress").hidden = true;
  $("#status").textContent = t("done", {
    total: number(summary.total), scored: number(summary.scored), refused: number(summary.counts.invalid),
  });
}

function showError(error) {
  const box = $("#error");
  const body = error instanceof ApiError ? error.body : {};
  const status = error instanceof ApiError ? error.status : 0;
  const title = status === 401 ? t("unauthorized") : status === 403 ? t("forbidden") : status === 0 ? t("network")
    : [text(body.title) || t("errorTitle"), `(${status})`].join(" ");
  const items = list(body.errors).filter(isObject).map((item) => el("li", {},
    el("code", { text: text(item.pointer) || "/" }), `: ${text(item.detail)}`));
  box.replaceChildren(el("h3", { text: title }), text(body.detail) ? el("p", { text: body.detail }) : "",
    items.length ? el("ul", {}, items) : "",
    text(body.request_id) ? el("p", { class: "request-id", text: t("requestId", { id: body.request_id }) }) : "");
  $("#progress").hidden = true;
  $("#status").textContent = "";
  box.focus();
}

// ---- the scored CSV ---------------------------------------------------------------------------------

async function download() {
  const run = state.run;
  if (!run) return;
  const ticket = state.ticket;
  $("#status").textContent = t("downloading");
  const parts = [];
  try {
    await eachSlice(run, async (body) => {
      let answer = "";
      await postSlice(query(run, null), body, "text/csv", (chunk) => { answer += chunk; });
      // every slice's answer starts with the header row; the file keeps the first one
      parts.push(parts.length ? answer.slice(answer.indexOf("\n") + 1) : answer);
    });
  } catch (error) {
    if (ticket === state.ticket) showError(error);
    return;
  }
  if (ticket !== state.ticket) return;
  const name = `${run.name.replace(/\.csv$/i, "")}-scored.csv`;
  const link = el("a", { href: URL.createObjectURL(new Blob(parts, { type: "text/csv" })), download: name, hidden: true });
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(link.href), 60_000);
  $("#status").textContent = t("downloaded", { name });
}

// ---- models and language ----------------------------------------------------------------------------

function fillModels() {
  const models = list(state.ready?.models);
  const chosen = $("#model").value || state.ready?.default_model || models[0] || "";
  $("#model").replaceChildren(...models.map((key) => el("option", { value: key, selected: key === chosen, text: key })));
  const compare = $("#compare").value;
  $("#compare").replaceChildren(el("option", { value: "", text: t("noCompare") }),
    ...models.filter((key) => key !== chosen).map((key) => el("option", { value: key, selected: key === compare, text: key })));
}

async function loadCriteria(model) {
  try {
    state.criteria = await getJson(`criteria?model=${encodeURIComponent(model)}`);
  } catch {
    state.criteria = null; // labels fall back to names; scoring says what is wrong
  }
}

function applyStrings() {
  document.documentElement.lang = state.lang;
  document.title = t("title");
  for (const node of document.querySelectorAll("[data-i18n]")) node.textContent = t(node.dataset.i18n);
  $(".privacy").textContent = t("privacy", { rows: number(SLICE_ROWS) });
  for (const button of document.querySelectorAll("[data-lang]")) {
    button.setAttribute("aria-pressed", String(button.dataset.lang === state.lang));
  }
  const none = $("#compare option[value='']");
  if (none) none.textContent = t("noCompare");
}

async function setLanguage(lang) {
  if (!LANGUAGES.includes(lang) || lang === state.lang) return;
  state.lang = lang;
  const url = new URL(window.location.href);
  url.searchParams.set("lang", lang);
  window.history.replaceState(null, "", url);
  applyStrings();
  // every number stays; the labels come from the API in the new language
  await loadCriteria(state.run?.model || $("#model").value);
  if (state.run?.summary && state.run.summary.done === state.run.summary.total) showRun(state.run);
}

// ---- start ------------------------------------------------------------------------------------------

async function submit(event) {
  event.preventDefault();
  $("#error").replaceChildren();
  const file = $("#file").files[0];
  if (!file) {
    $("#error").replaceChildren(el("h3", { text: t("noFile") }));
    $("#error").focus();
    return;
  }
  const ticket = ++state.ticket;
  const run = { name: file.name, records: records(await file.text()), model: $("#model").value, compare: $("#compare").value };
  if (run.records.length < 2) {
    $("#error").replaceChildren(el("h3", { text: t("emptyFile") }));
    $("#error").focus();
    return;
  }
  state.run = run;
  $("#results").setAttribute("aria-busy", "true");
  try {
    await loadCriteria(run.model);
    await score(run, ticket);
    if (ticket === state.ticket) showRun(run);
  } catch (error) {
    if (ticket === state.ticket) showError(error);
  } finally {
    if (ticket === state.ticket) $("#results").removeAttribute("aria-busy");
  }
}

async function start() {
  try {
    const response = await fetch(new URL("portfolio-i18n.json", import.meta.url), { cache: "no-cache" });
    state.catalogue = await response.json();
  } catch {
    state.catalogue = {};
  }
  state.lang = initialLanguage();
  applyStrings();
  for (const button of document.querySelectorAll("[data-lang]")) {
    button.addEventListener("click", () => setLanguage(button.dataset.lang));
  }
  $("#upload-form").addEventListener("submit", submit);
  $("#download").addEventListener("click", download);
  $("#model").addEventListener("change", fillModels);
  try {
    state.ready = await getJson("readyz");
  } catch (error) {
    state.ready = error instanceof ApiError && isObject(error.body) ? error.body : null;
  }
  fillModels();
  document.body.dataset.ready = "true";
}

start();
