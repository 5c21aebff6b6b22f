// The assessment playground: a form built from GET /criteria, and POST /assess answers drawn for people.
// It calls the public API like any other caller: same origin, relative URLs, the documented headers.

import { $, el, initialLanguage, LANGUAGES, translate } from "./dom.js";


const state = {
  lang: "en",
  catalogue: {},
  criteria: null, // the GET /criteria body, in state.lang
  lastProfile: null, // the last profile sent; sent again when the language changes
  answers: {}, // the form's answers, kept while the form is rebuilt or cannot be shown
  retryAfterKey: false, // the last assessment was refused for want of a key
  tickets: { criteria: 0, assess: 0 }, // only the newest request of each kind may draw its answer
};

function t(key, params = {}) {
  return translate(state.catalogue, state.lang, key, params);
}

// replaceChildren() would write null as the text "null"
function fill(node, ...children) {
  node.replaceChildren(...children.flat().filter((child) => child !== null && child !== undefined && child !== false));
}

const isObject = (value) => value !== null && typeof value === "object" && !Array.isArray(value);
const list = (value) => (Array.isArray(value) ? value : []);
const text = (value) => (typeof value === "string" ? value : "");

// ---- numbers and labels -------------------------------------------------------------------------

function percent(value) {
  return new Intl.NumberFormat(state.lang, { style: "percent", maximumFractionDigits: 0 }).format(value);
}

// A contribution c moves the relational score (50 × (1 + index)) by 50 × c points.
function points(contribution) {
  return new Intl.NumberFormat(state.lang, {
    minimumFractionDigits: 1, maximumFractionDigits: 1, signDisplay: "exceptZero",
  }).format(50 * contribution);
}

function criterionOf(name) {
  return list(state.criteria?.criteria).find((criterion) => criterion.name === name);
}

function criterionLabel(name) {
  return criterionOf(name)?.label ?? String(name);
}

function strategyLabel(name) {
  return list(state.criteria?.strategies).find((strategy) => strategy.name === name)?.label ?? String(name);
}

// A scale from 0 to 1 is a share: asked for, sent and refused as one (0.7), shown as a percentage (70%).
function isShareScale(number) {
  return isObject(number) && number.minimum === 0 && number.maximum === 1;
}

function valueLabel(name, value) {
  if (value === null || value === undefined) return t("notAnswered");
  const criterion = criterionOf(name);
  if (criterion && Array.isArray(criterion.options)) {
    return criterion.options.find((option) => option.value === value)?.label ?? String(value);
  }
  if (criterion && typeof value === "number" && isShareScale(criterion.number)) return percent(value);
  return String(value);
}

// ---- talking to the API -------------------------------------------------------------------------

async function callApi(path, { method = "GET", body } = {}) {
  const headers = { Accept: "application/json, application/problem+json", "Accept-Language": state.lang };
  const key = $("#api-key").value.trim();
  if (key) {
    if (!/^[\x21-\x7e]+$/.test(key)) return { ok: false, status: -1, body: null };
    headers.Authorization = `Bearer ${key}`;
  }
  if (body !== undefined) headers["Content-Type"] = "application/json";
  let response;
  try {
    response = await fetch(path, {
      method, headers, body: body === undefined ? undefined : JSON.stringify(body),
      cache: "no-store", credentials: "same-origin",
    });
  } catch {
    return { ok: false, status: 0, body: null };
  }
  let data = null;
  if ((response.headers.get("Content-Type") ?? "").includes("json")) {
    try {
      data = await response.json();
    } catch {
      data = null;
    }
  }
  return { ok: response.ok, status: response.status, body: data };
}

// ---- the questions --------------------------------------------------------------------------------

function readAnswers() {
  const answers = {};
  for (const input of document.querySelectorAll("#questions input[type=radio]:checked")) {
    answers[input.name] = input.value;
  }
  for (const input of document.querySelectorAll("#questions input[type=number]")) {
    answers[input.name] = input.value;
  }
  return answers;
}

