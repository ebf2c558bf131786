// The admin page: signs in with a bearer token, lists sections and edits them over
// /admin/api/, offering only what the token's scopes allow, with who reads them and how ready
// their partner feeds are. No framework and no build step. Data from the server only ever
// reaches the page as textContent or attributes, never as HTML, so a section title cannot
// inject markup.
"use strict";

(function () {
  // sessionStorage, not localStorage: the token goes away with the tab.
  const TOKEN_KEY = "pressfeed.admin.token";
  const FIELDS = ["slug", "title", "description", "link", "include", "tags", "exclude_tags",
    "limit", "content", "schedule", "max_age", "enabled"];
  const LISTS = ["include", "tags", "exclude_tags"];
  const NUMBERS = ["limit", "max_age"];
  const DEFAULTS = { limit: 50, max_age: 300, schedule: "0 */5 * * * *", content: "full", enabled: true };

  const $ = (id) => document.getElementById(id);
  const input = (name) => $("f-" + name);

  // What the editor holds: the slug being edited (null for a new section) and the ETag
  // it was loaded with, sent back as If-Match so a concurrent edit is never overwritten.
  let editing = null;
  let etag = null;
  // The signed-in token's scopes, from /admin/api/whoami: the page offers only what they
  // allow, as the server would answer anything else with 403.
  let scopes = null;
  let scheduleTimer = null;
  let scheduleSeq = 0;
  let previewSeq = 0;

  class ApiOff extends Error {}
  class SignedOut extends Error {}

  function token() { return sessionStorage.getItem(TOKEN_KEY); }

  function may(scope) { return scopes.includes(scope) || scopes.includes("admin"); }

  async function api(method, path, body, headers) {
    const init = { method, headers: Object.assign({ Authorization: "Bearer " + token() }, headers || {}), cache: "no-store" };
    if (body !== undefined) {
      init.headers["Content-Type"] = "application/json";
      init.body = JSON.stringify(body);
    }
    const res = await fetch("/admin/api/" + path, init);
    const type = res.headers.get("Content-Type") || "";
    // The API answers JSON; a plain 404 means it is not on at all.
    if (res.status === 404 && !type.startsWith("application/json")) throw new ApiOff();
    if (res.status === 401) {
      signOut("Your token was not accepted. Sign in again.");
      throw new SignedOut();
    }
    const json = type.startsWith("application/json") ? await res.json() : null;
    return { status: res.status, json, etag: res.headers.get("ETag") };
  }

  function show(id) {
    for (const s of ["off", "signin", "list", "editor"]) $(s).hidden = s !== id;
    $("signout").hidden = !token() || id === "off";
  }

  function notice(text, bad) {
    const n = $("notice");
    n.textContent = text;
    n.className = bad ? "bad" : "";
    n.hidden = !text;
  }

  function when(s) {
    if (!s) return "—";
    const d = new Date(s);
    return isNaN(d) ? s : d.toLocaleString(undefined, { dateStyle: "medium", timeStyle: "short" });
  }

  function el(tag, props, ...children) {
    const e = document.createElement(tag);
    Object.assign(e, props || {});
    for (const c of children) if (c !== null && c !== undefined) e.append(c);
    return e;
  }

  // ---- signing in and out

  async function start() {
    if (token()) return showList();
    // Unauthenticated, the API answers 401 when on and a plain 404 when off.
    try {
      const res = await fetch("/admin/api/sections", { cache: "no-store" });
      const type = res.headers.get("Content-Type") || "";
      if (res.status === 404 && !type.startsWith("application/json")) return show("off");
    } catch (e) {
      notice("The server cannot be reached: " + e.message, true);
    }
    show("signin");
    $("token").focus();
  }

  function signOut(message) {
    sessionStorage.removeItem(TOKEN_KEY);
    scopes = null;
    editing = null;
    etag = null;
    notice(message || "", Boolean(message));
    $("token").value = "";
    show("signin");
    $("token").focus();
  }

  $("signin-form").addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const value = $("token").value.trim();
    setError("token", value ? "" : "Enter the admin token.");
    if (!value) return $("token").focus();
    sessionStorage.setItem(TOKEN_KEY, value);
    notice("");
    await showList();
  });

  $("signout").addEventListener("click", () => signOut("Signed out."));

  // ---- the list

  async function showList(message) {
    let res;
    try {
      res = await api("GET", "sections");
    } catch (e) {
      if (e instanceof ApiOff) return show("off");
      if (!(e instanceof SignedOut)) notice("Loading the sections failed: " + e.message, true);
      return;
    }
    if (res.status !== 200) return notice(errorMessage(res), true);
    if (scopes === null) {
      let who;
      try {
        who = await api("GET", "whoami");
      } catch (e) {
        return;
      }
      // Not knowing, offer nothing: a read-only list is safer than buttons that answer 403.
      scopes = who.status === 200 ? who.json.scopes : [];
    }
    editing = null;
    notice(message || "");
    $("new").hidden = !may("sections");
    $("list-readonly").hidden = may("sections");
    const body = $("sections").tBodies[0];
    body.replaceChildren(...res.json.sections.map(row));
    $("list-empty").hidden = res.json.sections.length > 0;
    $("sections").hidden = res.json.sections.length === 0;
    show("list");
    $("list-title").focus();
    showReaders();
    showPartners(res.json.sections);
  }

  // ---- who reads the feeds

  async function showReaders() {
    $("readers").hidden = !may("sections");
    if (!may("sections")) return;
    let res;
    try {
      res = await api("GET", "readers");
    } catch (e) {
      return;
    }
    $("readers-error").textContent = res.status === 200 ? "" : errorMessage(res);
    $("readers-list").replaceChildren(...(res.status === 200 ? res.json.sections.map(readersOf) : []));
  }

  function percent(part, whole) {
    return whole > 0 ? Math.round((100 * part) / whole) + "%" : "—";
  }

  function readersOf(s) {
    const chart = el("img", { width: 360, height: 120,
      alt: s.section + ": subscribers per day over the last " + s.daily.length + " days" });
    drawChart(chart, s.section);
    const aggregators = Object.entries(s.aggregators).sort((a, b) => b[1] - a[1])
      .map(([name, n]) => el("li", { textContent: name + ": " + n }));
    const polls = Object.values(s.clients).reduce((sum, c) => sum + c.polls, 0);
    const clients = Object.entries(s.clients).sort((a, b) => b[1].polls - a[1].polls)
      .map(([name, c]) => el("li", { textContent: name + ": " + percent(c.polls, polls) +
        " of polls, " + percent(c.not_modified, c.polls) + " answered “not modified”" }));
    return el("article", { className: "reader" },
      el("h3", { textContent: s.section + ": " + s.subscribers + " subscribers" }),
      chart,
      el("h4", { textContent: "Subscribers by aggregator" }),
      aggregators.length ? el("ul", {}, ...aggregators) : el("p", { className: "hint", textContent: "None announced yet." }),
      el("h4", { textContent: "Polls by client (" + polls + " in " + s.daily.length + " days)" }),
      clients.length ? el("ul", {}, ...clients) : el("p", { className: "hint", textContent: "No polls yet." }));
  }

  // The chart is drawn by the server; it needs the token, so it is fetched here and shown as
  // an image, in which nothing runs.
  async function drawChart(img, slug) {
    try {
      const res = await fetch("/admin/api/readers/" + encodeURIComponent(slug) + ".svg",
        { headers: { Authorization: "Bearer " + token() }, cache: "no-store" });
      if (res.ok) img.src = "data:image/svg+xml;charset=utf-8," + encodeURIComponent(await res.text());
    } catch (e) {
      // The figures beside it still say it all.
    }
  }

  // ---- the partner feeds: ready or not, and why

  const PARTNERS = { flipboard: "Flipboard", smartnews: "SmartNews", msn: "MSN",
    "google-news": "Google News", feedly: "Feedly" };

  async function showPartners(sections) {
    $("partners").hidden = !may("sections");
    if (!may("sections")) return;
    let res;
    try {
      res = await api("GET", "lint");
    } catch (e) {
      return;
    }
    const ok = res.status === 200;
    $("partners-error").textContent = ok ? "" : errorMessage(res);
    const report = ok ? res.json : { feeds: [], problems: [] };
    const ofFeed = (f, p) => p.partner === f.partner && p.section === f.section;
    const titles = new Map(sections.map((entry) => [entry.section.slug, entry.section.title]));
    const bySection = new Map();
    for (const f of report.feeds) {
      if (!bySection.has(f.section)) {
        const title = titles.has(f.section) ? titles.get(f.section) + " (" + f.section + ")" : f.section;
        bySection.set(f.section, [el("h3", { textContent: title })]);
      }
      bySection.get(f.section).push(partnerFeed(f, report.problems.filter((p) => ofFeed(f, p))));
    }
    $("partners-list").replaceChildren(...[...bySection.values()]
      .map((children) => el("div", { className: "partner-section" }, ...children)));
    // Feedly's problems are the site's, not a feed's: shown once, with any of a partner's
    // settings naming a section that no feed is made for.
    const apart = report.problems.filter((p) => !report.feeds.some((f) => ofFeed(f, p)));
    $("partners-site").hidden = apart.length === 0;
    $("partners-site-problems").replaceChildren(...(apart.length ? [problemTable(apart)] : []));
    const ready = report.feeds.filter((f) => f.errors === 0).length;
    $("partners-summary").textContent = ok && report.feeds.length
      ? ready + " of " + count(report.feeds.length, "partner feed") + " ready; " +
        count(report.errors, "error") + " and " + count(report.warnings, "warning") + " in all."
      : "";
    $("partners-none").hidden = !ok || report.feeds.length > 0;
  }

  function count(n, what) {
    return n + " " + what + (n === 1 ? "" : "s");
  }

  // Only web addresses become links, so a javascript: URL in the data cannot run. They open
  // in a new tab, leaving the page as it was.
  function link(href, text, className) {
    if (!href || !/^https?:\/\//i.test(href)) return el("span", { className: className || "", textContent: text });
    const a = el("a", { href, textContent: text, className: className || "", target: "_blank" });
    a.rel = "noopener noreferrer";
    return a;
  }

  // A feed's row: its partner, its state, its URL; opened, its problems.
  function partnerFeed(f, problems) {
    let state = ["ready", "Ready"];
    if (f.errors > 0) {
      state = ["errors", count(f.errors, "error") + (f.warnings ? ", " + count(f.warnings, "warning") : "")];
    } else if (f.warnings > 0) {
      state = ["warnings", "Ready, " + count(f.warnings, "warning")];
    }
    const head = [
      el("span", { className: "partner-name", textContent: PARTNERS[f.partner] || f.partner }),
      el("span", { className: "status " + state[0], textContent: state[1] }),
      link(f.url, f.url, "feed-url"),
    ];
    const feed = problems.length
      ? el("details", { className: "partner-feed" }, el("summary", {}, ...head), problemTable(problems))
      : el("div", { className: "partner-feed" }, el("div", { className: "feed-row" }, ...head));
    feed.dataset.partner = f.partner;
    feed.dataset.section = f.section;
    return feed;
  }

  function problemTable(problems) {
    const cell = (label, ...children) => {
      const td = el("td", {}, ...children);
      td.dataset.label = label;
      return td;
    };
    const rows = problems.map((p) => el("tr", { className: p.severity },
      cell("Severity", el("span", { className: "severity " + p.severity, textContent: p.severity })),
      cell("Rule", link(p.source, p.rule)),
      cell("Found", p.found, p.left_out ? el("span", { className: "badge", textContent: "left out" }) : null),
      cell("Article", p.item ? link(p.url, p.item, "article") : "—")));
    const head = ["Severity", "Rule", "Found", "Article"].map((h) => el("th", { scope: "col", textContent: h }));
    return el("table", { className: "problems" }, el("thead", {}, el("tr", {}, ...head)), el("tbody", {}, ...rows));
  }

  function row(entry) {
    const s = entry.section;
    const name = el("td", {},
      el("strong", { textContent: s.title }),
      s.enabled ? null : el("span", { className: "badge", textContent: "disabled" }),
      el("span", { className: "slug", textContent: s.slug }));
    name.dataset.label = "Section";
    const feeds = el("td", { className: "feeds" });
    feeds.dataset.label = "Feeds";
    for (const f of entry.feeds) {
      feeds.append(el("a", { href: f.path, textContent: f.format.toUpperCase(), title: f.url }));
    }
    const cell = (label, text, className) => {
      const td = el("td", { textContent: text, className: className || "" });
      td.dataset.label = label;
      return td;
    };
    let edit = null;
    if (may("sections")) {
      edit = el("button", { type: "button", className: "quiet", textContent: "Edit" });
      edit.setAttribute("aria-label", "Edit " + s.title);
      edit.addEventListener("click", () => openEditor(s.slug));
    }
    const tr = el("tr", {}, name, feeds,
      cell("Items", entry.items === null || entry.items === undefined ? "—" : String(entry.items), "num"),
      cell("Feed updated", when(entry.feed_modified)),
      cell("Last change", when(entry.changed)),
      el("td", {}, edit));
    tr.dataset.slug = s.slug;
    return tr;
  }

  $("new").addEventListener("click", () => openEditor(null));
  $("back").addEventListener("click", () => showList());
  $("cancel").addEventListener("click", () => showList());

  // ---- the editor

  async function openEditor(slug) {
    clearErrors();
    notice("");
    $("conflict").hidden = true;
    $("confirm-delete").hidden = true;
    let section = DEFAULTS;
    etag = null;
    if (slug) {
      let res;
      try {
        res = await api("GET", "sections/" + encodeURIComponent(slug));
      } catch (e) {
        if (e instanceof ApiOff) return show("off");
        return;
      }
      if (res.status !== 200) return notice(errorMessage(res), true);
      section = res.json;
      etag = res.etag;
    }
    editing = slug;
    fill(section);
    input("slug").readOnly = Boolean(slug);
    $("delete").hidden = !slug;
    $("editor-title").textContent = slug ? "Edit “" + section.title + "”" : "New section";
    show("editor");
    $("editor-title").focus();
    checkSchedule();
    preview(slug, "before");
  }

  function fill(section) {
    for (const name of FIELDS) {
      const value = section[name] === undefined ? DEFAULTS[name] : section[name];
      const field = input(name);
      if (name === "enabled") field.checked = value !== false;
      else if (LISTS.includes(name)) field.value = (value || []).join(", ");
      else field.value = value === undefined || value === null ? "" : String(value);
    }
  }

  function collect() {
    const out = {};
    for (const name of FIELDS) {
      const field = input(name);
      if (name === "enabled") out[name] = field.checked;
      else if (LISTS.includes(name)) out[name] = field.value.split(",").map((v) => v.trim()).filter(Boolean);
      else if (NUMBERS.includes(name)) out[name] = field.value.trim() === "" ? null : Number(field.value);
      else out[name] = field.value.trim();
    }
    return out;
  }

  function setError(name, message) {
    const field = name === "token" ? $("token") : input(name);
    const error = $((name === "token" ? "token" : "f-" + name) + "-error");
    if (!field || !error) return false;
    error.textContent = message || "";
    if (message) field.setAttribute("aria-invalid", "true");
    else field.removeAttribute("aria-invalid");
    return true;
  }

  function clearErrors() {
    for (const name of FIELDS) setError(name, "");
    $("form-error").textContent = "";
  }

  // What can be told without the server, from the field's own constraints.
  function localError(name) {
    const field = input(name);
    const v = field.validity;
    if (!v || v.valid) {
      if (name === "link" && field.value && !/^https?:\/\//i.test(field.value.trim())) {
        return "Start the address with https:// or http://.";
      }
      return "";
    }
    if (v.valueMissing) return "This field is required.";
    if (name === "slug" && v.patternMismatch) return "Use lowercase letters, digits and “-”, starting with a letter or digit.";
    if (v.typeMismatch) return "Enter a full web address, such as https://news.example/world/.";
    if (v.rangeUnderflow) return "The smallest value is " + field.min + ".";
    if (v.rangeOverflow) return "The largest value is " + field.max + ".";
    if (v.stepMismatch || v.badInput) return "Enter a whole number.";
    return field.validationMessage;
  }

  for (const name of FIELDS) {
    if (name === "schedule" || name === "enabled") continue;
    const field = input(name);
    field.addEventListener("input", () => setError(name, localError(name)));
  }
  input("schedule").addEventListener("input", () => {
    clearTimeout(scheduleTimer);
    scheduleTimer = setTimeout(checkSchedule, 300);
  });

  // The next run times come from the server, which reads cron exactly as the scheduler does.
  async function checkSchedule() {
    const seq = ++scheduleSeq;
    const text = input("schedule").value.trim();
    if (!text) {
      $("f-schedule-next").textContent = "";
      return setError("schedule", "This field is required.");
    }
    let res;
    try {
      res = await api("GET", "schedule?cron=" + encodeURIComponent(text));
    } catch (e) {
      return;
    }
    if (seq !== scheduleSeq) return;
    if (res.status === 200) {
      setError("schedule", "");
      $("f-schedule-next").textContent = res.json.next.length
        ? "Next runs: " + res.json.next.map(when).join(" · ")
        : "This schedule never runs again.";
    } else {
      $("f-schedule-next").textContent = "";
      setError("schedule", errorMessage(res));
    }
  }

  $("form").addEventListener("submit", async (ev) => {
    ev.preventDefault();
    clearErrors();
    notice("");
    $("conflict").hidden = true;
    let first = null;
    for (const name of FIELDS) {
      if (name === "schedule" || name === "enabled") continue;
      const message = localError(name);
      if (message) {
        setError(name, message);
        first = first || input(name);
      }
    }
    if (first) return first.focus();
    const section = collect();
    const save = $("save");
    save.disabled = true;
    const feedBefore = await feedTag(section.slug);
    let res;
    try {
      res = editing
        ? await api("PUT", "sections/" + encodeURIComponent(editing), section, etag ? { "If-Match": etag } : {})
        : await api("POST", "sections", section);
    } catch (e) {
      if (e instanceof ApiOff) show("off");
      return;
    } finally {
      save.disabled = false;
    }
    if (res.status === 200 || res.status === 201) {
      editing = res.json.slug;
      etag = res.etag;
      fill(res.json);
      input("slug").readOnly = true;
      $("delete").hidden = false;
      $("editor-title").textContent = "Edit “" + res.json.title + "”";
      notice("Saved “" + res.json.title + "”. The feed is rebuilt within a few seconds.");
      checkSchedule();
      preview(editing, "after", feedBefore);
    } else if (res.status === 412) {
      conflict();
    } else if (res.status === 409) {
      setError("slug", errorMessage(res)) && input("slug").focus();
    } else {
      showServerError(res);
    }
  });

  function showServerError(res) {
    const err = (res.json && res.json.error) || {};
    // `include[1]` belongs next to the `include` field.
    const name = (err.field || "").split(/[.[]/)[0];
    if (FIELDS.includes(name) && setError(name, err.message || errorMessage(res))) {
      input(name).focus();
    } else {
      $("form-error").textContent = errorMessage(res);
    }
  }

  function conflict() {
    $("conflict").hidden = false;
    $("reload").focus();
  }

  $("reload").addEventListener("click", () => openEditor(editing));

  $("delete").addEventListener("click", () => {
    $("confirm-delete").hidden = false;
    $("delete-no").focus();
  });
  $("delete-no").addEventListener("click", () => {
    $("confirm-delete").hidden = true;
    $("delete").focus();
  });
  $("delete-yes").addEventListener("click", async () => {
    $("confirm-delete").hidden = true;
    let res;
    try {
      res = await api("DELETE", "sections/" + encodeURIComponent(editing), undefined, etag ? { "If-Match": etag } : {});
    } catch (e) {
      if (e instanceof ApiOff) show("off");
      return;
    }
    if (res.status === 204) return showList("Deleted the section “" + editing + "”.");
    if (res.status === 412) return conflict();
    $("form-error").textContent = errorMessage(res);
  });

  function errorMessage(res) {
    if (res.json && res.json.error && res.json.error.message) return res.json.error.message;
    return "The server answered " + res.status + ".";
  }

  // ---- the feed preview, from the section's JSON Feed as readers get it

  async function feedTag(slug) {
    if (!slug) return null;
    try {
      const res = await fetch("/feeds/" + encodeURIComponent(slug) + ".json", { method: "HEAD", cache: "no-store" });
      return res.ok ? res.headers.get("ETag") : null;
    } catch (e) {
      return null;
    }
  }

  async function preview(slug, moment, before) {
    const seq = ++previewSeq;
    const status = $("preview-status");
    const items = $("preview-items");
    items.replaceChildren();
    if (!slug) {
      status.textContent = "A new section has no feed yet. Save it to build one.";
      return;
    }
    const enabled = input("enabled").checked;
    // After a save the feed is rebuilt in the background: wait (briefly) for new bytes.
    const deadline = Date.now() + (moment === "after" ? 8000 : 0);
    let res;
    for (;;) {
      try {
        res = await fetch("/feeds/" + encodeURIComponent(slug) + ".json", { cache: "no-store" });
      } catch (e) {
        status.textContent = "The feed could not be loaded: " + e.message;
        return;
      }
      if (seq !== previewSeq) return;
      const changed = res.ok && res.headers.get("ETag") !== before;
      const settled = enabled ? changed : !res.ok;
      if (settled || Date.now() >= deadline) break;
      await new Promise((r) => setTimeout(r, 400));
      if (seq !== previewSeq) return;
    }
    if (!res.ok) {
      status.textContent = enabled
        ? "No feed is served yet (" + res.status + ")."
        : "This section is disabled: it serves no feed.";
      return;
    }
    const feed = await res.json();
    if (seq !== previewSeq) return;
    const list = (feed.items || []).slice(0, 10);
    status.textContent = (moment === "after" ? "After saving: " : "As served now: ") +
      (feed.items || []).length + " items" + (list.length < (feed.items || []).length ? ", the newest 10 shown." : ".");
    items.replaceChildren(...list.map(previewItem));
  }

  function previewItem(item) {
    const video = (item.attachments || []).some((a) => /^video\//.test(a.mime_type || "") || a.mime_type === "text/html");
    const thumb = el("div", { className: "thumb" });
    if (item.image && /^(https:|\/)/.test(item.image)) {
      const img = el("img", { src: item.image, alt: "", loading: "lazy", referrerPolicy: "no-referrer" });
      // An image host out of reach (offline, blocked) leaves the grey box, not a broken icon.
      img.addEventListener("error", () => img.classList.add("broken"));
      thumb.append(img);
    }
    if (video) thumb.append(el("span", { className: "play", textContent: "▶ video" }));
    const link = el("a", { href: item.url || "#", textContent: item.title || item.summary || "(untitled)" });
    link.rel = "noopener noreferrer";
    return el("li", {}, thumb, el("div", {}, link,
      el("time", { dateTime: item.date_published || "", textContent: when(item.date_published) })));
  }

  start();
})();
