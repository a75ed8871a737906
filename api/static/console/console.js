// servicematch console: a caseworker's page over the /v1 API. Plain JS, no library, no build step.
// The API key lives in sessionStorage (this tab only); every figure shown comes from an API answer
// the key's role was allowed to get. Text on the page is built with textContent (never innerHTML
// of API data), so a service name cannot inject markup.

const KEY_STORE = "servicematch.key";
const LANG_STORE = "servicematch.lang";
const FORM_FIELDS = ["age", "gender", "district", "household_size", "monthly_income", "employment_status",
  "languages", "disability", "latitude", "longitude"];
const NUMBER_FIELDS = new Set(["age", "household_size", "monthly_income", "latitude", "longitude"]);
// Fields of a suggestion that have their own place on the card; anything else the API adds
// (how to apply, documents, fees, hours...) is shown under "Before you refer".
const CARD_FIELDS = new Set(["service_id", "name", "organization", "rank", "score", "needs", "eligibility",
  "reasons", "questions", "distance_km", "distance_band", "capacity", "explanation", "contributions"]);
const DETAIL_SKIP = new Set(["service_id", "name", "organization", "latitude", "longitude"]);
const VIEWS_BY_ROLE = {
  caseworker: ["intake", "resident", "portal"],
  admin: ["intake", "resident", "portal", "models"],
  portal: ["portal"],
  trainer: ["models"],
};
const EVENTS_BY_ROLE = { caseworker: ["referred", "declined", "enrolled"], admin: ["referred", "declined", "enrolled"] };
const TEXT_MAX = 120;  // the API's limits on the needs of one request: their length and number
const NEEDS_MAX = 10;

const state = { key: null, role: null, lang: "en", strings: {}, questions: [], extras: {}, renders: new Map() };
const $ = (id) => document.getElementById(id);

// ------------------------------------------------------------------------------------ text

function t(key, vars = {}) {
  const table = state.strings[state.lang] || {};
  const text = table[key] ?? (state.strings.en || {})[key] ?? key;
  return text.replace(/\{(\w+)\}/g, (_, name) => (name in vars ? String(vars[name]) : `{${name}}`));
}

function fieldName(name) {
  // A data field's label: translated where the strings file has it, else the name in words.
  const key = `field_${name}`;
  return key in (state.strings[state.lang] || {}) || key in (state.strings.en || {}) ? t(key) : name.replaceAll("_", " ");
}

function applyLanguage() {
  document.documentElement.lang = state.lang === "zh" ? "zh-Hans" : "en";
  document.title = t("title");
  for (const el of document.querySelectorAll("[data-i18n]")) el.textContent = t(el.dataset.i18n);
  for (const el of document.querySelectorAll("[data-i18n-placeholder]")) el.placeholder = t(el.dataset.i18nPlaceholder);
  $("lang").textContent = t("lang_button");
  $("views").setAttribute("aria-label", t("views"));
  $("report").title = t("report_title");
  say("");
  if (state.role) showWho();
  for (const render of state.renders.values()) render();  // results shown again in the new language
}