// Ids by position, not by value: an option may well be called "none" or "unknown".
function radioOption(criterion, index, value, label, checked, extraClass = "") {
  const id = index === null ? `${criterion.name}-unknown` : `${criterion.name}-option-${index}`;
  return el("label", { class: `option ${extraClass}`.trim(), for: id },
    el("input", { type: "radio", id, name: criterion.name, value, checked, required: criterion.required }),
    el("span", { text: label }));
}

// The same unit as the API, so that what the service says about the value is about what was typed.
function numberQuestion(criterion, answer) {
  const id = `input-${criterion.name}`;
  const input = el("input", {
    type: "number", id, name: criterion.name, step: "any", inputmode: "decimal",
    min: isObject(criterion.number) ? criterion.number.minimum : null,
    max: isObject(criterion.number) ? criterion.number.maximum : null,
    required: criterion.required,
  });
  if (answer) input.value = answer;
  const row = el("div", { class: "number-row" },
    el("label", { for: id, text: isShareScale(criterion.number) ? t("shareLabel") : t("numberLabel") }), input);
  if (!criterion.required) {
    const unknown = el("input", { type: "checkbox", id: `${criterion.name}-unknown`, checked: !answer });
    input.addEventListener("input", () => { if (input.value !== "") unknown.checked = false; });
    unknown.addEventListener("change", () => { if (unknown.checked) input.value = ""; });
    row.append(el("label", { class: "option option--unknown", for: unknown.id }, unknown, el("span", { text: t("unknown") })));
  }
  return row;
}

function question(criterion, answer) {
  const hintId = `hint-${criterion.name}`;
  const errorId = `error-${criterion.name}`;
  const fieldset = el("fieldset", {
    class: "question", id: `field-${criterion.name}`, "data-criterion": criterion.name,
    "aria-describedby": `${hintId} ${errorId}`,
  },
  el("legend", {},
    el("span", { class: "question-label", text: criterion.label }), " ",
    el("span", { class: criterion.required ? "badge badge--required" : "badge", text: t(criterion.required ? "required" : "optional") })),
  el("p", { class: "hint", id: hintId, text: criterion.question }));
  if (Array.isArray(criterion.options)) {
    const options = el("div", { class: "options" },
      criterion.options.map((option, i) => radioOption(criterion, i, option.value, option.label, answer === option.value)));
    if (!criterion.required) {
      options.append(radioOption(criterion, null, "", t("unknown"), !answer, "option--unknown"));
    }
    fieldset.append(options);
  } else if (criterion.number) {
    fieldset.append(numberQuestion(criterion, answer));
  }
  fieldset.append(el("p", { class: "field-error", id: errorId }));
  return fieldset;
}

function showQuestionsFailure(result) {
  const message = result.status === 401 ? t("unauthorized")
    : result.status === 403 ? t("forbidden")
      : result.status === -1 ? t("keyInvalid")
        : result.status === 0 ? t("network")
          : [t("criteriaFailed"), text(result.body?.detail)].filter(Boolean).join(" ");
  const retry = el("button", { type: "button", class: "secondary", text: t("retry") });
  retry.addEventListener("click", () => loadCriteria());
  fill($("#questions"), el("div", { class: "notice notice--error", role: "alert" }, el("p", { text: message }), retry));
}

async function loadCriteria() {
  if ($("#questions fieldset")) state.answers = readAnswers();
  const answers = state.answers;
  const ticket = ++state.tickets.criteria;
  const result = await callApi("criteria");
  if (ticket !== state.tickets.criteria) return false;
  if (!result.ok || !isObject(result.body) || !Array.isArray(result.body.criteria)) {
    state.criteria = null;
    showQuestionsFailure(result);
    return false;
  }
  state.criteria = result.body;
  fill($("#questions"), ...result.body.criteria.map((criterion) => question(criterion, answers[criterion.name])));
  return true;
}

