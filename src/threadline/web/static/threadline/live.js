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
      document.body.dataset.live = "connected"; // for scripts and tests: live updates (and the keys) are on
      hideToast(strings.reconnecting);
      if (conversationId) send({ type: "conversation.view", conversation_id: conversationId });
      // Events published between the page render and this subscription (or while disconnected) were
      // missed: refetch the live parts once now.
      refreshAll();
    });
    socket.addEventListener("message", (msg) => handle(JSON.parse(msg.data)));
    socket.addEventListener("close", (event) => {
      document.body.dataset.live = "";
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
        // An unknown caller's pop stays until the agent links or closes it (linking happens mid-call); the
        // answering agent keeps the caller's history open until they close it.
        if (toast.dataset.call === String(event.data.call_id)) {
          if (event.type === "call.answered" && event.data.agent_id === me) toast.dataset.mine = "1";
          if (!toast.dataset.likely && !toast.dataset.mine) hideToast(toast.dataset.text);
        }
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

  // --- Screen pop: a ringing call shows the caller, their open conversations and what they last wrote ---
  // Everything comes in the event (no extra request); images load from our permission-checked URL only.
  function showCallPop(event) {
    const data = event.data;
    const contact = data.contact;
    const caller = contact ? [contact.name, contact.number].filter(Boolean).join(" · ") : data.number || strings.call_unknown;
    const text = strings.call_ringing.replace("%(caller)s", caller);
    toast.replaceChildren();
    const pop = document.createElement("div");
    pop.className = "call-pop";
    const title = document.createElement("strong");
    title.className = "call-pop-title";
    title.textContent = text;
    pop.appendChild(title);
    if (data.open_conversations.length) {
      const heading = document.createElement("div");
      heading.className = "call-pop-heading";
      heading.textContent = strings.call_conversations;
      const list = document.createElement("ul");
      list.className = "call-conversations";
      for (const conversation of data.open_conversations) {
        const item = document.createElement("li");
        const link = document.createElement("a");
        link.href = `/conversations/${conversation.id}/`;
        link.className = "call-conversation-link";
        link.textContent = `#${conversation.id} ${conversation.subject || ""} (${conversation.channels.join(", ")})`;
        item.appendChild(link);
        if (conversation.preview && conversation.preview.length) item.appendChild(renderPreview(conversation));
        list.appendChild(item);
      }
      pop.append(heading, list);
    } else if (event.conversation_id) {
      const link = document.createElement("a");
      link.href = `/conversations/${event.conversation_id}/`;
      link.textContent = strings.open;
      pop.appendChild(link);
    }
    toast.appendChild(pop);
    toast.dataset.text = text;
    toast.dataset.call = String(data.call_id);
    toast.dataset.likely = "";
    toast.dataset.mine = "";
    if (data.unknown_caller || (data.likely_contacts && data.likely_contacts.length)) {
      showLikelyContacts(data, text);
    } else {
      const close = document.createElement("button");
      close.type = "button";
      close.className = "call-pop-close";
      close.textContent = strings.close;
      close.addEventListener("click", () => { toast.dataset.mine = ""; hideToast(text); });
      pop.appendChild(close);
    }
    toast.hidden = false;
    setTimeout(() => { if (!toast.dataset.likely && !toast.dataset.mine) hideToast(text); }, 30000);
  }
  // The last few messages of a conversation: who, on which channel, when, a short excerpt and thumbnails.
  function renderPreview(conversation) {
    const list = document.createElement("ol");
    list.className = "call-preview";
    list.setAttribute("aria-label", strings.call_preview);
    const when = new Intl.DateTimeFormat(document.documentElement.lang || undefined, { dateStyle: "short", timeStyle: "short" });
    for (const message of conversation.preview) {
      const item = document.createElement("li");
      item.className = `call-preview-${message.direction}`;
      const header = document.createElement("div");
      header.className = "call-preview-meta";
      const channel = document.createElement("span");
      channel.className = `call-channel kind-${message.channel_kind}`;
      channel.textContent = message.channel;
      const author = document.createElement("span");
      author.className = "call-preview-author";
      const role = message.direction === "inbound" ? "customer" : message.author_kind === "bot" ? "bot" : "agent";
      author.textContent = message.author || strings["call_" + role];
      const time = document.createElement("time");
      time.dateTime = message.at;
      time.textContent = when.format(new Date(message.at));
      header.append(channel, author, time);
      item.appendChild(header);
      if (message.excerpt) {
        const body = document.createElement("p");
        body.className = "call-preview-text";
        body.textContent = message.excerpt;
        item.appendChild(body);
      }
      if (message.images.length || message.files) {
        const media = document.createElement("div");
        media.className = "call-preview-media";
        for (const image of message.images) {
          const link = document.createElement("a");
          link.href = `/conversations/${conversation.id}/#message-${message.id}`;
          const thumb = document.createElement("img");
          thumb.src = image.url;
          thumb.alt = image.name || strings.call_photo;
          thumb.loading = "lazy";
          link.appendChild(thumb);
          media.appendChild(link);
        }
        if (message.files) {
          const more = document.createElement("span");
          more.className = "call-preview-files";
          more.textContent = strings.call_files.replace("%(count)s", String(message.files));
          media.appendChild(more);
        }
        item.appendChild(media);
      }
      list.appendChild(item);
    }
    return list;
  }

  // An unknown number: the contacts it may belong to, each linked in one click (POST /calls/<id>/link/).
  function likelyReason(reason) {
    const template = strings["call_reason_" + reason.code] || "";
    return template.replace(/%\((\w+)\)s/g, (_, key) => String(reason[key] ?? ""));
  }
  function showLikelyContacts(data, text) {
    toast.dataset.likely = "1";
    const box = document.createElement("div");
    box.className = "likely-contacts";
    box.appendChild(document.createTextNode(strings.call_likely + " "));
    const list = document.createElement("ul");
    renderLikely(list, data.call_id, data.likely_contacts, box);
    // The name the caller gives on the phone finds more candidates.
    const search = document.createElement("form");
    search.className = "likely-search";
    const input = document.createElement("input");
    input.type = "search";
    input.name = "name";
    input.placeholder = strings.call_name;
    input.setAttribute("aria-label", strings.call_name);
    const find = document.createElement("button");
    find.type = "submit";
    find.textContent = strings.call_find;
    search.append(input, find);
    search.addEventListener("submit", async (event) => {
      event.preventDefault();
      const response = await fetch(`/calls/${data.call_id}/link/?name=${encodeURIComponent(input.value)}`, {
        headers: { "X-Requested-With": "fetch" },
      });
      const answer = await response.json().catch(() => ({}));
      renderLikely(list, data.call_id, answer.likely_contacts || [], box);
    });
    const confirm = document.createElement("label");
    const checkbox = document.createElement("input");
    checkbox.type = "checkbox";
    checkbox.className = "confirm-number";
    confirm.append(checkbox, document.createTextNode(" " + strings.call_confirmed));
    const close = document.createElement("button");
    close.type = "button";
    close.textContent = strings.close;
    close.addEventListener("click", () => { toast.dataset.likely = ""; hideToast(text); });
    box.append(list, search, confirm, close);
    toast.appendChild(box);
  }
  function renderLikely(list, callId, candidates, box) {
    list.replaceChildren();
    if (!candidates.length) {
      const none = document.createElement("li");
      none.textContent = strings.call_none;
      list.appendChild(none);
    }
    for (const candidate of candidates) {
      const item = document.createElement("li");
      const button = document.createElement("button");
      button.type = "button";
      button.className = "link-caller";
      button.dataset.contact = String(candidate.id);
      button.textContent = strings.call_link.replace("%(name)s", candidate.name);
      const why = document.createElement("small");
      why.textContent = " " + candidate.reasons.map(likelyReason).filter(Boolean).join(" · ");
      button.addEventListener("click", () => linkCaller(callId, candidate, box));
      item.append(button, why);
      list.appendChild(item);
    }
  }
  async function linkCaller(callId, candidate, box) {
    const csrf = document.querySelector("input[name=csrfmiddlewaretoken]");
    const confirmed = box.querySelector(".confirm-number");
    const body = new URLSearchParams({ contact: String(candidate.id), confirmed: confirmed && confirmed.checked ? "1" : "0" });
    const response = await fetch(`/calls/${callId}/link/`, {
      method: "POST", body, headers: { "X-CSRFToken": csrf ? csrf.value : "", "X-Requested-With": "fetch" },
    });
    const answer = await response.json().catch(() => ({}));
    box.textContent = response.ok ? strings.call_linked.replace("%(name)s", candidate.name) + " " : answer.error || strings.call_link_failed;
    if (response.ok && answer.conversation_id) {
      const link = document.createElement("a");
      link.href = `/conversations/${answer.conversation_id}/`;
      link.textContent = strings.open;
      box.appendChild(link);
    }
    // The linked (or failed) pop still needs a way out: it no longer waits for a choice.
    const close = document.createElement("button");
    close.type = "button";
    close.className = "call-pop-close";
    close.textContent = strings.close;
    close.addEventListener("click", () => { toast.dataset.likely = ""; hideToast(toast.dataset.text); });
    box.append(" ", close);
  }

  const toast = document.getElementById("toast");
  function showToast(text, href) {
    if (toast.dataset.likely && !toast.hidden) return; // an unknown caller's pop waits for the agent's choice
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
