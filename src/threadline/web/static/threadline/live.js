// Threadline agent workspace: the live layer. One websocket per tab to /ws/agent/.
// - inbox page: refreshes the conversation list when something changes; j/k/Enter and "/" keyboard keys
// - conversation page: refreshes the timeline, shows who else is viewing and typing (collision detection)
// - everywhere: notification toasts and the unread counter
// No build step, no dependencies.
(function () {
  "use strict";
  const strings = JSON.parse(document.getElementById("i18n").textContent);
  const inboxPage = document.querySelector("[data-page=inbox]");
  const conversationPage = document.querySelector("[data-page=conversation]");
  const conversationId = conversationPage ? Number(conversationPage.dataset.conversation) : null;
  const me = Number(document.body.dataset.membership);
  let socket = null;
  let retry = 0;
  const viewers = new Map(); // membership id -> name
  const typing = new Map(); // membership id -> {name, until}

  function connect() {
    const scheme = location.protocol === "https:" ? "wss" : "ws";
    socket = new WebSocket(`${scheme}://${location.host}/ws/agent/`);
    socket.addEventListener("open", () => {
      retry = 0;
      hideToast(strings.reconnecting);
      if (conversationId) send({ type: "conversation.view", conversation_id: conversationId });
      // Events published between the page render and this subscription (or while disconnected) were
      // missed: refetch the live parts once now.
      refreshAll();
    });
    socket.addEventListener("message", (msg) => handle(JSON.parse(msg.data)));
    socket.addEventListener("close", (event) => {
      if (event.code === 4401) return; // signed out
      showToast(strings.reconnecting);
      retry = Math.min(retry + 1, 6);
      setTimeout(connect, 500 * 2 ** retry);
    });
  }

  function send(payload) {
    if (socket && socket.readyState === WebSocket.OPEN) socket.send(JSON.stringify(payload));
  }

  function handle(event) {
    switch (event.type) {
      case "presence":
        if (event.conversation_id !== conversationId) return;
        viewers.clear();
        for (const viewer of event.viewers) if (viewer.id !== me) viewers.set(viewer.id, viewer.name);
        renderCollision();
        return;
      case "typing":
        if (event.conversation_id !== conversationId || event.membership_id === me) return;
        if (event.composing) typing.set(event.membership_id, { name: event.name, until: Date.now() + 6000 });
        else typing.delete(event.membership_id);
        renderCollision();
        return;
      case "notification.created":
        bumpNotifications(event);
        return;
      case "call.ringing":
        showCallPop(event);
        return;
      case "call.answered":
      case "call.ended":
        if (toast.dataset.call === String(event.data.call_id)) hideToast(toast.dataset.text);
        break;
    }
    if (inboxPage) scheduleListRefresh();
    if (conversationId && event.conversation_id === conversationId) scheduleTimelineRefresh(event);
  }

  // --- Inbox list -------------------------------------------------------------------------------------
  let listTimer = null;
  function scheduleListRefresh() {
    clearTimeout(listTimer);
    listTimer = setTimeout(refreshList, 250);
  }
  async function refreshList() {
    const container = document.getElementById("conversation-list");
    if (!container) return;
    const response = await fetch(container.dataset.refreshUrl, { headers: { "X-Requested-With": "fetch" } });
    if (!response.ok) return;
    const html = await response.text();
    // Read the focus only now: the agent may have moved with j/k while the list was loading.
    const focused = document.activeElement && document.activeElement.dataset.conversation;
    container.innerHTML = html;
    if (focused) {
      const again = container.querySelector(`[data-conversation="${focused}"]`);
      if (again) again.focus();
    }
  }

  // --- Conversation timeline --------------------------------------------------------------------------
  let timelineTimer = null;
  function scheduleTimelineRefresh(event) {
    if (event.type === "conversation.status_changed" || event.type === "conversation.assigned" || event.type === "conversation.updated") {
      // The header and sidebar show these too: reload the page unless the agent is writing.
      const text = document.getElementById("composer-text");
      if (!text || !text.value.trim()) {
        location.reload();
        return;
      }
    }
    clearTimeout(timelineTimer);
    timelineTimer = setTimeout(refreshTimeline, 150);
  }
  async function refreshTimeline() {
    const container = document.getElementById("timeline-container");
    const response = await fetch(conversationPage.dataset.timelineUrl, { headers: { "X-Requested-With": "fetch" } });
    if (!response.ok) return;
    const atBottom = window.innerHeight + window.scrollY >= document.body.scrollHeight - 80;
    container.innerHTML = await response.text();
    if (atBottom) container.lastElementChild.scrollIntoView({ block: "end" });
  }

  function renderCollision() {
    const box = document.getElementById("collision");
    if (!box) return;
    const now = Date.now();
    for (const [id, entry] of typing) if (entry.until < now) typing.delete(id);
    const parts = [];
    if (viewers.size) parts.push(strings.viewing.replace("%(names)s", [...viewers.values()].join(", ")));
    for (const entry of typing.values()) parts.push(strings.typing.replace("%(name)s", entry.name));
    box.textContent = parts.join(" · ");
  }
  setInterval(renderCollision, 2000);

  // --- Composer ---------------------------------------------------------------------------------------
  const composer = document.getElementById("composer");
  if (composer) {
    const text = document.getElementById("composer-text");
    const clientId = document.getElementById("client-id");
    clientId.value = crypto.randomUUID ? crypto.randomUUID() : String(Date.now()) + Math.random();
    let typingSent = 0;
    text.addEventListener("input", () => {
      if (Date.now() - typingSent > 3000) {
        typingSent = Date.now();
        send({ type: "typing", conversation_id: conversationId, composing: text.value.length > 0 });
      }
    });
    text.addEventListener("keydown", (event) => {
      if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) {
        event.preventDefault();
        composer.requestSubmit();
      }
    });
    composer.addEventListener("submit", () => send({ type: "typing", conversation_id: conversationId, composing: false }));
    for (const radio of composer.querySelectorAll("input[name=mode]")) {
      radio.addEventListener("change", () => composer.classList.toggle("note-mode", radio.value === "note" && radio.checked));
    }
    // Reply windows: show the compliant alternatives when the chosen channel's window is closed.
    const inboxSelect = document.getElementById("reply-inbox");
    const windowOptions = document.getElementById("window-options");
    const windowNote = document.getElementById("window-open-note");
    function showWindow() {
      const option = inboxSelect.selectedOptions[0];
      if (!option || !windowOptions) return;
      const open = option.dataset.windowOpen === "1";
      const alternatives = (option.dataset.alternatives || "").split(",");
      windowOptions.hidden = open;
      for (const element of windowOptions.querySelectorAll("[data-alternative]")) {
        element.hidden = !alternatives.includes(element.dataset.alternative);
      }
      windowNote.hidden = !open || !option.dataset.closes;
      document.getElementById("window-closes").textContent = option.dataset.closes || "";
    }
    if (inboxSelect) {
      inboxSelect.addEventListener("change", showWindow);
      showWindow();
    }
    const canned = document.getElementById("canned");
    if (canned) {
      canned.addEventListener("change", () => {
        if (!canned.value) return;
        const start = text.selectionStart ?? text.value.length;
        text.value = text.value.slice(0, start) + canned.value + text.value.slice(text.selectionEnd ?? start);
        canned.value = "";
        text.focus();
      });
    }
  }
  if (conversationId) setInterval(() => send({ type: "conversation.view", conversation_id: conversationId }), 20000);

  // Filters start open (usable without JavaScript); on a phone they fold away behind their summary.
  const filtersDetails = document.getElementById("filters-details");
  if (filtersDetails && window.matchMedia("(max-width: 899px)").matches) filtersDetails.open = false;

  // --- Keyboard navigation on the inbox ---------------------------------------------------------------
  document.addEventListener("keydown", (event) => {
    const tag = (event.target.tagName || "").toLowerCase();
    if (["input", "textarea", "select"].includes(tag) || event.ctrlKey || event.metaKey || event.altKey) return;
    if (event.key === "/") {
      const search = document.getElementById("quick-search");
      if (search) {
        event.preventDefault();
        search.focus();
      }
      return;
    }
    if (!inboxPage || (event.key !== "j" && event.key !== "k")) return;
    const rows = [...document.querySelectorAll(".conversation-row")];
    if (!rows.length) return;
    const index = rows.indexOf(document.activeElement);
    const next = event.key === "j" ? Math.min(index + 1, rows.length - 1) : Math.max(index - 1, 0);
    rows[index === -1 ? 0 : next].focus();
    event.preventDefault();
  });

  // --- Notifications ----------------------------------------------------------------------------------
  function bumpNotifications(event) {
    const counter = document.getElementById("notification-count");
    if (counter) {
      counter.hidden = false;
      counter.textContent = String(Number(counter.textContent || "0") + 1);
    }
    const text = event.data.notification_kind === "mention" ? strings.mention : strings.assigned;
    showToast(text, `/conversations/${event.conversation_id}/`);
  }

  // --- Screen pop: a ringing call shows the caller and their open conversations (no extra request) -----
  function showCallPop(event) {
    const data = event.data;
    const contact = data.contact;
    const caller = contact ? [contact.name, contact.number].filter(Boolean).join(" · ") : data.number || strings.call_unknown;
    const text = strings.call_ringing.replace("%(caller)s", caller);
    toast.textContent = text;
    if (data.open_conversations.length) {
      toast.appendChild(document.createTextNode(" " + strings.call_conversations + " "));
      const list = document.createElement("ul");
      for (const conversation of data.open_conversations) {
        const item = document.createElement("li");
        const link = document.createElement("a");
        link.href = `/conversations/${conversation.id}/`;
        link.textContent = `#${conversation.id} ${conversation.subject || ""} (${conversation.channels.join(", ")})`;
        item.appendChild(link);
        list.appendChild(item);
      }
      toast.appendChild(list);
    } else if (event.conversation_id) {
      const link = document.createElement("a");
      link.href = `/conversations/${event.conversation_id}/`;
      link.textContent = " " + strings.open;
      toast.appendChild(link);
    }
    toast.dataset.text = text;
    toast.dataset.call = String(data.call_id);
    toast.hidden = false;
    setTimeout(() => hideToast(text), 30000);
  }

  const toast = document.getElementById("toast");
  function showToast(text, href) {
    toast.dataset.call = "";
    toast.textContent = text + " ";
    if (href) {
      const link = document.createElement("a");
      link.href = href;
      link.textContent = strings.open;
      toast.appendChild(link);
    }
    toast.dataset.text = text;
    toast.hidden = false;
    if (href) setTimeout(() => hideToast(text), 8000);
  }
  function hideToast(text) {
    if (toast.dataset.text === text) toast.hidden = true;
  }

  // Remote images in customer HTML (email) load only when the agent asks: a remote image tells the
  // sender that the message was read and from where.
  document.addEventListener("click", (event) => {
    const button = event.target.closest("[data-load-remote]");
    if (!button) return;
    for (const image of button.closest(".bubble").querySelectorAll("img[data-remote-src]")) {
      image.src = image.dataset.remoteSrc;
      image.removeAttribute("data-remote-src");
    }
    button.remove();
  });

  function refreshAll() {
    if (inboxPage) refreshList();
    if (conversationId) refreshTimeline();
  }

  connect();
})();