function collectProfile() {
  const profile = {};
  const problems = [];
  for (const criterion of list(state.criteria?.criteria)) {
    if (Array.isArray(criterion.options)) {
      const checked = document.querySelector(`#questions input[name="${CSS.escape(criterion.name)}"]:checked`);
      if (checked && checked.value !== "") profile[criterion.name] = checked.value;
    } else if (criterion.number) {
      const input = document.getElementById(`input-${criterion.name}`);
      if (!input) continue;
      if (input.validity.badInput) {
        problems.push({ pointer: `/${criterion.name}`, detail: t("numberInvalid") });
      } else if (input.value !== "") {
        profile[criterion.name] = Number(input.value);
      }
    }
  }
  return { profile, problems };
}

// ---- errors -----------------------------------------------------------------------------------------

function clearErrors() {
  fill($("#error"));
  $("#api-key-error").textContent = "";
  $("#api-key").removeAttribute("aria-invalid");
  for (const fieldset of document.querySelectorAll(".question.has-error")) {
    fieldset.classList.remove("has-error");
    $(".field-error", fieldset).textContent = "";
    for (const input of fieldset.querySelectorAll("input")) input.removeAttribute("aria-invalid");
  }
}

// "/segment" names the field segment (RFC 6901 unescaping); anything else names no field of this form.
function pointerField(pointer) {
  if (typeof pointer !== "string" || !pointer.startsWith("/")) return null;
  const name = pointer.slice(1).split("/")[0].replace(/~1/g, "/").replace(/~0/g, "~");
  return document.getElementById(`field-${name}`) ? name : null;
}

function focusField(name) {
  const fieldset = document.getElementById(`field-${name}`);
  if (!fieldset) return;
  const target = $("input:checked", fieldset) ?? $("input", fieldset);
  fieldset.scrollIntoView({ block: "center" });
  target?.focus({ preventScroll: true });
}

function showProblem({ title, detail, errors, requestId }, { focus = true } = {}) {
  const box = $("#error");
  const items = [];
  for (const error of list(errors)) {
    if (!isObject(error)) continue;
    const name = pointerField(error.pointer);
    if (name) {
      const fieldset = document.getElementById(`field-${name}`);
      fieldset.classList.add("has-error");
      const message = $(".field-error", fieldset);
      message.textContent = [message.textContent, text(error.detail)].filter(Boolean).join(" ");
      for (const input of fieldset.querySelectorAll("input")) input.setAttribute("aria-invalid", "true");
      const link = el("a", { href: `#field-${name}`, text: criterionLabel(name) });
      link.addEventListener("click", (event) => { event.preventDefault(); focusField(name); });
      items.push(el("li", {}, link, `: ${text(error.detail)}`));
    } else {
      items.push(el("li", {}, el("code", { text: text(error.pointer) || "/" }), `: ${text(error.detail)}`));
    }
  }
  fill(box,
    el("h3", { text: title }),
    detail ? el("p", { text: detail }) : null,
    items.length ? el("ul", {}, items) : null,
    requestId ? el("p", { class: "request-id", text: t("requestId", { id: requestId }) }) : null,
  );
  if (focus) box.focus();
}

function showFailure(result, { focus }) {
  $("#result").hidden = true;
  $("#result-empty").hidden = true;
  $("#status").textContent = "";
  const body = isObject(result.body) ? result.body : {};
  if (result.status === 401 || result.status === 403 || result.status === -1) {
    const message = t(result.status === 401 ? "unauthorized" : result.status === 403 ? "forbidden" : "keyInvalid");
    state.retryAfterKey = result.status !== -1;
    showProblem({ title: message, requestId: text(body.request_id) }, { focus: false });
    $("#api-key-error").textContent = message;
    $("#api-key").setAttribute("aria-invalid", "true");
    if (focus) $("#api-key").focus();
    return;
  }
  if (result.status === 0) {
    showProblem({ title: t("network") }, { focus });
    return;
  }
  showProblem({
    title: [text(body.title) || t("errorTitle"), result.status ? `(${result.status})` : ""].join(" ").trim(),
    detail: text(body.detail),
    errors: body.errors,
    requestId: text(body.request_id),
  }, { focus });
}

