// Drives headless Chromium through the admin page against a running pressfeed: sign in,
// create a section (a bad cron first), see its feed, a conflicting edit from a second
// session, delete; who reads the feeds, with a chart per section; how ready each partner
// feed is, with its problems and the articles they concern; and a token that may only push
// articles sees no way to edit, no readership and no partner feeds. Run by
// tests/admin_page.rs, which starts the server and passes PRESSFEED_URL, PRESSFEED_TOKEN,
// PRESSFEED_ARTICLES_TOKEN and OUT_DIR (where the screenshots go).
import { chromium } from "playwright-core";
import assert from "node:assert/strict";
import path from "node:path";

const base = process.env.PRESSFEED_URL;
const token = process.env.PRESSFEED_TOKEN;
const articlesToken = process.env.PRESSFEED_ARTICLES_TOKEN;
const out = process.env.OUT_DIR;
assert.ok(base && token && articlesToken && out,
  "PRESSFEED_URL, PRESSFEED_TOKEN, PRESSFEED_ARTICLES_TOKEN and OUT_DIR must be set");
const TIMEOUT = 15000;

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
  args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync"],
});

// Every page is watched for CSP violations and script errors: either fails the test.
const problems = [];
async function session(viewport) {
  const context = await browser.newContext({ viewport: viewport || { width: 1280, height: 900 } });
  const page = await context.newPage();
  page.setDefaultTimeout(TIMEOUT);
  page.on("pageerror", (e) => problems.push("page error: " + e.message));
  page.on("console", (m) => {
    if (m.type() === "error" && /Content.Security.Policy|Refused to/i.test(m.text())) problems.push(m.text());
  });
  return { context, page };
}

async function signIn(page, as) {
  await page.goto(base + "/admin/");
  await page.getByLabel("Admin token").fill(as || token);
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.locator("#list").waitFor();
}

async function text(page, selector) {
  return (await page.locator(selector).textContent()) || "";
}

async function waitForText(page, selector, pattern) {
  await page.waitForFunction(
    ([s, p]) => new RegExp(p).test(document.querySelector(s)?.textContent || ""),
    [selector, pattern.source], { timeout: TIMEOUT });
}

async function status(url, method) {
  const res = await fetch(base + url, { method: method || "GET" });
  return res.status;
}

function count(n, what) {
  return n + " " + what + (n === 1 ? "" : "s");
}

async function eventually(what, check) {
  const deadline = Date.now() + TIMEOUT;
  while (!(await check())) {
    assert.ok(Date.now() < deadline, "timed out waiting for " + what);
    await new Promise((r) => setTimeout(r, 200));
  }
}

// The partner feeds' report as the API gives it to the editor's token.
async function lint(as) {
  const res = await fetch(base + "/admin/api/lint", { headers: { Authorization: "Bearer " + (as || token) } });
  return { status: res.status, json: res.status === 200 ? await res.json() : null };
}

const shot = (page, name) => page.screenshot({ path: path.join(out, name), fullPage: true });

