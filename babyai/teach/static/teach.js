// The teaching page: shows the session's state and sends the teacher's moves over one WebSocket.
"use strict";
const $ = (id) => document.getElementById(id);
let ws = null, state = null, ended = false, lastStep = null;
const TOKEN = new URLSearchParams(location.search).get("token") || "";  // from the URL teach.py printed
const REFUSED = 1008;  // the server's close code for a connection it refuses
const KEYS = {" ": "approve", "ArrowLeft": "left", "ArrowRight": "right", "ArrowUp": "forward",
              "p": "pickup", "d": "drop", "t": "toggle", "e": "done"};

function send(msg) {
  if (ws && ws.readyState === WebSocket.OPEN) ws.send(JSON.stringify(msg));
}

function connect() {
  if (!TOKEN) {
    $("status").textContent = "open the URL teach.py printed (it ends with ?token=...)";
    $("waiting").textContent = "not connected: open the URL teach.py printed";
    return;
  }
  ws = new WebSocket(`ws://${location.host}/ws?token=${encodeURIComponent(TOKEN)}`);
  ws.onopen = () => { $("status").textContent = "connected"; };
  ws.onmessage = (ev) => render(JSON.parse(ev.data));
  ws.onclose = (ev) => {
    if (ended) return;
    if (ev.code === REFUSED) {  // a wrong token (e.g. of an earlier session): reconnecting cannot help
      $("status").textContent = `refused: ${ev.reason || "open the URL teach.py printed"}`;
      $("waiting").textContent = "refused: open the URL teach.py printed";
      return;
    }
    $("status").textContent = "disconnected: reconnecting...";
    setTimeout(connect, 1000);
  };
}

function render(s) {
  state = s;
  ended = s.ended;
  $("message").textContent = s.message || "";
  $("episode").textContent = s.episodes ? `${s.episode + 1} of ${s.episodes}` : `${s.episode + 1}`;
  $("latest").textContent = s.latest_snapshot;
  let status = s.paused ? "paused" : "your move";
  if (!s.trainer_alive) status += " (the online trainer has stopped)";
  if (s.ended) status = "session ended: every step is saved; you can close this tab";
  $("status").textContent = status;
  $("status").className = s.ended ? "ended" : "";
  $("pause").textContent = s.paused ? "Resume" : "Pause";
  // until the first level is shown, a grey box says why instead of a broken image
  $("waiting").textContent = s.ended ? "session ended" : "waiting for the first level...";
  if (s.mission !== undefined) {
    $("frame").src = s.frame;
    $("frame").hidden = false;
    $("waiting").hidden = true;
    $("mission").className = "";
    $("step").textContent = s.step;
    const where = `${s.episode}/${s.step}`;
    if (where !== lastStep) $("thought-input").value = "";
    lastStep = where;
    $("seed").textContent = s.seed;
    $("snapshot").textContent = s.snapshot;
    $("mission").textContent = s.mission;
    $("thought").textContent = s.thinks ? (s.thought || "(nothing)") : "(a Behavioral Cloning agent has no thought)";
    $("acting-row").hidden = !s.rewritten;
    $("acting").textContent = s.acting_thought;
    $("action").textContent = s.action;
  }
  drawCurves(s.curves || []);
  // steps made in the whole session (recorded episodes + this one): what a script can wait on
  document.body.dataset.moves = (s.curves || []).reduce((a, r) => a + r.steps, 0) + (s.step || 0);
  document.body.dataset.ended = s.ended ? "yes" : "no";
}

function polyline(points, color) {
  const el = document.createElementNS("http://www.w3.org/2000/svg", "polyline");
  el.setAttribute("points", points.map((p) => p.join(",")).join(" "));
  el.setAttribute("fill", "none");
  el.setAttribute("stroke", color);
  el.setAttribute("stroke-width", "1.5");
  return el;
}

function svgText(x, y, text) {
  const el = document.createElementNS("http://www.w3.org/2000/svg", "text");
  el.setAttribute("x", x); el.setAttribute("y", y);
  el.setAttribute("font-size", "11"); el.setAttribute("fill", "#666");
  el.textContent = text;
  return el;
}

function drawCurves(rows) {
  const svg = $("curves");
  while (svg.firstChild) svg.removeChild(svg.firstChild);
  const W = 760, H = 180, left = 36, right = 10, top = 8, bottom = 22;
  const x = (i) => left + (rows.length <= 1 ? 0 : i * (W - left - right) / (rows.length - 1));
  const y = (v) => top + (1 - v) * (H - top - bottom);
  svg.appendChild(polyline([[left, y(0)], [W - right, y(0)]], "#999"));
  svg.appendChild(polyline([[left, y(0)], [left, y(1)]], "#999"));
  svg.appendChild(svgText(4, y(1) + 4, "1.0"));
  svg.appendChild(svgText(4, y(0.5) + 4, "0.5"));
  svg.appendChild(svgText(4, y(0) + 4, "0"));
  svg.appendChild(svgText(W - 80, H - 4, `episode ${rows.length}`));
  if (!rows.length) return;
  const act = rows.map((r, i) => [x(i), y(r.action_overrides / Math.max(r.steps, 1))]);
  const tho = rows.map((r, i) => [x(i), y(r.thought_overrides / Math.max(r.steps, 1))]);
  const suc = rows.map((r, i) => {
    const w = rows.slice(Math.max(0, i - 9), i + 1);
    return [x(i), y(w.reduce((a, b) => a + b.success, 0) / w.length)];
  });
  svg.appendChild(polyline(act, "#d03030"));
  svg.appendChild(polyline(tho, "#1440c8"));
  svg.appendChild(polyline(suc, "#0a7a3a"));
}

document.addEventListener("keydown", (ev) => {
  if (ev.target && (ev.target.tagName === "INPUT" || ev.target.tagName === "TEXTAREA")) {
    if (ev.key === "Escape") ev.target.blur();
    return;  // typing a thought
  }
  if (ev.ctrlKey || ev.metaKey || ev.altKey) return;
  const move = KEYS[ev.key.length === 1 ? ev.key.toLowerCase() : ev.key];
  if (move === undefined) return;  // unknown keys are ignored
  ev.preventDefault();
  send(move === "approve" ? {type: "approve"} : {type: "action", action: move});
});

$("thought-form").addEventListener("submit", (ev) => {
  ev.preventDefault();
  const text = $("thought-input").value.trim();
  if (!text) return;
  send({type: "thought", text: text});  // kept in the box until the step is made (to edit it if refused)
  $("thought-input").blur();
});
$("pause").addEventListener("click", (ev) => { send({type: "pause"}); ev.target.blur(); });
$("reset").addEventListener("click", (ev) => { send({type: "reset"}); ev.target.blur(); });
$("end").addEventListener("click", (ev) => {
  send({type: "end"});
  ev.target.blur();
});
connect();