// ---- the assessment -------------------------------------------------------------------------------

function section(headingText, ...children) {
  return el("section", { class: "result-section" }, el("h3", { text: headingText }), ...children);
}

function verdict(body) {
  const recommendation = text(body.recommendation);
  const scores = isObject(body.scores) ? body.scores : {};
  const relational = Number(scores.relational) || 0;
  const transactional = Number(scores.transactional) || 0;
  const round = (value) => new Intl.NumberFormat(state.lang, { maximumFractionDigits: 0 }).format(value);
  const meterTransactional = el("span", { class: "meter-part meter-part--transactional" });
  const meterRelational = el("span", { class: "meter-part meter-part--relational" });
  // CSSOM writes are allowed by the CSP (style-src 'self'); style attributes would not be.
  meterTransactional.style.width = `${Math.max(0, Math.min(100, transactional))}%`;
  meterRelational.style.width = `${Math.max(0, Math.min(100, relational))}%`;
  const meterLabel = t("scoreMeter", {
    relational: strategyLabel("relational"), relationalScore: round(relational),
    transactional: strategyLabel("transactional"), transactionalScore: round(transactional),
  });
  return el("div", { class: `verdict verdict--${recommendation}`, id: "verdict", "data-recommendation": recommendation },
    el("p", { class: "verdict-caption", text: t("recommendation") }),
    el("p", { class: "verdict-value", id: "recommendation", text: strategyLabel(recommendation) }),
    el("dl", { class: "figures" },
      el("div", {}, el("dt", { text: t("confidence") }), el("dd", { id: "confidence", text: percent(Number(body.confidence) || 0) })),
      el("div", {}, el("dt", { text: t("coverage") }), el("dd", { id: "coverage", text: percent(Number(body.coverage) || 0) }))),
    el("div", { class: "meter", role: "img", "aria-label": meterLabel },
      el("span", { class: "meter-bar" }, meterTransactional, meterRelational),
      el("span", { class: "meter-legend", "aria-hidden": "true" },
        el("span", { text: `${strategyLabel("transactional")} ${round(transactional)}` }),
        el("span", { text: `${strategyLabel("relational")} ${round(relational)}` }))));
}

function margin(body) {
  const info = body.margin;
  if (!isObject(info) || info.close_call !== true || !text(info.summary)) return null;
  return el("div", { class: "notice notice--close", id: "margin" },
    el("p", { class: "notice-title", text: t("closeCall") }), el("p", { text: info.summary }));
}

function missingInformation(body) {
  const first = list(body.missing_information).find(isObject);
  if (!first) return null;
  const name = text(first.criterion);
  const questionText = text(first.question) || text(criterionOf(name)?.question);
  if (!questionText) return null;
  const notice = el("div", { class: "notice notice--question", id: "one-question" },
    el("p", { class: "notice-title", text: t("oneQuestion") }),
    el("p", { class: "one-question", text: questionText }),
    typeof first.can_change === "boolean" ? el("p", { text: t(first.can_change ? "canChange" : "cannotChange") }) : null);
  if (document.getElementById(`field-${name}`)) {
    const link = el("a", { href: `#field-${name}`, text: t("oneQuestionGo") });
    link.addEventListener("click", (event) => { event.preventDefault(); focusField(name); });
    notice.append(el("p", {}, link));
  }
  return notice;
}

