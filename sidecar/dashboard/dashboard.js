// Portico status page: reads and changes the store through the admin API only, and follows it
// by polling the change history. No framework, nothing loaded from elsewhere.
"use strict";

(() => {
  const API = document.querySelector('meta[name="portico-admin-prefix"]').content;
  const TOKEN_KEY = "portico-admin-token";
  const POLL_MS = 1000;           // how often the change history is asked for news
  const ROUTES_EVERY_MS = 5000;   // check times move without a revision: re-read now and then
  const KEEP_CHANGES = 50;

  let revision = null;            // the store revision the routes on screen reflect
  let nextSince = null;           // where the next read of the history starts
  let lastRoutesAt = 0;
  let queue = Promise.resolve();  // polls run one after the other, never two at once
  let queued = false;
  const changes = [];             // newest first

  class Unauthorized extends Error {}

  const $ = (id) => document.getElementById(id);

  /** An element with attributes and children (strings become text: no HTML is ever parsed). */
  function el(tag, attrs = {}, ...children) {
    const node = document.createElement(tag);
    for (const [name, value] of Object.entries(attrs)) {
      if (value === undefined || value === null || value === false) continue;
      if (name === "class") node.className = value;
      else if (name.startsWith("on")) node.addEventListener(name.slice(2), value);
      else node.setAttribute(name, value === true ? "" : value);
    }
    for (const child of children) {
      if (child === undefined || child === null) continue;
      node.append(child instanceof Node ? child : String(child));
    }
    return node;
  }

  async function api(method, path, body, more = {}) {
    const headers = { ...more };
    const token = sessionStorage.getItem(TOKEN_KEY);
    if (token) headers.Authorization = "Bearer " + token;
    if (body !== undefined) headers["Content-Type"] = "application/json";
    const response = await fetch(API + path, {
      method,
      headers,
      cache: "no-store",
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    if (response.status === 401) throw new Unauthorized();
    const data = await response.json().catch(() => ({}));
    if (!response.ok) throw new Error(data.error || `${response.status} ${response.statusText}`);
    const etag = response.headers.get("ETag");
    return { data, revision: etag ? Number(etag.replaceAll('"', "")) : null };
  }

  // --- time ---------------------------------------------------------------------------------

  function ago(iso) {
    if (!iso) return "never";
    const seconds = Math.max(0, Math.round((Date.now() - Date.parse(iso)) / 1000));
    if (seconds < 60) return `${seconds}s ago`;
    if (seconds < 3600) return `${Math.floor(seconds / 60)}m ${seconds % 60}s ago`;
    if (seconds < 86400) return `${Math.floor(seconds / 3600)}h ${Math.floor((seconds % 3600) / 60)}m ago`;
    return `${Math.floor(seconds / 86400)}d ago`;
  }

  /** A cell whose "… ago" text the ticker keeps current. */
  function setSince(node, iso) {
    node.dataset.since = iso || "";
    node.textContent = ago(iso);
    node.title = iso || "";
  }

  function tick() {
    for (const node of document.querySelectorAll("[data-since]")) node.textContent = ago(node.dataset.since);
  }

  // --- routes -------------------------------------------------------------------------------

  function settingsText(route) {
    const h = route.healthCheck;
    const probe = h.type === "http" ? `http GET ${h.path}` : "tcp";
    const slow = h.slowStart && h.slowStart !== "0ms" ? ` · slow start ${h.slowStart}` : "";
    return `${route.balancer} · ${probe} every ${h.interval}, timeout ${h.timeout}, fall ${h.fall}, rise ${h.rise}${slow}${resilienceText(route)}`;
  }

  /** The route's resilience policies that are on (issue #20), "" when none is. */
  function resilienceText(route) {
    const parts = [];
    const r = route.retries;
    if (r && r.attempts > 0) parts.push(`retries ${r.attempts} on ${r.on.join(", ")} (budget ${r.budgetPercent} %)`);
    const o = route.outlierDetection;
    if (o && o.consecutiveErrors > 0) parts.push(`ejection after ${o.consecutiveErrors} ${o.errors} errors for ${o.baseEjectionTime}`);
    if (route.maxRequests > 0) parts.push(`at most ${route.maxRequests} in flight`);
    const l = route.rateLimit;
    if (l && l.requestsPerSecond > 0) parts.push(`${l.requestsPerSecond}/s burst ${l.burst} by ${l.by}`);
    return parts.map((p) => ` · ${p}`).join("");
  }

  async function act(what, request) {
    showNotice("");
    try {
      await request();
      await poll();
    } catch (e) {
      if (e instanceof Unauthorized) return askForToken("the token was refused");
      showNotice(`${what}: ${e.message}`);
    }
  }

  /** A route as the API names it: its prefix, and its host when it has one. */
  function routeName(route) {
    return route.host ? { prefixPath: route.prefixPath, host: route.host } : { prefixPath: route.prefixPath };
  }

  /** The key a route's card is found by: host and prefix ("/x/" alone for an any-host route). */
  function routeKey(route) {
    return (route.host || "") + route.prefixPath;
  }

  function patchTarget(route, url, change) {
    const host = route.host ? `&host=${encodeURIComponent(route.host)}` : "";
    const query = `?prefixPath=${encodeURIComponent(route.prefixPath)}${host}&target=${encodeURIComponent(url)}`;
    return act(`${url}`, () => api("PATCH", query, change));
  }

  function actionButtons(owner, target) {
    const cell = el("td", { class: "actions" });
    const button = (label, action, change, danger) =>
      el("button", { type: "button", "data-action": action, class: danger ? "danger" : null,
                     onclick: () => patchTarget(owner, target.target, change) }, label);
    if (target.state === "active") {
      cell.append(button("Drain", "drain", { state: "draining" }),
                  button("Disable", "disable", { state: "disabled" }, true));
    } else {
      cell.append(button("Re-enable", "enable", { state: "active" }));
      if (target.state === "draining") cell.append(button("Disable", "disable", { state: "disabled" }, true));
    }
    const remove = el("button", { type: "button", "data-action": "remove", class: "danger" }, "Remove");
    let armed = null;
    remove.addEventListener("click", () => {
      if (!armed) {
        remove.textContent = "Confirm remove";
        armed = setTimeout(() => { armed = null; remove.textContent = "Remove"; }, 4000);
        return;
      }
      clearTimeout(armed);
      act(`removing ${target.target}`, () =>
        api("POST", "/remove", { ...routeName(owner), targets: [target.target] }));
    });
    cell.append(remove);
    cell.dataset.state = target.state;
    return cell;
  }

  function targetRow(owner, target) {
    const weight = el("input", { type: "number", min: 0, max: 1000, step: 1, "aria-label": "weight" });
    weight.value = target.weight;
    const setWeight = () => patchTarget(owner, target.target, { weight: Number(weight.value) });
    weight.addEventListener("keydown", (e) => { if (e.key === "Enter") setWeight(); });
    return el("tr", { "data-target": target.target },
      el("td", { class: "url" }, target.target),
      el("td", { "data-field": "health" }),
      el("td", { "data-field": "state" }),
      el("td", { "data-field": "weight" }, weight, " ",
         el("button", { type: "button", "data-action": "weight", onclick: setWeight }, "Set")),
      el("td", { "data-field": "checked" }),
      el("td", { "data-field": "error", class: "lasterror" }),
      el("td", { "data-field": "changed" }),
      el("td", { class: "actions" }));
  }

  /** "30s", "1500ms", "1m", "2h" as milliseconds (the API's duration format). */
  function durationMs(text) {
    const m = /^(\d+(?:\.\d+)?)(ms|s|m|h)$/.exec(text || "");
    if (!m) return 0;
    return Number(m[1]) * { ms: 1, s: 1000, m: 60000, h: 3600000 }[m[2]];
  }

  /** Where a target's slow start stands, as the proxy ramps it: 10 % to 100 % of its weight. */
  function rampPercent(route, target) {
    const window = durationMs(route.healthCheck.slowStart);
    if (!window || !target.servingSince || !target.healthy || target.state !== "active") return null;
    const elapsed = Date.now() - Date.parse(target.servingSince);
    if (elapsed >= window) return null;
    return Math.round(10 + 90 * Math.max(0, elapsed) / window);
  }

  function updateRow(row, owner, target, route) {
    const cell = (name) => row.querySelector(`[data-field="${name}"]`);
    const health = cell("health");
    health.replaceChildren(el("span", { class: `badge ${target.healthy ? "healthy" : "unhealthy"}` },
                              target.healthy ? "healthy" : "unhealthy"));
    const ramp = rampPercent(route, target);
    cell("state").replaceChildren(el("span", { class: `badge state-${target.state}` }, target.state));
    if (ramp !== null) {
      cell("state").append(" ", el("span", { class: "badge ramp", title: "slow start: the share of its weight it gets now" },
                                   `warming up ${ramp}%`));
    }
    const weight = cell("weight").querySelector("input");
    if (document.activeElement !== weight && weight.dataset.stored !== String(target.weight)) {
      weight.value = target.weight;
    }
    weight.dataset.stored = target.weight;
    setSince(cell("checked"), target.lastCheckedAt);
    cell("error").textContent = target.healthy ? "" : target.lastError || "";
    setSince(cell("changed"), target.modifiedAt);
    const actions = row.querySelector("td.actions");
    if (actions.dataset.state !== target.state) actions.replaceWith(actionButtons(owner, target));
  }

  function routeCard(route) {
    const url = el("input", { type: "url", placeholder: "http://host:port", "aria-label": "target URL", required: true });
    const weight = el("input", { type: "number", min: 0, max: 1000, value: 100, "aria-label": "weight" });
    const form = el("form", { class: "add-form", "data-action": "add" },
      url, el("label", {}, "weight ", weight), el("button", { type: "submit" }, "Add target"));
    form.addEventListener("submit", (e) => {
      e.preventDefault();
      act(`adding ${url.value}`, async () => {
        await api("POST", "/add", { ...routeName(route),
                                    targets: [{ target: url.value, weight: Number(weight.value) }] });
        url.value = "";
      });
    });
    return el("div", { class: "route", "data-route": routeKey(route), "data-host": route.host || "" },
      el("div", { class: "route-head" },
        route.host ? el("span", { class: "host mono" }, route.host) : "",
        el("span", { class: "prefix mono" }, route.prefixPath),
        el("span", { class: "settings" })),
      el("table", {},
        el("thead", {}, el("tr", {},
          ...["target", "health", "state", "weight", "last check", "last error", "last change", ""]
            .map((h) => el("th", {}, h)))),
        el("tbody")),
      form);
  }

  /** Routes grouped by host: any-host routes first, then each host's, in prefix order within. */
  function byHost(routes) {
    return [...routes].sort((a, b) => (a.host || "").localeCompare(b.host || "") ||
                                      (a.prefixPath < b.prefixPath ? -1 : a.prefixPath > b.prefixPath ? 1 : 0));
  }

  function renderRoutes(routes) {
    const box = $("routes");
    const seen = new Set();
    let previous = null;
    for (const route of byHost(routes)) {
      seen.add(routeKey(route));
      let card = [...box.children].find((c) => c.dataset.route === routeKey(route));
      if (!card) card = routeCard(route);
      // Moved only when out of group order: moving a card would take the focus from its inputs.
      const wanted = previous ? previous.nextElementSibling : box.firstElementChild;
      if (card !== wanted) box.insertBefore(card, wanted);
      card.classList.toggle("host-start", !!route.host && (!previous || previous.dataset.host !== route.host));
      previous = card;
      card.querySelector(".settings").textContent = settingsText(route);
      const body = card.querySelector("tbody");
      const urls = new Set(route.targets.map((t) => t.target));
      for (const row of [...body.children]) if (!urls.has(row.dataset.target)) row.remove();
      for (const target of route.targets) {
        let row = [...body.children].find((r) => r.dataset.target === target.target);
        if (!row) {
          row = targetRow(route, target);
          body.append(row);
        }
        updateRow(row, route, target, route);
      }
      if (!route.targets.length && !body.children.length) {
        body.append(el("tr", { class: "empty" }, el("td", { colspan: 8 }, "no targets")));
      } else {
        for (const empty of body.querySelectorAll("tr.empty")) if (route.targets.length) empty.remove();
      }
    }
    for (const card of [...box.children]) if (!seen.has(card.dataset.route)) card.remove();
    if (!routes.length) box.replaceChildren(el("p", {}, "No routes yet."));
  }

  // --- history ------------------------------------------------------------------------------

  function describe(change) {
    const b = change.before || {};
    const a = change.after || {};
    switch (change.action) {
      case "target.add": return `added, weight ${a.weight}`;
      case "target.remove": return "removed";
      case "target.weight": return `weight ${b.weight} → ${a.weight}`;
      case "target.max_connections": return `maxConnections ${b.maxConnections} → ${a.maxConnections}`;
      case "target.state": return `${b.state} → ${a.state}`;
      case "target.health": return a.healthy ? "healthy again" : `unhealthy: ${a.error || "probe failed"}`;
      case "route.create": return `created (${a.balancer})`;
      case "route.delete": return "deleted";
      case "route.health_check":
      case "route.update":
        return Object.keys(a).filter((k) => JSON.stringify(a[k]) !== JSON.stringify(b[k]))
          .map((k) => `${k} ${JSON.stringify(b[k])} → ${JSON.stringify(a[k])}`).join(", ") || "unchanged";
      default: return JSON.stringify({ before: change.before, after: change.after });
    }
  }

  function renderChanges(fresh) {
    const body = $("changes").querySelector("tbody");
    const rows = changes.map((c, i) => el("tr", { "data-revision": c.revision, class: i < fresh ? "fresh" : null },
      el("td", {}, c.revision),
      el("td", { title: c.time }, new Date(c.time).toLocaleTimeString()),
      el("td", {}, c.client ? `${c.actor} (${c.client})` : c.actor),
      el("td", { class: "mono" }, c.action),
      el("td", { class: "mono" }, (c.host || "") + c.route),
      el("td", { class: "mono" }, c.target || ""),
      el("td", {}, (c.revertOf !== undefined ? `revert to ${c.revertOf}: ` : "") + describe(c)),
      el("td", { class: "actions" }, el("button", {
        "data-action": "revert", title: `put routes and targets back as they stood after revision ${c.revision}`,
        onclick: () => offerRevert(c.revision),
      }, "revert to here"))));
    body.replaceChildren(...rows);
    if (!changes.length) body.append(el("tr", {}, el("td", { colspan: 8 }, "No changes recorded yet.")));
  }

  // --- revert -------------------------------------------------------------------------------

  /** Asks the API what a revert to `to` would change (a dry run) and shows it for confirmation. */
  async function offerRevert(to) {
    showNotice("");
    try {
      const { data, revision: at } = await api("POST", "/revert?dryRun=true", { revision: to });
      const dialog = $("revert");
      dialog.dataset.to = to;
      dialog.dataset.at = at;
      $("revert-title").textContent = `Revert to revision ${to}?`;
      $("revert-changes").replaceChildren(...(data.changes.length
        ? data.changes.map((c) => el("li", { "data-action": c.action },
          el("span", { class: "mono" }, `${c.action} ${(c.host || "") + c.route}${c.target ? " " + c.target : ""}`),
          ` ${describe(c)}`))
        : [el("li", {}, "Nothing to change: routes and targets stand so already.")]));
      $("revert-confirm").disabled = !data.changes.length;
      dialog.showModal();
    } catch (e) {
      if (e instanceof Unauthorized) return askForToken("the token was refused");
      showNotice(`revert to revision ${to}: ${e.message}`);
    }
  }

  $("revert-confirm").addEventListener("click", () => {
    const dialog = $("revert");
    dialog.close();
    const to = Number(dialog.dataset.to);
    // Only on the revision the dry run saw: what was shown is what is done, or a 412 says why not.
    act(`revert to revision ${to}`,
        () => api("POST", "/revert", { revision: to }, { "If-Match": `"${dialog.dataset.at}"` }));
  });
  $("revert-cancel").addEventListener("click", () => $("revert").close());

  // --- following the store ------------------------------------------------------------------

  async function readRoutes() {
    const { data, revision: r } = await api("GET", "/routes");
    renderRoutes(data.routes);
    revision = r;
    lastRoutesAt = Date.now();
    $("revision").textContent = `revision ${r}`;
  }

  /** "revision 42 served by 3 of 3 proxies": live and behind ones count, stale ones are named. */
  async function readProxies() {
    const { data } = await api("GET", "/proxies");
    const following = data.proxies.filter((p) => p.state !== "stale");
    const serving = following.filter((p) => p.revision >= data.revision).length;
    const stale = data.proxies.length - following.length;
    $("proxies").textContent = `revision ${data.revision} served by ${serving} of ${following.length} ` +
      `prox${following.length === 1 ? "y" : "ies"}` + (stale ? ` (${stale} stale)` : "");
    $("proxies").classList.toggle("down", serving < following.length);
  }

  /** Reads what changed since the last poll and, when anything did, the routes again. */
  async function pollOnce() {
    try {
      const first = revision === null;
      if (first) await readRoutes();
      // The first read starts a little before the routes' revision, for the latest changes.
      const since = nextSince ?? Math.max(0, revision - KEEP_CHANGES);
      const { data } = await api("GET", `/changes?since=${since}&limit=1000`);
      nextSince = data.nextSince;
      if (data.changes.length || first) {
        changes.unshift(...data.changes.reverse());
        changes.length = Math.min(changes.length, KEEP_CHANGES);
        renderChanges(first ? 0 : data.changes.length);
      }
      if (revision < nextSince || Date.now() - lastRoutesAt > ROUTES_EVERY_MS) await readRoutes();
      await readProxies();
      setStatus(`live · ${new Date().toLocaleTimeString()}`, false);
    } catch (e) {
      if (e instanceof Unauthorized) askForToken();
      else setStatus(`cannot reach the admin API: ${e.message}`, true);
    }
  }

  /** Queues a poll after any under way (two at once would read the same changes twice). */
  function poll() {
    if (queued) return queue;
    queued = true;
    queue = queue.then(() => { queued = false; return pollOnce(); });
    return queue;
  }

  function setStatus(text, down) {
    const s = $("status");
    s.textContent = text;
    s.classList.toggle("down", down);
  }

  function showNotice(text) {
    $("notice").textContent = text;
    $("notice").hidden = !text;
  }

  function askForToken(why) {
    const had = sessionStorage.getItem(TOKEN_KEY);
    sessionStorage.removeItem(TOKEN_KEY);
    $("main").hidden = true;
    $("login").hidden = false;
    $("login-error").textContent = why || (had ? "the token was refused" : "");
    setStatus("waiting for the admin token", false);
    $("token").focus();
  }

  $("login-form").addEventListener("submit", (e) => {
    e.preventDefault();
    sessionStorage.setItem(TOKEN_KEY, $("token").value);
    $("token").value = "";
    $("login").hidden = true;
    $("main").hidden = false;
    poll();
  });

  $("main").hidden = false;
  poll();
  setInterval(() => { if (!$("main").hidden) poll(); }, POLL_MS);
  setInterval(tick, 1000);
})();
