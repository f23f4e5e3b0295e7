/* Threadline live-chat widget. One line on any site:
 *   <script async src="https://support.example/static/widget/widget.js" data-inbox="PUBLIC_ID"></script>
 * Renders in a shadow DOM, talks only to the Threadline server it was loaded from (no third parties).
 * Host page API: Threadline.identify({identifier, identifier_hash, email, name}), .reset(), .open(), .close().
 */
(function () {
  "use strict";
  var script = document.currentScript || document.querySelector("script[data-inbox]");
  if (!script || window.Threadline) return;
  var inbox = script.getAttribute("data-inbox");
  var base = new URL(script.src, location.href).origin;
  var api = base + "/api/widget/v1/" + encodeURIComponent(inbox) + "/";
  var KEY = "tl_session";
  var cfg, S = {}, token = "", socket = null, retry = 0, lastId = 0, opened = false, started = Date.now();
  var msgs = new Map(), pending = new Map(), typingTimer = 0, typingSent = 0, idle = 0, prechatDone = false;
  var pendingUser = null;

  function stored() {
    try { return localStorage.getItem(KEY) || ""; } catch (e) {}
    var m = document.cookie.match(/(?:^|; )tl_session=([^;]*)/);
    return m ? decodeURIComponent(m[1]) : "";
  }
  function store(value) {
    token = value;
    try { localStorage.setItem(KEY, value); } catch (e) {}
    document.cookie = KEY + "=" + encodeURIComponent(value) + "; path=/; max-age=31536000; SameSite=Lax";
  }
  var markReady, ready = new Promise(function (resolve) { markReady = resolve; });
  function call(path, body, method) {
    // Everything but config, session and reset needs the session: wait for it (a fast click must not 401).
    if (/^(config|session|reset)/.test(path)) return request(path, body, method);
    return ready.then(function () { return request(path, body, method); });
  }
  function request(path, body, method) {
    var opts = { method: method || (body ? "POST" : "GET"), headers: {} };
    if (token) opts.headers["X-TL-Session"] = token;
    if (body instanceof FormData) opts.body = body;
    else if (body) { opts.headers["Content-Type"] = "application/json"; opts.body = JSON.stringify(body); }
    return fetch(api + path, opts).then(function (r) {
      return r.json().then(function (data) { if (!r.ok) throw Object.assign(new Error(data.error || r.status), { status: r.status }); return data; });
    });
  }
  function uuid() {
    if (window.crypto && crypto.randomUUID) return crypto.randomUUID();
    return Date.now().toString(36) + Math.random().toString(36).slice(2);
  }
  function t(key, values) {
    var text = S[key] || key;
    for (var name in values || {}) text = text.replace("%(" + name + ")s", values[name]);
    return text;
  }

  // --- DOM (shadow root: the host page's CSS cannot reach in, ours cannot leak out) --------------------
  var host = document.createElement("div");
  host.setAttribute("data-threadline-widget", "");
  var root = host.attachShadow({ mode: "open" });
  var el = {};
  function h(tag, cls, text) { var n = document.createElement(tag); if (cls) n.className = cls; if (text) n.textContent = text; return n; }

  function build() {
    var color = /^#[0-9a-fA-F]{3,8}$/.test(cfg.settings.color) ? cfg.settings.color : "#2563eb";
    var side = cfg.settings.position === "left" ? "left" : "right";
    var style = h("style");
    style.textContent =
      ":host{all:initial}*{box-sizing:border-box;font-family:system-ui,-apple-system,'Segoe UI',Roboto,'Noto Sans Thai',sans-serif}" +
      ".launcher{position:fixed;bottom:20px;" + side + ":20px;z-index:2147483000;background:" + color + ";color:#fff;border:0;border-radius:24px;padding:12px 18px;font-size:15px;cursor:pointer;box-shadow:0 4px 14px rgba(0,0,0,.25)}" +
      ".panel{position:fixed;bottom:84px;" + side + ":20px;z-index:2147483001;width:360px;max-width:calc(100vw - 24px);height:520px;max-height:calc(100vh - 110px);background:#fff;color:#111;border-radius:14px;box-shadow:0 8px 30px rgba(0,0,0,.25);display:none;flex-direction:column;overflow:hidden;font-size:14px}" +
      ".panel.open{display:flex}.head{background:" + color + ";color:#fff;padding:12px 14px;display:flex;justify-content:space-between;align-items:center;font-weight:600}" +
      ".head button{background:none;border:0;color:#fff;font-size:20px;cursor:pointer}.list{flex:1;overflow-y:auto;padding:12px;display:flex;flex-direction:column;gap:6px;background:#f8fafc}" +
      ".msg{max-width:80%;padding:8px 11px;border-radius:12px;white-space:pre-wrap;word-wrap:break-word;line-height:1.35}.msg.inbound{align-self:flex-end;background:" + color + ";color:#fff}" +
      ".msg.outbound{align-self:flex-start;background:#e5e7eb}.msg .who{display:block;font-size:11px;opacity:.75;margin-bottom:2px}.msg.pending{opacity:.6}.msg a{color:inherit}.msg img{max-width:100%;border-radius:8px;display:block}" +
      ".meta{font-size:11px;color:#64748b;align-self:flex-end}.typing{font-size:12px;color:#64748b;padding:0 12px 4px;min-height:16px}.note{font-size:13px;color:#334155;background:#fff7ed;padding:10px 12px;border-bottom:1px solid #fed7aa}" +
      "form{display:flex;gap:6px;padding:8px;border-top:1px solid #e2e8f0}textarea,input{flex:1;font-size:15px;border:1px solid #cbd5e1;border-radius:8px;padding:8px;resize:none;min-width:0}" +
      "form button,.pre button{background:" + color + ";color:#fff;border:0;border-radius:8px;padding:0 12px;cursor:pointer;font-size:14px}.attach{background:#e2e8f0!important;color:#111!important}" +
      ".pre{padding:12px;display:flex;flex-direction:column;gap:8px}.pre label{font-size:12px;color:#475569}.pre button{padding:10px}.err{color:#b91c1c;font-size:12px;padding:0 12px}" +
      ".suggest{padding:8px 12px;border-top:1px solid #e2e8f0;background:#fff;max-height:42%;overflow-y:auto;display:flex;flex-direction:column;gap:4px}.suggest strong{font-size:12px;color:#475569}" +
      ".suggest a{display:block;padding:6px 8px;border:1px solid #e2e8f0;border-radius:8px;color:#111;text-decoration:none}.suggest a:hover,.suggest a:focus{border-color:" + color + ";outline:none}.suggest a span{display:block;font-size:12px;color:#64748b;overflow:hidden;text-overflow:ellipsis;white-space:nowrap}.suggest a b{color:" + color + "}" +
      ".invite{position:fixed;bottom:84px;" + side + ":20px;z-index:2147483000;background:#fff;color:#111;padding:12px 14px;border-radius:12px;box-shadow:0 4px 14px rgba(0,0,0,.2);max-width:280px;cursor:pointer;font-size:14px}" +
      "@media (max-width:480px){.panel{bottom:0;" + side + ":0;width:100vw;max-width:100vw;height:100%;max-height:100%;border-radius:0}.panel.open~.launcher{display:none}}";
    root.appendChild(style);
    el.panel = h("div", "panel");
    el.panel.setAttribute("role", "dialog");
    el.panel.setAttribute("lang", cfg.language);
    var head = h("div", "head");
    head.appendChild(h("span", "", cfg.name || t("title")));
    var close = h("button", "close", "×");
    close.setAttribute("aria-label", t("close"));
    close.onclick = function () { toggle(false); };
    head.appendChild(close);
    el.note = h("div", "note");
    el.note.style.display = "none";
    el.pre = h("div", "pre");
    el.pre.style.display = "none";
    el.list = h("div", "list");
    el.list.setAttribute("aria-live", "polite");
    el.typing = h("div", "typing");
    el.suggest = h("div", "suggest");
    el.suggest.setAttribute("role", "region");
    el.suggest.setAttribute("aria-label", t("suggestions"));
    el.suggest.style.display = "none";
    el.err = h("div", "err");
    el.form = h("form");
    el.input = h("textarea");
    el.input.rows = 1;
    el.input.placeholder = t("placeholder");
    el.input.setAttribute("aria-label", t("placeholder"));
    el.file = h("input");
    el.file.type = "file";
    el.file.style.display = "none";
    var attach = h("button", "attach", "+");
    attach.type = "button";
    attach.title = t("attach");
    attach.setAttribute("aria-label", t("attach"));
    attach.onclick = function () { el.file.click(); };
    el.file.onchange = function () { if (el.file.files[0]) upload(el.file.files[0]); el.file.value = ""; };
    var send = h("button", "send", t("send"));
    send.type = "submit";
    el.form.append(el.input, el.file, attach, send);
    el.form.onsubmit = function (e) { e.preventDefault(); submit(); };
    el.input.onkeydown = function (e) { if (e.key === "Enter" && !e.shiftKey) { e.preventDefault(); submit(); } };
    el.input.oninput = function () { typing(); suggestSoon(el.input.value); };
    el.panel.append(head, el.note, el.pre, el.list, el.suggest, el.typing, el.err, el.form);
    el.launcher = h("button", "launcher", cfg.settings.launcher_text || t("launcher"));
    el.launcher.onclick = function () { toggle(!opened); };
    root.append(el.panel, el.launcher);
    document.body.appendChild(host);
  }

  function toggle(open) {
    opened = open;
    el.panel.classList.toggle("open", open);
    if (el.invite) { el.invite.remove(); el.invite = null; }
    if (open) {
      if (!el.list.firstChild) render(); // the greeting, also before the first message
      showForms(); markRead(); el.input.focus();
      if (!msgs.size && suggestAsked === null) suggest("");
    }
  }

  function showForms() {
    var av = cfg.availability;
    el.note.style.display = "none";
    if (!av.online) {
      el.note.style.display = "";
      el.note.textContent = "";
      el.note.appendChild(h("strong", "", cfg.settings.offline_message || t("offline_title")));
      if (av.back_at) el.note.appendChild(h("div", "", t("back_at", { time: new Date(av.back_at).toLocaleString(cfg.language) })));
      if (S.email_saved_for) el.note.appendChild(h("div", "", t("email_saved", { email: S.email_saved_for })));
      else {
        var f = h("form");
        var input = h("input");
        input.type = "email"; input.required = true; input.placeholder = t("email_label"); input.setAttribute("aria-label", t("email_label"));
        f.append(input, h("button", "", t("email_save")));
        f.onsubmit = function (e) {
          e.preventDefault();
          call("email", { email: input.value }).then(function () { S.email_saved_for = input.value; showForms(); }, showError);
        };
        el.note.appendChild(h("div", "", t("offline_text")));
        el.note.appendChild(f);
      }
    }
    var needPre = cfg.settings.prechat_enabled && !prechatDone && msgs.size === 0;
    el.pre.style.display = needPre ? "" : "none";
    el.form.style.display = needPre ? "none" : "";
    if (needPre && !el.pre.firstChild) buildPrechat();
  }

  function buildPrechat() {
    el.pre.appendChild(h("strong", "", t("prechat_title")));
    var inputs = {};
    cfg.settings.prechat_fields.forEach(function (field) {
      var label = h("label", "", field.label || t(field.name) || field.name);
      var input = h(field.type === "textarea" ? "textarea" : "input");
      if (field.type !== "textarea") input.type = field.type || "text";
      input.required = !!field.required;
      input.name = field.name;
      if (input.tagName === "TEXTAREA") input.oninput = function () { suggestSoon(input.value); };
      label.appendChild(input);
      el.pre.appendChild(label);
      inputs[field.name] = input;
    });
    var start = h("button", "", t("prechat_start"));
    start.onclick = function () {
      var answers = {};
      for (var name in inputs) answers[name] = inputs[name].value;
      call("prechat", { answers: answers }).then(function () { prechatDone = true; showForms(); el.input.focus(); }, showError);
    };
    el.pre.appendChild(start);
  }

  // --- Help articles before the chat starts: the most read ones, then what matches the typed question --
  var suggestTimer = 0, suggestAsked = null, suggestShown = [];
  function suggestSoon(text) {
    clearTimeout(suggestTimer);
    if (msgs.size) return;
    suggestTimer = setTimeout(function () { suggest(text); }, 450);
  }
  function suggest(text) {
    var q = (text || "").trim().replace(/\s+/g, " ").slice(0, 200);
    if (q.length < 3) q = "";
    if (q === suggestAsked || msgs.size) return;
    suggestAsked = q;
    call("suggestions?lang=" + encodeURIComponent(cfg.language) + (q ? "&q=" + encodeURIComponent(q) : "")).then(function (data) {
      if (q !== suggestAsked) return; // an answer to an older question
      if (data.items && data.items.length) suggestShown = data.items;
      else if (!q) suggestShown = [];
      renderSuggestions();
    }, function () { suggestAsked = null; });
  }
  function renderSuggestions() {
    var box = el.suggest;
    box.textContent = "";
    box.style.display = suggestShown.length && !msgs.size ? "" : "none";
    if (box.style.display) return;
    box.appendChild(h("strong", "", t("suggestions")));
    suggestShown.forEach(function (item) {
      if (!/^https?:\/\//.test(item.url || "")) return;
      var a = h("a");
      a.href = item.url; a.target = "_blank"; a.rel = "noopener";
      a.appendChild(h("b", "", item.title));
      if (item.snippet) a.appendChild(h("span", "", item.snippet));
      box.appendChild(a);
    });
  }

  function showError(e) { el.err.textContent = e && e.message ? e.message : String(e); setTimeout(function () { el.err.textContent = ""; }, 6000); }

  // --- Messages --------------------------------------------------------------------------------------
  function add(m) {
    if (!m || !m.id) return;
    if (m.client_id && pending.has(m.client_id)) pending.delete(m.client_id);
    msgs.set(m.id, m);
    render();
    if (m.direction === "outbound" && opened) markRead();
  }
  function bubble(m, isPending) {
    var node = h("div", "msg " + (m.direction === "outbound" ? "outbound" : "inbound") + (isPending ? " pending" : ""));
    node.setAttribute("data-id", m.id || "");
    if (m.direction === "outbound") node.appendChild(h("span", "who", (m.author_name || t("agent")) + (m.channel === "email" ? " · " + t("by_email") : "")));
    if (m.text) node.appendChild(document.createTextNode(m.text));
    (m.attachments || []).forEach(function (a) {
      var image = /^image\//.test(a.content_type), item = image ? h("img") : h("a", "", a.filename || "file");
      if (image) item.alt = a.filename; else item.download = a.filename || "file";
      node.appendChild(item);
      fileUrl(a).then(function (url) { if (image) item.src = url; else item.href = url; }, function () {});
    });
    return node;
  }
  var blobs = {};
  function fileUrl(a) {
    // The session travels in a header, so files come through fetch as blobs (no token in any URL).
    if (a.url) return Promise.resolve(a.url);
    return blobs[a.id] || (blobs[a.id] = fetch(api + "files/" + a.id, { headers: { "X-TL-Session": token } })
      .then(function (r) { if (!r.ok) throw new Error(r.status); return r.blob(); })
      .then(function (b) { return URL.createObjectURL(b); }));
  }
  function render() {
    var list = el.list, atEnd = list.scrollTop + list.clientHeight >= list.scrollHeight - 30;
    list.textContent = "";
    list.appendChild(bubble({ direction: "outbound", text: cfg.settings.greeting || t("greeting"), author_name: cfg.name }));
    var ids = Array.from(msgs.keys()).sort(function (a, b) { return a - b; });
    ids.forEach(function (id) { list.appendChild(bubble(msgs.get(id))); lastId = Math.max(lastId, id); });
    pending.forEach(function (p) { list.appendChild(bubble(p, true)); });
    if (atEnd || pending.size) list.scrollTop = list.scrollHeight;
    if (el.suggest.style.display !== "none" && (msgs.size || pending.size)) el.suggest.style.display = "none";
    showFormsLight();
  }
  function showFormsLight() { if (el.pre.style.display !== "none" && msgs.size) showForms(); }

  function submit() {
    var text = el.input.value.trim();
    if (!text) return;
    el.input.value = "";
    var p = { client_id: uuid(), text: text, direction: "inbound", page_url: location.href };
    pending.set(p.client_id, p);
    render();
    sendTyping(false);
    flush();
  }
  function flush() {
    if (!socket || socket.readyState !== 1) return;
    pending.forEach(function (p) { socket.send(JSON.stringify({ type: "message", client_id: p.client_id, text: p.text, page_url: p.page_url })); });
  }
  function upload(file) {
    var max = cfg.settings.max_attachment_bytes;
    if (file.size > max) return showError(t("file_too_large"));
    var form = new FormData();
    form.append("client_id", uuid());
    form.append("file", file);
    form.append("page_url", location.href);
    call("messages", form).then(function (data) { add(data.message); }, showError);
  }
  function typing() {
    clearTimeout(idle);
    idle = setTimeout(function () { sendTyping(false); }, 5000);
    if (Date.now() - typingSent > 3000) sendTyping(true);
  }
  function sendTyping(on) {
    typingSent = on ? Date.now() : 0;
    if (socket && socket.readyState === 1) socket.send(JSON.stringify({ type: "typing", composing: on }));
  }
  function markRead() {
    var last = 0;
    msgs.forEach(function (m, id) { if (m.direction === "outbound" && id > last) last = id; });
    if (last && socket && socket.readyState === 1 && last > (markRead.sent || 0)) {
      markRead.sent = last;
      socket.send(JSON.stringify({ type: "read", message_id: last }));
    }
  }

  // --- Socket with resume ----------------------------------------------------------------------------
  function connect() {
    socket = new WebSocket(base.replace(/^http/, "ws") + "/ws/widget/?inbox=" + encodeURIComponent(inbox));
    socket.onopen = function () {
      retry = 0;
      el.typing.textContent = "";
      socket.send(JSON.stringify({ type: "auth", session: token })); // in a frame, never in a logged URL
      socket.send(JSON.stringify({ type: "resume", after: lastId }));
      flush();
      if (opened) markRead();
    };
    socket.onmessage = function (e) {
      var f = JSON.parse(e.data);
      if (f.type === "history") f.messages.forEach(add);
      else if (f.type === "ack") { pending.delete(f.client_id); add(f.message); }
      else if (f.type === "message") add(f.message);
      else if (f.type === "typing") {
        clearTimeout(typingTimer);
        el.typing.textContent = f.composing ? t("typing", { name: f.name || t("agent") }) : "";
        if (f.composing) typingTimer = setTimeout(function () { el.typing.textContent = ""; }, 8000);
      } else if (f.type === "error") {
        if (f.client_id && pending.has(f.client_id) && f.status !== 429) pending.delete(f.client_id);
        showError(f.detail); render();
      }
    };
    socket.onclose = function (e) {
      socket = null;
      if (e.code === 4401 || e.code === 4403) return;
      el.typing.textContent = t("reconnecting");
      setTimeout(connect, Math.min(10000, 500 * Math.pow(2, retry++)));
    };
  }

  function startSession(data) {
    store(data.session);
    markReady();
    prechatDone = prechatDone || data.prechat_done;
    if (data.email) S.email_saved_for = data.email;
    (data.messages || []).forEach(add);
    if (socket) socket.close(); else connect();
  }

  function proactive() {
    var waits = [5, 15, 30, 60];
    waits.forEach(function (s) {
      setTimeout(function () {
        if (opened || el.invite) return;
        call("proactive", { page_url: location.href, seconds_on_page: (Date.now() - started) / 1000 }).then(function (d) {
          if (!d.campaign || opened) return;
          el.invite = h("div", "invite", d.campaign.message);
          el.invite.onclick = function () { toggle(true); };
          root.appendChild(el.invite);
        }, function () {});
      }, s * 1000);
    });
  }

  window.Threadline = {
    open: function () { toggle(true); },
    close: function () { toggle(false); },
    identify: function (user) {
      if (!token) { pendingUser = user; return Promise.resolve(); }
      return call("identify", user).then(function (data) { msgs.clear(); lastId = 0; startSession(data); });
    },
    reset: function () {
      return call("reset", {}).then(function (data) { msgs.clear(); pending.clear(); lastId = 0; prechatDone = false; suggestAsked = null; startSession(data); });
    },
    _state: function () { return { ids: Array.from(msgs.keys()), pending: pending.size, connected: !!socket && socket.readyState === 1 }; }
  };

  call("config?lang=" + encodeURIComponent((navigator.languages || [navigator.language]).join(","))).then(function (data) {
    cfg = data; S = Object.assign({}, data.strings);
    build();
    return call("session", { session: stored(), language: cfg.language, page_url: location.href });
  }).then(function (data) {
    startSession(data);
    var user = pendingUser || window.ThreadlineUser;
    if (user) window.Threadline.identify(user);
    if (cfg.has_proactive) proactive();
  }).catch(function (e) { if (window.console) console.warn("Threadline widget:", e.message || e); });
})();
