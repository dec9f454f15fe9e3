// Fleet monitor page: live table of terminals fed by Server-Sent Events from /api/stream.
// Every terminal-provided string reaches the DOM through textContent or dataset only, never
// innerHTML, so a hostile payload cannot inject markup (and the CSP forbids inline scripts).
"use strict";

(() => {
  const ROW_LIMIT = 500; // rendering more rows than a screen can read only slows the browser
  const PRESENCE = ["online", "offline", "stopped", "unknown"];
  const HEALTH = ["ok", "degraded", "unknown"];
  const CMD_STATES = ["sent", "accepted", "in_progress", "rejected", "succeeded", "failed", "expired"];
  const COMMANDS = [
    // [label, command name, args or a function returning args (null = cancelled)]
    ["rebirth", "rebirth", {}],
    ["reload config", "reload_config", {}],
    ["maintenance on", "maintenance", { enabled: true }],
    ["maintenance off", "maintenance", { enabled: false }],
    ["collect logs", "collect_logs", { lines: 200 }],
    ["set config…", "set_config", askConfigKey],
    ["restart app…", "restart_app", () => (window.confirm("Restart the kiosk app?") ? {} : null)],
  ];

  const terminals = new Map(); // id -> record from the server
  const rows = new Map(); // id -> {tr, rev}
  let serverOffset = 0; // server wall clock minus ours, seconds
  let sortKey = "id";
  let sortDir = 1;
  let filter = "all";
  let search = "";
  let renderPending = false;

  const $ = (sel) => document.querySelector(sel);
  const tbody = $("#fleet tbody");

  function askConfigKey() {
    const text = window.prompt("section.key=value");
    if (!text || !text.includes("=")) return null;
    const i = text.indexOf("=");
    let value = text.slice(i + 1).trim();
    if (value === "true" || value === "false") value = value === "true";
    else if (value !== "" && !Number.isNaN(Number(value))) value = Number(value);
    return { key: text.slice(0, i).trim(), value };
  }

  function pick(value, allowed, fallback) {
    return allowed.includes(value) ? value : fallback;
  }

  function el(tag, cls, text) {
    const e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined && text !== null) e.textContent = String(text);
    return e;
  }

  // Terminal-provided strings can be long (or hostile); show a head, keep the rest in a tooltip.
  function clip(text, max = 40) {
    text = String(text ?? "");
    return text.length > max ? text.slice(0, max - 1) + "…" : text;
  }

  function pill(text, cls) {
    return el("span", "pill " + cls, text);
  }

  function duration(s) {
    if (s === null || s === undefined) return "—";
    s = Math.max(0, Math.round(s));
    if (s < 60) return s + " s";
    if (s < 3600) return Math.floor(s / 60) + " min " + (s % 60) + " s";
    if (s < 86400) return Math.floor(s / 3600) + " h " + Math.floor((s % 3600) / 60) + " min";
    return Math.floor(s / 86400) + " d " + Math.floor((s % 86400) / 3600) + " h";
  }

  function nowServer() {
    return Date.now() / 1000 + serverOffset;
  }

  function ageOf(t) {
    return t.last_seen === null ? null : Math.max(0, nowServer() - t.last_seen);
  }

  function flagsOf(t) {
    const f = [];
    if (t.stale) f.push("stale");
    if (t.flapping) f.push("flapping");
    if (t.maintenance) f.push("maintenance");
    if (t.malformed > 0) f.push("malformed");
    return f;
  }

  function isProblem(t) {
    return t.presence !== "online" || t.stale || t.flapping || t.health === "degraded" ||
      (t.backlog || 0) > 0 || t.malformed > 0;
  }

  function matches(t) {
    if (search && !t.id.toLowerCase().includes(search) &&
        !String(t.version || "").toLowerCase().includes(search)) return false;
    switch (filter) {
      case "all": return true;
      case "problems": return isProblem(t);
      case "online": case "offline": case "stopped": return t.presence === filter;
      case "stale": return t.stale;
      case "flapping": return t.flapping;
      case "degraded": return t.health === "degraded";
      case "backlog": return (t.backlog || 0) > 0;
      default: return true;
    }
  }

  function sortValue(t) {
    switch (sortKey) {
      case "age_s": return ageOf(t) ?? Infinity;
      case "flags": return flagsOf(t).length;
      case "command": return t.command ? t.command.updated : 0;
      case "backlog": case "uptime_s": return t[sortKey] ?? -1;
      default: return String(t[sortKey] ?? "");
    }
  }

  function compare(a, b) {
    const va = sortValue(a);
    const vb = sortValue(b);
    if (va < vb) return -sortDir;
    if (va > vb) return sortDir;
    return a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
  }

  // ---- one row ------------------------------------------------------------------------------

  function buildRow(t) {
    const tr = el("tr");
    tr.dataset.id = t.id;
    const cells = ["c-id", "c-presence", "c-flags", "c-health wrap", "c-backlog num", "c-seen num",
      "c-version wrap", "c-uptime num", "c-command wrap", "send"];
    for (const c of cells) tr.appendChild(el("td", c));
    const send = tr.lastChild;
    const ping = el("button", "btn-ping", "ping");
    ping.type = "button";
    ping.addEventListener("click", () => sendCommand(t.id, "ping", {}));
    const select = el("select", "cmd-select");
    select.appendChild(el("option", "", "more…"));
    COMMANDS.forEach(([label], i) => {
      const o = el("option", "", label);
      o.value = String(i);
      select.appendChild(o);
    });
    select.addEventListener("change", () => {
      const spec = COMMANDS[Number(select.value)];
      select.selectedIndex = 0;
      if (!spec) return;
      const args = typeof spec[2] === "function" ? spec[2]() : spec[2];
      if (args !== null) sendCommand(t.id, spec[1], args);
    });
    const box = el("div", "send-box");
    box.append(ping, select);
    send.appendChild(box);
    return tr;
  }

  function fillRow(tr, t) {
    const c = tr.children;
    c[0].textContent = t.id;
    const presence = pick(t.presence, PRESENCE, "unknown");
    c[1].replaceChildren(pill(presence, "p-" + presence));
    if (t.presence_since) {
      c[1].appendChild(el("span", "sub", "since " + new Date(t.presence_since * 1000).toLocaleTimeString()));
    }
    c[2].replaceChildren(...flagsOf(t).map((f) => pill(f, "f-" + f)));
    if (t.malformed > 0 && t.problem) c[2].title = "last rejected message: " + t.problem;
    const health = pick(t.health, HEALTH, "unknown");
    c[3].replaceChildren(pill(health, "h-" + health));
    const bad = Object.entries(t.devices || {}).filter(([, v]) => v !== "online");
    if (bad.length) c[3].appendChild(el("span", "sub", bad.map(([k, v]) => clip(k) + ": " + clip(v)).join(", ")));
    c[3].title = Object.entries(t.devices || {}).map(([k, v]) => k + ": " + v).join("\n");
    c[4].textContent = t.backlog === null ? "—" : String(t.backlog);
    if (t.backlog && t.oldest_unsent_s) c[4].appendChild(el("span", "sub", "oldest " + duration(t.oldest_unsent_s)));
    if (t.dead) c[4].appendChild(el("span", "sub", t.dead + " dead"));
    c[6].textContent = clip(t.version || "—", 24);
    c[6].title = t.version || "";
    c[7].textContent = duration(t.uptime_s);
    if (t.command) {
      const state = pick(t.command.state, CMD_STATES, "sent");
      c[8].replaceChildren(el("span", "cmd-name", t.command.name + " "), pill(state, "cmd-state s-" + state));
      if (t.command.detail) c[8].appendChild(el("span", "sub", clip(t.command.detail, 60)));
      if (t.command.has_result) {
        // The result (a log tail can be 100 kB) is fetched only when asked for, as JSON text.
        const a = el("a", "cmd-result", "result");
        a.href = "/api/terminals/" + encodeURIComponent(t.id) + "/commands/" +
          encodeURIComponent(t.command.command_id);
        a.target = "_blank";
        a.rel = "noopener noreferrer";
        c[8].appendChild(a);
      }
      c[8].title = t.command.detail || "";
    } else {
      c[8].replaceChildren(el("span", "muted", "—"));
    }
    tr.className = ["row-" + presence, t.stale ? "row-stale" : "", t.flapping ? "row-flapping" : ""].join(" ");
  }

  function fillAge(tr, t) {
    const age = ageOf(t);
    tr.children[5].textContent = age === null ? "never" : duration(age) + " ago";
    if (t.last_seen) tr.children[5].title = new Date(t.last_seen * 1000).toLocaleString();
  }

  // ---- table ---------------------------------------------------------------------------------

  function render() {
    renderPending = false;
    const list = [...terminals.values()].filter(matches).sort(compare);
    const shown = list.slice(0, ROW_LIMIT);
    const frag = document.createDocumentFragment();
    const keep = new Set();
    for (const t of shown) {
      let r = rows.get(t.id);
      if (!r) {
        r = { tr: buildRow(t), rev: -1 };
        rows.set(t.id, r);
      }
      if (r.rev !== t.rev) {
        fillRow(r.tr, t);
        r.rev = t.rev;
      }
      fillAge(r.tr, t);
      keep.add(t.id);
      frag.appendChild(r.tr);
    }
    for (const [id, r] of rows) if (!keep.has(id)) { r.tr.remove(); rows.delete(id); }
    tbody.replaceChildren(frag);
    $("#empty").hidden = terminals.size > 0;
    $("#shown").textContent = list.length === terminals.size
      ? terminals.size + " terminals" : list.length + " of " + terminals.size + " terminals";
    const more = $("#more");
    more.hidden = list.length <= ROW_LIMIT;
    more.textContent = "Showing the first " + ROW_LIMIT + " of " + list.length +
      " matching terminals: search or filter to narrow down.";
  }

  function scheduleRender() {
    if (!renderPending) {
      renderPending = true;
      window.requestAnimationFrame(render);
    }
  }

  function applyDelta(d) {
    serverOffset = d.now - Date.now() / 1000;
    if (d.full) terminals.clear();
    for (const t of d.terminals) terminals.set(t.id, t);
    for (const [k, v] of Object.entries(d.counts)) {
      const n = document.getElementById("count-" + k);
      if (n) n.textContent = String(v);
    }
    const b = $("#broker");
    b.textContent = d.broker ? "broker connected" : "broker unreachable";
    b.className = "badge " + (d.broker ? "badge-ok" : "badge-bad");
    $("#updated").textContent = "updated " + new Date().toLocaleTimeString();
    if (d.desk) renderDesk(d.desk);
    scheduleRender();
  }

  // ---- staff desk: alerts and journeys ------------------------------------------------------

  const ALERT_REASONS = {
    call_staff: "citizen calls for staff",
    card_left: "card left in the reader",
    repeated_failures: "repeated failures",
    device_fault: "device fault",
  };

  function renderDesk(desk) {
    const open = desk.open_alerts || 0;
    const badge = $("#alerts-open");
    badge.textContent = open + " open";
    badge.className = "badge " + (open ? "badge-bad" : "badge-ok");
    const list = $("#alerts");
    const items = (desk.alerts || []).map((a) => {
      const li = el("li", "alert " + (a.open ? "alert-open" : "alert-acked"));
      li.dataset.alert = a.alert_id;
      li.dataset.terminal = a.terminal;
      li.appendChild(el("span", "alert-reason", ALERT_REASONS[a.reason] || clip(a.reason, 30)));
      li.appendChild(el("span", "alert-terminal", clip(a.terminal, 48)));
      const where = [a.site, a.hall].filter(Boolean).map((x) => clip(x, 30)).join(" / ");
      li.appendChild(el("span", "alert-where", where || "—"));
      li.appendChild(el("span", "alert-step", a.step ? "at " + clip(a.step, 40) : ""));
      li.appendChild(el("span", "alert-time", new Date((a.raised || a.received) * 1000).toLocaleTimeString()));
      if (a.open) {
        const b = el("button", "btn-ack", "acknowledge");
        b.type = "button";
        b.addEventListener("click", () => acknowledge(a.alert_id, b));
        li.appendChild(b);
      } else {
        const by = a.acked_by ? " by " + clip(a.acked_by, 40) : "";
        li.appendChild(el("span", "alert-acked-by", "acknowledged" + by));
      }
      return li;
    });
    list.replaceChildren(...items);
    $("#alerts-empty").hidden = items.length > 0;
    const rowsOut = [];
    for (const [tid, j] of Object.entries(desk.journeys || {})) {
      const failures = Object.entries(j.failures || {}).map(([r, n]) => clip(r, 30) + " ×" + n).join(", ");
      let firstRow = true;
      for (const [service, c] of Object.entries(j.services || {})) {
        const tr = el("tr");
        tr.dataset.terminal = tid;
        tr.dataset.service = service;
        tr.append(el("td", "j-terminal", clip(tid, 48)), el("td", "j-service", clip(service, 30)),
          el("td", "j-completed num", c.completed || 0), el("td", "j-abandoned num", c.abandoned || 0),
          el("td", "j-failed num", c.failed || 0), el("td", "j-reasons wrap", firstRow ? failures : ""));
        firstRow = false;
        rowsOut.push(tr);
      }
    }
    $("#journeys tbody").replaceChildren(...rowsOut);
    $("#journeys-empty").hidden = rowsOut.length > 0;
  }

  async function acknowledge(alertId, button) {
    button.disabled = true;
    try {
      const resp = await fetch("/api/alerts/" + encodeURIComponent(alertId) + "/ack", {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify({ by: $("#operator").value.trim() }),
      });
      if (!resp.ok) throw new Error((await resp.json()).error || resp.statusText);
    } catch (err) {
      button.disabled = false;
      button.title = "not acknowledged: " + String(err.message || err);
    }
    // The live stream brings the acknowledged alert.
  }

  // ---- commands ------------------------------------------------------------------------------

  async function sendCommand(id, name, args) {
    let reply;
    try {
      const resp = await fetch("/api/terminals/" + encodeURIComponent(id) + "/commands", {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify({ name, args }),
      });
      reply = await resp.json();
      if (!resp.ok) throw new Error(reply.error || resp.statusText);
    } catch (err) {
      reply = { name, state: "failed", detail: String(err.message || err), updated: Date.now() / 1000 };
    }
    const t = terminals.get(id);
    // Show `sent` (or the refusal) at once; the live stream brings the acks.
    if (t && (!t.command || t.command.command_id !== reply.command_id)) {
      terminals.set(id, { ...t, command: reply, rev: -2 });
      scheduleRender();
    }
  }

  // ---- controls ------------------------------------------------------------------------------

  function setFilter(value) {
    filter = value;
    $("#filter").value = value;
    for (const tile of document.querySelectorAll(".tile")) {
      tile.classList.toggle("active", tile.dataset.filter === value && value !== "all");
    }
    scheduleRender();
  }

  for (const th of document.querySelectorAll("th[data-key]")) {
    th.addEventListener("click", () => {
      const key = th.dataset.key;
      sortDir = key === sortKey ? -sortDir : 1;
      sortKey = key;
      for (const other of document.querySelectorAll("th[data-key]")) other.removeAttribute("aria-sort");
      th.setAttribute("aria-sort", sortDir > 0 ? "ascending" : "descending");
      scheduleRender();
    });
  }
  for (const tile of document.querySelectorAll(".tile")) {
    tile.addEventListener("click", () => setFilter(tile.dataset.filter));
  }
  $("#filter").addEventListener("change", (e) => setFilter(e.target.value));
  $("#search").addEventListener("input", (e) => {
    search = e.target.value.trim().toLowerCase();
    scheduleRender();
  });

  const stream = new EventSource("/api/stream");
  stream.addEventListener("fleet", (e) => applyDelta(JSON.parse(e.data)));
  stream.addEventListener("error", () => {
    const b = $("#broker");
    b.textContent = "monitor unreachable";
    b.className = "badge badge-bad";
  });
  window.setInterval(scheduleRender, 1000); // ages and "stale" colours move with time
})();