function chart(factors) {
  const contributions = factors.map((factor) => Number(factor.contribution) || 0);
  const largest = Math.max(0, ...contributions.map(Math.abs));
  const rows = factors.map((factor, i) => {
    const contribution = contributions[i];
    const direction = contribution > 0 ? "relational" : contribution < 0 ? "transactional" : "neither";
    const label = text(factor.label) || criterionLabel(factor.criterion);
    const value = text(factor.value_label) || valueLabel(factor.criterion, factor.value);
    const bar = el("span", { class: `bar bar--${direction}` });
    bar.style.width = largest > 0 ? `${(Math.abs(contribution) / largest) * 50}%` : "0%";
    const reason = text(factor.reason);
    const source = isObject(factor.source) ? factor.source : {};
    return el("li", {
      class: "chart-row", "data-criterion": text(factor.criterion), "data-contribution": contribution,
      "data-direction": direction,
    },
    el("span", { class: "chart-label" }, `${label}: `, el("strong", { text: value })),
    el("span", {
      class: "track", role: "img",
      "aria-label": t("barLabel", { label, value, direction: t(`favours_${direction}`), points: points(contribution) }),
    }, bar),
    el("span", { class: `chart-value chart-value--${direction}`, "aria-hidden": "true", text: points(contribution) }),
    reason ? el("details", { class: "chart-reason" },
      el("summary", {}, t("why"), el("span", { class: "visually-hidden", text: ` ${label}` })),
      el("p", { text: reason }),
      text(source.section) ? el("p", { class: "source" }, t("source", { section: source.section }),
        text(source.quote) ? el("q", { lang: "pl", text: source.quote }) : null) : null) : null);
  });
  return section(t("factorsHeading"),
    el("p", { class: "hint", id: "chart-hint", text: t("factorsHint") }),
    el("div", { class: "chart-axis", "aria-hidden": "true" },
      el("span", { text: t("towardsTransactional") }), el("span", { text: t("towardsRelational") })),
    el("ul", { class: "chart", id: "factor-chart", "aria-describedby": "chart-hint" }, rows));
}

function changeItem(change) {
  const name = text(change.criterion);
  return el("span", { class: "change" }, el("strong", { text: criterionLabel(name) }), ": ",
    valueLabel(name, change.from), " → ", valueLabel(name, change.to));
}

function whatWouldChange(body) {
  const counterfactuals = list(body.counterfactuals).filter(isObject);
  const plans = list(body.plans).filter(isObject);
  const parts = [el("p", { class: "hint", text: t("changesIntro") })];
  if (counterfactuals.length) {
    parts.push(el("ul", { class: "changes", id: "counterfactuals" }, counterfactuals.map((item) => el("li", {},
      changeItem(item), ` ${t("wouldGive")} `,
      el("strong", { class: `strategy strategy--${text(item.recommendation)}`, text: strategyLabel(item.recommendation) }), " ",
      el("span", { class: item.actionable ? "tag tag--actionable" : "tag", text: t(item.actionable ? "actionable" : "notActionable") })))));
  } else {
    parts.push(el("p", { id: "counterfactuals", text: t("noChanges") }));
  }
  if (plans.length) {
    parts.push(el("h4", { text: t("plansHeading") }), el("ul", { class: "plans", id: "plans" }, plans.map((plan) => el("li", {
      class: plan.reachable === false ? "plan plan--unreachable" : "plan",
    },
    el("p", { class: "plan-target" }, t("planTarget", { strategy: strategyLabel(plan.target) }),
      plan.reachable === false ? el("span", { class: "tag", text: t("unreachable") }) : null),
    text(plan.summary) ? el("p", { text: plan.summary }) : null,
    list(plan.changes).filter(isObject).length
      ? el("ul", { class: "plan-changes" }, list(plan.changes).filter(isObject).map((change) => el("li", {}, changeItem(change))))
      : null))));
  }
  return section(t("changesHeading"), ...parts);
}

function playbook(body) {
  const book = isObject(body.playbook) ? body.playbook : {};
  const strings = (items) => list(items).filter((item) => typeof item === "string");
  const block = (key, node) => el("div", { class: "playbook-block" }, el("h4", { text: t(key) }), node);
  const risks = list(book.risks).map((item) => (typeof item === "string" ? { risk: item } : item)).filter(isObject);
  return el("section", { class: "result-section", id: "playbook" }, el("h3", { text: t("playbookHeading") }),
    el("div", { class: "playbook-grid" },
      block("kpis", el("ul", {}, strings(book.kpis).map((item) => el("li", { text: item })))),
      block("tools", el("ul", {}, strings(book.tools).map((item) => el("li", { text: item })))),
      block("steps", el("ol", {}, strings(book.steps).map((item) => el("li", { text: item })))),
      block("risks", el("ul", { class: "risks" }, risks.map((item) => el("li", {},
        el("strong", { text: text(item.risk) }),
        text(item.mitigation) ? el("span", { class: "mitigation" }, `${t("mitigation")}: `, item.mitigation) : null))))));
}

