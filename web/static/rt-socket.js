// The staff pages' websocket (docs/protocol.md), shared by the console and the wallboard: hello, heartbeats
// (a ping every heartbeat_s; no pong within 2 x heartbeat_s means the socket is dead), reconnect with
// backoff and jitter, and a full stop on 4401 (signed out) / 4403 (no access). Also the pacer that spaces
// message sends so a client with many queued messages stays inside the server's rate limit.
"use strict";

(function () {
  /* rt-rules:begin. The reconnect and pacing rules, kept identical in web/static/rt-socket.js (the staff
     pages) and web/widget/widget.js (its own copy: the widget must stay one self-contained file that other
     websites embed by one script tag). tests/e2e/test_rt_rules.py checks that the two copies match. */
  const BACKOFF_FIRST_MS = 500;
  const BACKOFF_CAP_MS = 10000;
  // Close codes after which reconnecting cannot help: the client stops and says why.
  const STOP_CODES = { 4401: "signed-out", 4403: "forbidden" };
  // Wait before reconnect attempt n (0 first): doubling from 500 ms up to 10 s, 50-100 % of it (jitter).
  function backoffDelay(attempt) {
    const base = Math.min(BACKOFF_CAP_MS, BACKOFF_FIRST_MS * 2 ** Math.min(attempt, 10));
    return base / 2 + (Math.random() * base) / 2;
  }
  // The server allows a burst of 15 sends per socket, then 5 a second, and closes the socket (4429) well
  // past that. The pacer sends at most PACE_BURST messages at once, then PACE_RATE a second. It holds keys
  // (client_ids); transmit(key) answers true (sent), false (socket not ready: restart() resumes) or null
  // (nothing to send any more: skipped).
  const PACE_BURST = 10;
  const PACE_RATE = 4;
  const RATE_LIMITED_WAIT_MS = 1500;
  function makePacer(transmit) {
    let queue = [];
    let tokens = PACE_BURST;
    let at = Date.now();
    let timer = 0;
    function pump() {
      clearTimeout(timer);
      timer = 0;
      const now = Date.now();
      if (now > at) tokens = Math.min(PACE_BURST, tokens + ((now - at) / 1000) * PACE_RATE);
      at = Math.max(at, now);
      while (queue.length && tokens >= 1) {
        const sent = transmit(queue[0]);
        if (sent === false) return;
        queue.shift();
        if (sent) tokens -= 1;
      }
      if (queue.length) timer = setTimeout(pump, Math.max(10, at - now + ((1 - tokens) / PACE_RATE) * 1000));
    }
    return {
      add(key) {
        if (!queue.includes(key)) queue.push(key);
        pump();
      },
      // A new socket: its budget on the server is full again. Send `keys` (every unconfirmed message) in order.
      restart(keys) {
        queue = keys.slice();
        tokens = PACE_BURST;
        at = Date.now();
        pump();
      },
      // An error rate_limited about `key`: keep it, first in line, and send nothing for a while.
      limited(key) {
        queue = [key, ...queue.filter((k) => k !== key)];
        tokens = 0;
        at = Date.now() + RATE_LIMITED_WAIT_MS;
        pump();
      },
      delete(key) {
        queue = queue.filter((k) => k !== key);
      },
    };
  }
  /* rt-rules:end */

  // opts: hello() -> the hello frame; onFrame(frame) for every frame; onState(state, code) with state one of
  // "connecting", "online", "reconnecting", "signed-out", "forbidden" (the last two are final).
  function open(opts) {
    const url = `${location.protocol === "https:" ? "wss" : "ws"}://${location.host}/ws`;
    let ws = null;
    let welcomed = false;
    let heartbeatS = 5;
    let attempt = 0;
    let retryTimer = 0;
    let pingTimer = 0;
    let pingOut = null; // when the oldest unanswered ping went out
    const api = { state: "connecting", stopped: false };

    function setState(state, code) {
      api.state = state;
      if (opts.onState) opts.onState(state, code);
    }

    function connect() {
      clearTimeout(retryTimer);
      retryTimer = 0;
      if (ws || api.stopped) return;
      if (!navigator.onLine) return retry(); // the "online" event reconnects at once
      const sock = new WebSocket(url);
      ws = sock;
      welcomed = false;
      const welcomeTimer = setTimeout(() => sock === ws && !welcomed && drop(sock, 0), 10000);
      sock.onopen = () => sock.send(JSON.stringify(opts.hello()));
      sock.onmessage = (ev) => {
        if (sock !== ws) return;
        let frame;
        try {
          frame = JSON.parse(ev.data);
        } catch (_) {
          return;
        }
        if (frame.type === "welcome") {
          welcomed = true;
          attempt = 0;
          heartbeatS = frame.heartbeat_s || 5;
          startHeartbeat();
        } else if (frame.type === "pong") {
          pingOut = null;
        }
        opts.onFrame(frame);
        if (frame.type === "welcome") setState("online");
      };
      sock.onclose = (ev) => {
        clearTimeout(welcomeTimer);
        if (sock === ws) drop(sock, ev.code);
      };
    }

    function drop(sock, code) {
      if (sock !== ws) return;
      ws = null;
      welcomed = false;
      clearInterval(pingTimer);
      try {
        sock.close();
      } catch (_) {
        /* already closed */
      }
      if (STOP_CODES[code]) return stop(STOP_CODES[code], code);
      retry();
    }

    function retry() {
      setState("reconnecting");
      clearTimeout(retryTimer);
      retryTimer = setTimeout(connect, backoffDelay(attempt++));
    }

    // Judged from the ping's own time, so a timer the browser throttled in a background tab does not
    // count as a dead socket.
    function startHeartbeat() {
      clearInterval(pingTimer);
      pingOut = null;
      pingTimer = setInterval(() => {
        if (!ws || !welcomed) return;
        if (pingOut !== null && Date.now() - pingOut > 2 * heartbeatS * 1000) return drop(ws, 0);
        if (send({ type: "ping", t: Date.now() / 1000 }) && pingOut === null) pingOut = Date.now();
      }, heartbeatS * 1000);
    }

    function send(frame) {
      if (!ws || !welcomed || ws.readyState !== WebSocket.OPEN) return false;
      ws.send(JSON.stringify(frame));
      return true;
    }

    // Final: no more reconnects (signed out, no access). Also for a page that learns it over HTTP (a 401).
    function stop(state, code) {
      if (api.stopped) return;
      api.stopped = true;
      clearTimeout(retryTimer);
      clearInterval(pingTimer);
      const sock = ws;
      ws = null;
      if (sock) {
        sock.onclose = sock.onmessage = null;
        try {
          sock.close();
        } catch (_) {
          /* already closed */
        }
      }
      setState(state, code);
    }

    function now() {
      if (ws || api.stopped) return;
      attempt = 0;
      connect();
    }

    window.addEventListener("offline", () => ws && drop(ws, 0));
    window.addEventListener("online", now);
    document.addEventListener("visibilitychange", () => document.visibilityState === "visible" && retryTimer && now());

    Object.assign(api, { send, stop, online: () => !!ws && welcomed });
    connect();
    return api;
  }

  window.RtSocket = { open, makePacer, backoffDelay, STOP_CODES };
})();