function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (value === null || value === undefined || value === false) continue;
    if (name === "text") node.textContent = value;
    else if (name.startsWith("on")) node.addEventListener(name.slice(2), value);
    else node.setAttribute(name, value === true ? "" : value);
  }
  for (const child of children.flat(Infinity)) {
    if (child === null || child === undefined || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

function fill(container, ...children) {
  // replaceChildren, skipping the parts a view leaves out (null / false)
  container.replaceChildren(...children.flat().filter((c) => c !== null && c !== undefined && c !== false));
}

function say(message) {
  $("status").textContent = message;
}

function showError(message) {
  const box = $("error");
  box.textContent = message;
  box.hidden = !message;
}

// ------------------------------------------------------------------------------------ the API

class ApiError extends Error {
  constructor(status, detail) {
    super(detail);
    this.status = status;
    this.detail = detail;
  }
}

async function api(method, path, body) {
  const headers = { Authorization: `Bearer ${state.key}` };
  if (body !== undefined) headers["Content-Type"] = "application/json";
  let response;
  try {
    response = await fetch(path, { method, headers, cache: "no-store", credentials: "omit",
      body: body === undefined ? undefined : JSON.stringify(body) });
  } catch (e) {
    throw new ApiError(0, t("err_network"));
  }
  const text = await response.text();
  let data = text;
  if ((response.headers.get("content-type") || "").includes("json")) {
    try { data = JSON.parse(text); } catch (e) { data = text; }
  }
  if (!response.ok) throw new ApiError(response.status, (data && data.detail) || response.statusText);
  return data;
}

function explain(error) {
  if (!(error instanceof ApiError)) return String(error);
  const detail = error.detail;
  switch (error.status) {
    case 0: return t("err_network");
    case 401: return t("err_key");
    case 403: return t("err_forbidden", { detail });
    case 404: return t("err_notfound", { detail });
    case 400: case 413: case 422: return t("err_input", { detail });
    case 429: return t("err_busy");
    case 503: return t("err_unavailable");
    default: return t("err_other", { status: error.status, detail });
  }
}

async function guarded(work) {
  showError("");
  say(t("loading"));
  try {
    await work();
  } catch (error) {
    say("");
    showError(explain(error));
    if (error instanceof ApiError && error.status === 401) signOut(false);
  }
}

// ------------------------------------------------------------------------------------ sign-in

async function signIn(key) {
  state.key = key;
  const who = await api("GET", "/v1/whoami");
  state.role = who.role;
  sessionStorage.setItem(KEY_STORE, key);
  $("api-key").value = "";
  $("signin-view").hidden = true;
  $("app").hidden = false;
  showWho();
  const allowed = VIEWS_BY_ROLE[state.role] || [];
  for (const button of document.querySelectorAll("#views [data-view]")) {
    button.hidden = !allowed.includes(button.dataset.view);
  }
  const wanted = location.pathname.endsWith("/models") ? "models" : allowed[0];
  showView(allowed.includes(wanted) ? wanted : allowed[0]);
  say("");
}

function showWho() {
  $("whoami").textContent = t("signed_in_as", { role: t(`role_${state.role}`) });
}

function signOut(clearMessage = true) {
  sessionStorage.removeItem(KEY_STORE);
  state.key = state.role = null;
  state.renders.clear();
  $("app").hidden = true;
  for (const section of document.querySelectorAll(".view")) section.hidden = true;
  $("signin-view").hidden = false;
  // Nothing about a resident stays on the page for the next person at this screen.
  $("intake").reset();
  for (const id of ["r-id", "p-id"]) $(id).value = "";
  for (const id of ["intake-results", "resident-detail", "resident-results", "portal-results"]) $(id).replaceChildren();
  const report = $("report");
  report.removeAttribute("srcdoc");
  report.hidden = true;
  if (clearMessage) { say(""); showError(""); }
  $("api-key").focus();
}

function showView(name) {
  for (const button of document.querySelectorAll("#views [data-view]")) {
    button.setAttribute("aria-pressed", String(button.dataset.view === name));
  }
  for (const section of document.querySelectorAll(".view")) section.hidden = section.id !== `${name}-view`;
  if (name === "models") guarded(loadModels);
}

// ------------------------------------------------------------------------------------ intake

function splitNeeds(text) {
  // One item per line; a line longer than the API allows is cut at sentence ends (., 。, !, ?).
  const items = [];
  for (const line of text.split(/\n+/).map((s) => s.trim()).filter(Boolean)) {
    if (line.length <= TEXT_MAX) { items.push(line); continue; }
    let current = "";
    for (const sentence of line.split(/(?<=[.!?。！？；;])\s*/)) {
      if ((current + " " + sentence).trim().length > TEXT_MAX && current) { items.push(current.trim()); current = ""; }
      current = (current + " " + sentence).trim().slice(0, TEXT_MAX);
    }
    if (current) items.push(current);
  }
  return items.slice(0, NEEDS_MAX);
}

function readProfile() {
  const form = $("intake");
  const profile = {};
  for (const name of FORM_FIELDS) {
    const raw = form.elements[name].value.trim();
    if (!raw) continue;
    if (NUMBER_FIELDS.has(name)) profile[name] = Number(raw);
    else if (name === "languages") profile.languages = raw.split(/[;,\s]+/).filter(Boolean).map((s) => s.toLowerCase());
    else if (name === "disability") profile.disability = raw === "true";
    else profile[name] = raw;
  }
  return Object.assign(profile, state.extras);
}

function fillProfile(profile) {
  const form = $("intake");
  state.extras = {};
  for (const name of FORM_FIELDS) form.elements[name].value = "";
  for (const [name, value] of Object.entries(profile || {})) {
    if (name === "needs") continue;
    if (FORM_FIELDS.includes(name)) {
      form.elements[name].value = Array.isArray(value) ? value.join("; ") : String(value);
    } else if (value !== null && typeof value !== "object") {
      state.extras[name] = value;
    }
  }
  renderExtras();
}

function renderExtras() {
  const list = $("answers-list");
  list.replaceChildren(...Object.entries(state.extras).map(([name, value]) => el("li", {},
    `${name}: ${value === true ? t("yes") : value === false ? t("no") : value} `,
    el("button", { type: "button", class: "small", "aria-label": `${t("remove")} ${name}`,
      onclick: () => { delete state.extras[name]; renderExtras(); } }, t("remove")))));
  $("answers").hidden = list.children.length === 0;
}

async function runIntake() {
  const form = $("intake");
  const needs = splitNeeds(form.elements.needs.value);
  const profile = readProfile();
  const k = Number(form.elements.k.value);
  const residentId = form.elements.resident_id.value.trim();
  if (!needs.length && !Object.keys(profile).length && !residentId) {
    showError(t("need_some_input"));
    say("");
    return;
  }
  // The form is the resident's profile now (an empty form, e.g. just an id typed in, changes nothing).
  if (residentId && Object.keys(profile).length) await saveProfile(residentId);
  // lang: the API writes its explanation sentences in the interface's language
  const body = residentId ? { resident_id: residentId, k, lang: state.lang } : { profile, k, lang: state.lang };
  if (needs.length) body.needs = needs;
  const answer = await api("POST", "/v1/recommendations", body);
  showResults($("intake-results"), answer, { mode: "intake", rerun: runIntake, answerQuestion: answerInIntake,
    record: recordFromIntake });
  say(t("results_meta", { n: answer.items.length, version: answer.model_version, mode: t(`mode_${answer.mode}`) }));
}

async function saveProfile(id, needCodes = null) {
  // Store the form as the resident's profile: fields the form does not show (needs, a city's own
  // fields) are kept from what was stored; a form field left empty is removed.
  let current = {};
  try {
    current = (await api("GET", `/v1/residents/${encodeURIComponent(id)}`)).profile;
  } catch (error) {
    if (!(error instanceof ApiError && error.status === 404)) throw error;
  }
  const profile = { ...current };
  for (const name of FORM_FIELDS) delete profile[name];
  Object.assign(profile, readProfile());
  if (needCodes && needCodes.length) profile.needs = needCodes;
  await api("PUT", `/v1/residents/${encodeURIComponent(id)}`, profile);
}

async function saveWalkIn(answer) {
  // A walk-in becomes a known resident the first time an action is recorded for them: the profile
  // (with the needs as matched to categories) is stored under a new id, so the event has a subject
  // and the next ranking takes it into account.
  const form = $("intake");
  let id = form.elements.resident_id.value.trim();
  if (!id) {
    const stamp = new Date().toISOString().slice(0, 10).replaceAll("-", "");
    const random = crypto.getRandomValues(new Uint32Array(1))[0].toString(16).padStart(8, "0");
    id = `W${stamp}-${random}`;
  }
  const codes = Object.values(answer.needs || {}).map((n) => n.need).filter(Boolean);
  await saveProfile(id, [...new Set(codes)]);
  form.elements.resident_id.value = id;
  return id;
}

function focusResults(containerId) {
  // After an action inside the results, the list is drawn anew: keyboard users continue from its top.
  const heading = document.querySelector(`#${containerId} h2`);
  if (heading) heading.focus();
}

async function recordFromIntake(item, event, answer) {
  const id = await saveWalkIn(answer);
  await postEvent(id, item, event);
  await runIntake();
  focusResults("intake-results");
  say(`${t("saved_resident", { id })} ${t("recorded", { event: t(`ev_${event}`), name: item.name })}`);
}

async function postEvent(residentId, item, event) {
  const random = crypto.getRandomValues(new Uint32Array(2));
  await api("POST", "/v1/events", { events: [{
    event_id: `console-${Date.now()}-${random[0].toString(16)}${random[1].toString(16)}`,
    resident_id: residentId, service_id: item.service_id, event, timestamp: Date.now() / 1000 }] });
}

function answerInIntake(field, value) {
  const form = $("intake");
  if (FORM_FIELDS.includes(field)) {
    form.elements[field].value = Array.isArray(value) ? value.join("; ") : String(value);
  } else {
    state.extras[field] = value;
    renderExtras();
  }
  // a stored resident's profile is saved with the answer by runIntake
  return runIntake().then(() => focusResults("intake-results"));
}

// ------------------------------------------------------------------------------------ results

function questionField(question) {
  for (const rule of state.questions) {
    if (new RegExp(rule.pattern, "i").test(question)) return rule;
  }
  return null;
}

function answerControl(question, rule, onAnswer, idBase) {
  const id = `${idBase}-${rule.field}`;
  let input;
  if (rule.kind === "bool" || Array.isArray(rule.kind)) {
    const options = rule.kind === "bool" ? [["true", t("yes")], ["false", t("no")]] : rule.kind.map((v) => [v, t(v)]);
    input = el("select", { id }, el("option", { value: "" }, "—"), options.map(([v, label]) => el("option", { value: v }, label)));
  } else {
    input = el("input", { id, type: rule.kind === "number" ? "number" : "text", step: "any", maxlength: "200" });
  }
  const form = el("form", { class: "answer", novalidate: true,
    onsubmit: (event) => {
      event.preventDefault();
      const raw = input.value.trim();
      if (!raw) { input.focus(); return; }
      let value = raw;
      if (rule.kind === "number") value = Number(raw);
      else if (rule.kind === "bool") value = raw === "true";
      else if (rule.kind === "languages") value = raw.split(/[;,\s]+/).filter(Boolean).map((s) => s.toLowerCase());
      guarded(() => onAnswer(rule.field, value));
    } },
    el("label", { for: id, class: "sr-only" }, t("answer_label", { q: question })),
    input, el("button", { type: "submit", class: "small" }, t("answer_rerank")));
  return form;
}

function distanceText(item) {
  // exact for caseworkers; a band ("1-3 km") where the API gives only that (the portal's view)
  if (typeof item.distance_km === "number") return t("distance", { km: item.distance_km.toFixed(1) });
  return item.distance_band ? t("distance_band", { band: item.distance_band }) : null;
}

function detailList(entries) {
  const dl = el("dl", { class: "details" });
  for (const [name, value] of entries) {
    if (value === null || value === undefined || value === "" || (Array.isArray(value) && !value.length)) continue;
    dl.append(el("dt", {}, fieldName(name)), el("dd", {}, formatValue(value)));
  }
  return dl.children.length ? dl : null;
}

function formatValue(value) {
  if (Array.isArray(value)) return value.map(formatValue).join("; ");
  if (value && typeof value === "object") {
    return Object.entries(value).map(([k, v]) => `${fieldName(k)}: ${formatValue(v)}`).join("; ");
  }
  if (value === true) return t("yes");
  if (value === false) return t("no");
  return String(value);
}

function suggestionCard(item, answer, options, index) {
  const idBase = `${options.mode}-${index}`;
  const badges = el("p", { class: "badges" },
    el("span", { class: `badge ${item.eligibility}` }, t(item.eligibility)),
    distanceText(item) ? el("span", { class: "badge" }, distanceText(item)) : null,
    el("span", { class: "badge" }, item.capacity === null || item.capacity === undefined ? t("capacity_unknown")
      : item.capacity === 0 ? t("capacity_full") : t("capacity", { n: item.capacity })));
  const card = el("li", { class: "card", "data-testid": "suggestion", "data-service-id": item.service_id,
    id: `${idBase}-card`, tabindex: "-1" },
    el("h3", {}, `${item.rank}. ${item.name}`),
    item.organization ? el("p", { class: "org" }, item.organization) : null,
    badges,
    item.needs && item.needs.length ? el("p", {}, el("strong", {}, `${t("answers")}: `), item.needs.join("; ")) : null,
    item.explanation ? el("p", { class: "explanation" }, item.explanation) : null);

  if (item.questions && item.questions.length) {
    const list = el("ul", { class: "questions" });
    for (const question of item.questions) {
      const rule = questionField(question);
      list.append(el("li", {}, el("span", {}, question),
        rule && options.answerQuestion ? answerControl(question, rule, options.answerQuestion, `${idBase}-q${list.children.length}`) : null));
    }
    card.append(el("h4", {}, t("questions")), list);
  }
  if (item.reasons && item.reasons.length) {
    card.append(el("details", {}, el("summary", {}, t("why_eligible")),
      el("ul", {}, item.reasons.map((r) => el("li", {}, r)))));
  }
  const before = detailList(Object.entries(item).filter(([name]) => !CARD_FIELDS.has(name)));
  if (before) card.append(el("h4", {}, t("before_refer")), before);

  const detailBox = el("div", { id: `${idBase}-details`, hidden: true });
  const detailButton = el("button", { type: "button", class: "small", "aria-expanded": "false",
    "aria-controls": `${idBase}-details`,
    onclick: () => guarded(async () => {
      const open = detailButton.getAttribute("aria-expanded") === "true";
      if (!open && !detailBox.children.length) {
        const service = await api("GET", `/v1/services/${encodeURIComponent(item.service_id)}`);
        detailBox.append(detailList(Object.entries(service).filter(([n]) => !DETAIL_SKIP.has(n))) || "—");
      }
      detailBox.hidden = open;
      detailButton.setAttribute("aria-expanded", String(!open));
      detailButton.textContent = open ? t("service_details") : t("hide_details");
      say("");
    }) }, t("service_details"));
  card.append(el("div", { class: "card-actions" }, detailButton), detailBox);

  const events = EVENTS_BY_ROLE[state.role] || [];
  if (options.record && events.length) {
    const group = el("div", { class: "record", role: "group", "aria-label": `${t("record")}: ${item.name}` },
      el("span", { class: "record-label" }, `${t("record")}:`),
      events.map((event) => el("button", { type: "button", class: `small ev-${event}`, "data-event": event,
        "aria-label": `${t(`ev_${event}`)}: ${item.name}`,
        onclick: () => guarded(() => options.record(item, event, answer)) }, t(`ev_${event}`))));
    card.append(group);
  }
  return card;
}

function needsSection(answer, options) {
  const entries = Object.entries(answer.needs || {});
  if (!entries.length) return null;
  const names = new Map(answer.items.map((item, i) => [item.service_id, [item.name, `${options.mode}-${i}-card`]]));
  const list = el("ul", { class: "needs-map" });
  for (const [words, need] of entries) {
    const label = need.path || need.need;
    const head = words !== need.need && words !== label ? `“${words}” → ${label}` : label;
    if (need.service_ids && need.service_ids.length) {
      list.append(el("li", { class: "answered" }, el("strong", {}, head), ` — ${t("need_answered_by")} `,
        need.service_ids.map((sid, i) => {
          const [name, anchor] = names.get(sid) || [sid, null];
          const link = anchor ? el("a", { href: `#${anchor}`, onclick: (e) => { e.preventDefault(); $(anchor).focus(); } }, name) : name;
          return i ? [", ", link] : [link];
        })));
    } else {
      list.append(el("li", { class: "unanswered" }, el("strong", {}, head),
        ` — ${t("need_not_answered")}${need.reason ? `: ${need.reason}` : ""}`));
    }
  }
  return el("section", { "aria-label": t("needs_title") }, el("h3", {}, t("needs_title")), list);
}

function showResults(container, answer, options) {
  const render = () => {
    const heading = el("h2", { tabindex: "-1" }, t("results_title"));
    fill(container, heading,
      el("p", { class: "meta" }, t("results_meta", { n: answer.items.length, version: answer.model_version,
        mode: t(`mode_${answer.mode}`) })),
      needsSection(answer, options),
      answer.items.length ? el("ol", { class: "cards" }, answer.items.map((item, i) => suggestionCard(item, answer, options, i)))
        : el("p", {}, t("no_results")));
  };
  render();
  state.renders.set(container.id, render);
}

// ------------------------------------------------------------------------------------ resident

async function openResident(id) {
  const [profile, history] = await Promise.all([
    api("GET", `/v1/residents/${encodeURIComponent(id)}`),
    api("GET", `/v1/residents/${encodeURIComponent(id)}/events`),
  ]);
  const detail = $("resident-detail");
  const rows = history.events.map((e) => el("tr", {},
    el("td", {}, new Date(e.timestamp * 1000).toLocaleString(state.lang === "zh" ? "zh-CN" : "en-GB")),
    el("td", {}, e.name || e.service_id), el("td", {}, t(`ev_${e.event}`) === `ev_${e.event}` ? e.event : t(`ev_${e.event}`))));
  fill(detail,
    el("h3", {}, `${t("profile_title")}: ${id}`),
    el("p", { class: "meta" }, t(`profile_source_${profile.source}`)),
    detailList(Object.entries(profile.profile)) || el("p", {}, "—"),
    el("button", { type: "button", onclick: () => {
      fillProfile(profile.profile);
      $("intake").elements.resident_id.value = id;
      $("intake").elements.needs.value = (profile.profile.needs || []).join("\n");
      showView("intake");
      $("f-age").focus();
    } }, t("edit_in_intake")),
    el("h3", {}, t("history_title")),
    rows.length ? el("table", {}, el("thead", {}, el("tr", {}, el("th", { scope: "col" }, t("when")),
      el("th", { scope: "col" }, t("service")), el("th", { scope: "col" }, t("event")))), el("tbody", {}, rows))
      : el("p", {}, t("history_empty")),
    history.training_history.length ? el("p", {}, el("strong", {}, `${t("trained_history")}: `),
      history.training_history.map((s) => s.name || s.service_id).join("; ")) : null);
  const rerank = async () => {
    const answer = await api("POST", "/v1/recommendations", { resident_id: id, k: 10, lang: state.lang });
    showResults($("resident-results"), answer, { mode: "resident", rerun: rerank,
      answerQuestion: async (field, value) => {
        const current = (await api("GET", `/v1/residents/${encodeURIComponent(id)}`)).profile;
        current[field] = value;
        await api("PUT", `/v1/residents/${encodeURIComponent(id)}`, current);
        await openResident(id);
        focusResults("resident-results");
      },
      record: async (item, event) => {
        await postEvent(id, item, event);
        await openResident(id);
        focusResults("resident-results");
        say(t("recorded", { event: t(`ev_${event}`), name: item.name }));
      } });
  };
  await rerank();
  say("");
}

// ------------------------------------------------------------------------------------ portal, models

async function showPortal(id) {
  const answer = await api("GET", `/v1/residents/${encodeURIComponent(id)}/recommendations?k=10`);
  const box = $("portal-results");
  fill(box, answer.items.length ? el("ol", { class: "portal-list" }, answer.items.map((item) =>
    el("li", { "data-testid": "portal-item" }, el("strong", {}, item.name),
      item.organization ? el("span", { class: "org" }, ` — ${item.organization}`) : null,
      distanceText(item) ? el("span", { class: "muted" }, ` · ${distanceText(item)}`) : null)))
    : el("p", {}, t("portal_empty")));
  say("");
}

async function loadModels() {
  const [info, report] = await Promise.all([api("GET", "/v1/model"), api("GET", "/v1/model/report")]);
  $("model-summary").textContent = t("model_summary", { version: info.version,
    trained: (info.trained_at || "?").slice(0, 16).replace("T", " "), services: info.services });
  const frame = $("report");
  frame.srcdoc = report;  // sandboxed, no scripts: the report is static HTML and SVG
  frame.hidden = false;
  const link = $("report-download");
  if (link.href.startsWith("blob:")) URL.revokeObjectURL(link.href);
  link.href = URL.createObjectURL(new Blob([report], { type: "text/html" }));
  link.hidden = false;
  say("");
}

// ------------------------------------------------------------------------------------ start

async function loadData() {
  const [strings, questions] = await Promise.all([
    fetch("/console/static/strings.json").then((r) => r.json()),
    fetch("/console/static/questions.json").then((r) => r.json()),
  ]);
  state.strings = strings;
  state.questions = questions.fields;
}

async function start() {
  await loadData();
  const saved = localStorage.getItem(LANG_STORE);
  state.lang = saved || ((navigator.language || "").toLowerCase().startsWith("zh") ? "zh" : "en");
  applyLanguage();
  $("lang").addEventListener("click", () => {
    state.lang = state.lang === "zh" ? "en" : "zh";
    localStorage.setItem(LANG_STORE, state.lang);
    applyLanguage();
  });
  $("signin").addEventListener("submit", (event) => {
    event.preventDefault();
    const key = $("api-key").value.trim();
    if (!key) { showError(t("err_key")); $("api-key").focus(); return; }
    guarded(() => signIn(key));
  });
  $("signout").addEventListener("click", () => signOut());
  for (const button of document.querySelectorAll("#views [data-view]")) {
    button.addEventListener("click", () => showView(button.dataset.view));
  }
  $("intake").addEventListener("submit", (event) => { event.preventDefault(); guarded(runIntake); });
  $("intake").addEventListener("reset", () => {
    state.extras = {};
    state.renders.delete("intake-results");
    renderExtras();
    $("intake-results").replaceChildren();
  });
  $("resident-form").addEventListener("submit", (event) => {
    event.preventDefault();
    const id = $("r-id").value.trim();
    if (id) guarded(() => openResident(id));
  });
  $("portal-form").addEventListener("submit", (event) => {
    event.preventDefault();
    const id = $("p-id").value.trim();
    if (id) guarded(() => showPortal(id));
  });
  const saved_key = sessionStorage.getItem(KEY_STORE);
  if (saved_key) await guarded(() => signIn(saved_key));
  else $("api-key").focus();
  document.body.dataset.ready = "true";  // for tests: handlers are attached
}

start();