function showAssessment(body, { focus }) {
  const factors = list(body.rationale?.factors).filter(isObject);
  const model = isObject(body.model) ? body.model : {};
  fill($("#result"),
    verdict(body),
    margin(body),
    missingInformation(body),
    section(t("summary"), el("p", { class: "summary", id: "summary", text: text(body.rationale?.summary) })),
    chart(factors),
    whatWouldChange(body),
    playbook(body),
    el("p", { class: "model-line", text: t("modelLine", { model: text(model.id), version: text(model.version), id: text(body.assessment_id) }) }),
  );
  $("#result").hidden = false;
  $("#result-empty").hidden = true;
  $("#status").textContent = t("announceResult", {
    strategy: strategyLabel(body.recommendation), confidence: percent(Number(body.confidence) || 0),
  });
  if (focus) $("#results-heading").focus();
}

async function assess(profile, { focus }) {
  state.lastProfile = profile;
  state.retryAfterKey = false;
  const ticket = ++state.tickets.assess;
  $("#results").setAttribute("aria-busy", "true");
  const result = await callApi("assess", { method: "POST", body: profile });
  if (ticket !== state.tickets.assess) return;
  $("#results").removeAttribute("aria-busy");
  clearErrors();
  if (result.ok && isObject(result.body) && typeof result.body.recommendation === "string") {
    showAssessment(result.body, { focus });
  } else {
    showFailure(result, { focus });
  }
}

// ---- language ---------------------------------------------------------------------------------------

function applyStrings() {
  document.documentElement.lang = state.lang;
  document.title = t("title");
  for (const node of document.querySelectorAll("[data-i18n]")) node.textContent = t(node.dataset.i18n);
  for (const button of document.querySelectorAll("[data-lang]")) {
    button.setAttribute("aria-pressed", String(button.dataset.lang === state.lang));
  }
}

async function setLanguage(lang) {
  if (!LANGUAGES.includes(lang) || lang === state.lang) return;
  state.lang = lang;
  const url = new URL(window.location.href);
  url.searchParams.set("lang", lang);
  window.history.replaceState(null, "", url);
  applyStrings();
  // Domain text comes from the API in the chosen language: ask again, then re-send the last profile.
  if (await loadCriteria() && state.lastProfile) await assess(state.lastProfile, { focus: false });
}

// ---- start ------------------------------------------------------------------------------------------

async function start() {
  try {
    const response = await fetch(new URL("i18n.json", import.meta.url), { cache: "no-cache" });
    state.catalogue = await response.json();
  } catch {
    state.catalogue = {};
  }
  state.lang = initialLanguage();
  applyStrings();

  for (const button of document.querySelectorAll("[data-lang]")) {
    button.addEventListener("click", () => setLanguage(button.dataset.lang));
  }
  $("#profile-form").addEventListener("submit", (event) => {
    event.preventDefault();
    if (!state.criteria) {
      loadCriteria();
      return;
    }
    clearErrors();
    const { profile, problems } = collectProfile();
    if (problems.length) {
      showProblem({ title: t("checkAnswers"), errors: problems });
      return;
    }
    assess(profile, { focus: true });
  });
  $("#key-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    const retry = state.retryAfterKey && state.lastProfile;
    clearErrors();
    if (!await loadCriteria()) return;
    if (retry) {
      await assess(state.lastProfile, { focus: true });
    } else {
      $("#status").textContent = t($("#api-key").value.trim() ? "keyApplied" : "keyCleared");
    }
  });
  await loadCriteria();
}

start();