try {
  // A wrong token is refused at the token field.
  const a = await session();
  await a.page.goto(base + "/admin/");
  await a.page.getByLabel("Admin token").fill("not-the-token-at-all");
  await a.page.getByRole("button", { name: "Sign in" }).click();
  await waitForText(a.page, "#notice", /not accepted/);

  // The page shows the lint of the last builds: wait for the world section's.
  await eventually("the partner feeds' problems", async () =>
    ((await lint()).json?.problems || []).some((p) => p.section === "world" && p.item));
  const report = (await lint()).json;

  await signIn(a.page);
  await a.page.locator('tr[data-slug="world"]').waitFor();
  const world = await text(a.page, 'tr[data-slug="world"]');
  assert.match(world, /world title/);
  assert.match(world, /RSS/);
  // Who reads the feeds: a card per section, its chart drawn by the server and shown as an
  // image (a CSP violation would be among the problems).
  await a.page.locator("#readers article.reader").first().waitFor();
  await a.page.waitForFunction(
    () => (document.querySelector("#readers img")?.src || "").startsWith("data:image/svg+xml"));
  assert.match(await text(a.page, "#readers"), /world: \d+ subscribers/);

  // Partner feeds: a row per feed the report lists, each with its state and URL.
  const flipboard = a.page.locator('#partners .partner-feed[data-partner="flipboard"][data-section="world"]');
  await flipboard.waitFor();
  assert.equal(await a.page.locator("#partners .partner-feed").count(), report.feeds.length);
  assert.ok(await a.page.locator('#partners .partner-feed[data-partner="msn"][data-section="world"]').count());
  const feed = report.feeds.find((f) => f.partner === "flipboard" && f.section === "world");
  assert.ok(feed, "flipboard's world feed in the report: " + JSON.stringify(report.feeds));
  const state = feed.errors ? "errors" : feed.warnings ? "warnings" : "ready";
  assert.match(await flipboard.locator(".status").textContent(),
    feed.errors ? new RegExp("^" + feed.errors + " errors?") : /^Ready/);
  assert.equal(await flipboard.locator(".status." + state).count(), 1);
  assert.equal(await flipboard.locator(".feed-url").getAttribute("href"), feed.url);
  // Opened, its problems: the rule linked to the partner's page, what was found, and the
  // article linked to its URL.
  const problem = report.problems.find((p) =>
    p.partner === "flipboard" && p.section === "world" && p.item && /^https?:/.test(p.url || ""));
  assert.ok(problem, "a flipboard problem of an article: " + JSON.stringify(report.problems));
  const rows = flipboard.locator("table.problems tbody tr");
  assert.ok(await rows.first().isHidden(), "problems show when the feed is opened");
  await flipboard.locator(".partner-name").click();
  await rows.first().waitFor();
  assert.equal(await rows.count(),
    report.problems.filter((p) => p.partner === "flipboard" && p.section === "world").length);
  const row = rows.filter({ hasText: problem.found }).filter({ has: a.page.locator(`a[href="${problem.url}"]`) }).first();
  assert.equal(await row.locator("a.article").textContent(), problem.item);
  assert.equal(await row.getByRole("link", { name: problem.rule }).getAttribute("href"), problem.source);
  assert.match(await row.locator(".severity").textContent(), new RegExp("^" + problem.severity + "$"));
  // MSN refuses the demo's short bodies: red, with the articles it leaves out marked.
  const msn = a.page.locator('#partners .partner-feed[data-partner="msn"][data-section="world"]');
  const msnFeed = report.feeds.find((f) => f.partner === "msn" && f.section === "world");
  assert.ok(msnFeed.errors > 0, "MSN errors: " + JSON.stringify(msnFeed));
  assert.equal(await msn.locator(".status.errors").textContent(),
    count(msnFeed.errors, "error") + (msnFeed.warnings ? ", " + count(msnFeed.warnings, "warning") : ""));
  const leftOut = report.problems.find((p) => p.partner === "msn" && p.section === "world" && p.left_out && p.item);
  assert.ok(leftOut, "an article MSN leaves out");
  await msn.locator(".partner-name").click();
  const leftOutRow = msn.locator("table.problems tbody tr")
    .filter({ has: a.page.locator(`a.article[href="${leftOut.url}"]`) })
    .filter({ hasText: leftOut.found });
  assert.match(await leftOutRow.first().textContent(), /left out/);
  assert.equal(await leftOutRow.first().locator(".severity.error").count(), 1);
  // Feedly's settings are the site's: once, apart from the feeds.
  const feedly = report.problems.filter((p) => p.partner === "feedly" && p.section === null);
  assert.ok(feedly.length > 0, "Feedly's settings lack a cover");
  assert.equal(await a.page.locator("#partners-site tbody tr").count(), feedly.length);
  assert.equal(await a.page.locator("#partners-list").getByText("feedly/cover").count(), 0);
  await a.page.locator("#partners").screenshot({ path: path.join(out, "admin-partners.png") });
  await shot(a.page, "admin-list.png");

  // A new section; a 5-field cron is caught as it is typed and again by the server on save.
  await a.page.getByRole("button", { name: "New section" }).click();
  await a.page.getByLabel("Slug").fill("Sports");
  await waitForText(a.page, "#f-slug-error", /lowercase/);
  await a.page.getByLabel("Slug").fill("sports");
  await a.page.getByLabel("Title", { exact: true }).fill("Sports");
  await a.page.getByLabel("Description").fill("Matches, results and transfers");
  await a.page.getByLabel("Page on the site").fill("https://news.example/sports/");
  await a.page.getByLabel("Article sections").fill("world");
  await a.page.getByLabel("Rebuild schedule").fill("*/5 * * * *");
  await waitForText(a.page, "#f-schedule-error", /5 fields.*seconds first/);
  assert.equal(await a.page.getByLabel("Rebuild schedule").getAttribute("aria-invalid"), "true");
  await a.page.getByRole("button", { name: "Save" }).click();
  await waitForText(a.page, "#f-schedule-error", /seconds first/);
  assert.equal(await status("/admin/api/sections/sports"), 401, "API needs a token");
  await shot(a.page, "admin-form-error.png");

  await a.page.getByLabel("Rebuild schedule").fill("0 */5 * * * *");
  await waitForText(a.page, "#f-schedule-next", /Next runs: .+ · .+ · .+/);
  assert.equal(await text(a.page, "#f-schedule-error"), "");
  await a.page.getByRole("button", { name: "Save" }).click();
  await waitForText(a.page, "#notice", /Saved “Sports”/);
  await eventually("the sports feed", async () => (await status("/feeds/sports.rss")) === 200);
  // The preview shows the new feed's newest items, with thumbnails.
  await waitForText(a.page, "#preview-status", /After saving: \d+ items/);
  assert.ok((await a.page.locator("#preview-items li").count()) > 0, "preview items");
  assert.ok((await a.page.locator("#preview-items img").count()) > 0, "preview images");
  await shot(a.page, "admin-form.png");

  // A second admin saves first; the first one's save is refused with the conflict message.
  const b = await session();
  await signIn(b.page);
  await b.page.locator('tr[data-slug="sports"]').getByRole("button", { name: "Edit Sports" }).click();
  await b.page.getByLabel("Title", { exact: true }).fill("Sports by B");
  await b.page.getByRole("button", { name: "Save" }).click();
  await waitForText(b.page, "#notice", /Saved “Sports by B”/);

  await a.page.getByLabel("Title", { exact: true }).fill("Sports by A");
  await a.page.getByRole("button", { name: "Save" }).click();
  await a.page.locator("#conflict").waitFor();
  assert.match(await text(a.page, "#conflict"), /Someone else changed this section/);
  await shot(a.page, "admin-conflict.png");
  await a.page.getByRole("button", { name: "Reload the section" }).click();
  await a.page.waitForFunction(() => document.getElementById("f-title").value === "Sports by B");
  assert.ok(await a.page.locator("#conflict").isHidden());

  // Delete, confirmed; the feed then answers 410 Gone.
  await a.page.getByRole("button", { name: "Delete…" }).click();
  await a.page.getByRole("button", { name: "Yes, delete it" }).click();
  await waitForText(a.page, "#notice", /Deleted the section “sports”/);
  assert.equal(await a.page.locator('tr[data-slug="sports"]').count(), 0);
  await eventually("the sports feed to be gone", async () => (await status("/feeds/sports.rss")) === 410);

  // Readable on a phone.
  const phone = await session({ width: 390, height: 844 });
  await signIn(phone.page);
  await phone.page.locator('tr[data-slug="world"]').waitFor();
  await shot(phone.page, "admin-list-phone.png");

  // A CMS's token, scoped to articles, sees the sections but nothing to change them with.
  const cms = await session();
  await signIn(cms.page, articlesToken);
  await cms.page.locator('tr[data-slug="world"]').waitFor();
  assert.equal(await cms.page.getByRole("button", { name: "New section" }).count(), 0);
  assert.equal(await cms.page.getByRole("button", { name: /^Edit / }).count(), 0);
  assert.ok(await cms.page.locator("#list-readonly").isVisible(), "says why");
  assert.ok(await cms.page.locator("#readers").isHidden(), "readership is the editors'");
  assert.ok(await cms.page.locator("#partners").isHidden(), "so are the partner feeds");
  assert.equal((await lint(articlesToken)).status, 403);
  await shot(cms.page, "admin-list-articles-only.png");

  // Sign out forgets the token.
  await a.page.getByRole("button", { name: "Sign out" }).click();
  await a.page.locator("#signin").waitFor();
  assert.equal(await a.page.evaluate(() => sessionStorage.length), 0);

  assert.deepEqual(problems, []);
  console.log("admin page e2e: ok");
} catch (e) {
  console.error("problems seen:", problems);
  throw e;
} finally {
  await browser.close();
}
