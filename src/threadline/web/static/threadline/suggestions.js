// Threadline agent workspace: "Suggested articles" under the composer of a conversation.
// Loads knowledge-base articles that answer the customer's latest message (GET data-url), and loads them
// again when the timeline shows a newer customer message (live.js re-renders it on live events).
// "Insert link" puts the title and public URL into the reply at the cursor; "Insert answer" puts the
// article's most relevant passage there as plain text. Internal articles have no public link.
// No build step, no dependencies.
(function () {
  "use strict";
  const box = document.getElementById("article-suggestions");
  const text = document.getElementById("composer-text");
  if (!box || !text) return;
  const list = document.getElementById("article-suggestion-list");
  const strings = JSON.parse(document.getElementById("i18n").textContent);
  const timeline = document.getElementById("timeline-container");
  const MAX_ANSWER = 600;
  let lastInbound = null;
  let loading = null;

  function lastInboundId() {
    const items = timeline ? timeline.querySelectorAll("li.msg-inbound") : [];
    return items.length ? items[items.length - 1].id : "";
  }

  async function load() {
    const marker = lastInboundId();
    if (marker === lastInbound) return;
    lastInbound = marker;
    const request = (loading = fetch(box.dataset.url, { headers: { Accept: "application/json" } }));
    let data;
    try {
      const response = await request;
      if (!response.ok || request !== loading) return;
      data = await response.json();
    } catch (error) {
      lastInbound = null; // try again on the next change
      return;
    }
    if (request !== loading) return; // a newer message asked meanwhile
    render(data.items || []);
  }

  function render(items) {
    list.textContent = "";
    items.forEach((item, index) => list.appendChild(entry(item, index)));
    box.hidden = items.length === 0;
    box.dataset.loaded = String(items.length);
  }

  function entry(item, index) {
    const li = document.createElement("li");
    li.className = "article-suggestion";
    li.dataset.articleId = item.article_id;
    const titleId = `article-suggestion-${index}`;
    const title = document.createElement(item.url ? "a" : "span");
    title.className = "title";
    title.id = titleId;
    title.textContent = item.title;
    title.lang = item.locale;
    if (item.url) {
      title.href = item.url;
      title.target = "_blank";
      title.rel = "noopener";
      title.title = strings.suggest_open;
    }
    li.appendChild(title);
    if (!item.url) {
      const pill = document.createElement("span");
      pill.className = "pill";
      pill.textContent = strings.suggest_internal;
      li.appendChild(pill);
    }
    const snippet = document.createElement("p");
    snippet.className = "snippet muted";
    snippet.lang = item.locale;
    snippet.textContent = plain(item.snippet_html);
    li.appendChild(snippet);

    const actions = document.createElement("div");
    actions.className = "actions";
    const link = button(strings.suggest_insert_link, titleId, "link");
    if (item.url) link.addEventListener("click", () => insert(`${item.title}: ${item.url}`));
    else {
      link.disabled = true;
      link.title = strings.suggest_no_link;
    }
    const answer = button(strings.suggest_insert_answer, titleId, "answer");
    answer.addEventListener("click", () => insert(excerpt(item)));
    actions.append(link, answer);
    li.appendChild(actions);
    return li;
  }

  function button(label, describedBy, action) {
    const element = document.createElement("button");
    element.type = "button";
    element.textContent = label;
    element.dataset.insert = action;
    element.setAttribute("aria-describedby", describedBy);
    return element;
  }

  function plain(html) {
    // The server escaped the snippet and wrapped matches in <mark>: parse it inertly, keep only the text.
    return new DOMParser().parseFromString(html || "", "text/html").body.textContent || "";
  }

  function marked(html) {
    const doc = new DOMParser().parseFromString(html || "", "text/html");
    return [...doc.querySelectorAll("mark")].map((mark) => mark.textContent.toLowerCase()).filter(Boolean);
  }

  // The paragraph of the article where the customer's words matched (else its opening), as plain text.
  function excerpt(item) {
    const body = (item.text || "").trim();
    // Lines of the plain text are paragraphs and list items, or a paragraph's soft line breaks: a line
    // that starts in lower case after one without closing punctuation continues the line before.
    const paragraphs = [];
    for (const raw of body.split("\n")) {
      const line = raw.replace(/\s+/g, " ").trim();
      if (!line) continue;
      const previous = paragraphs[paragraphs.length - 1];
      if (previous && !/[.!?:;…)"»]$/.test(previous) && /^\p{Ll}/u.test(line)) paragraphs[paragraphs.length - 1] += " " + line;
      else paragraphs.push(line);
    }
    if (!paragraphs.length) return item.title;
    const terms = marked(item.snippet_html);
    let start = paragraphs.findIndex((p) => terms.some((term) => p.toLowerCase().includes(term)));
    if (start < 0) start = 0;
    let result = paragraphs[start];
    for (let i = start + 1; i < paragraphs.length && result.length + paragraphs[i].length < MAX_ANSWER; i += 1) {
      result += "\n" + paragraphs[i];
    }
    if (result.length > MAX_ANSWER) {
      const cut = result.lastIndexOf(" ", MAX_ANSWER);
      result = result.slice(0, cut > 0 ? cut : MAX_ANSWER) + "…";
    }
    return result;
  }

  function insert(snippet) {
    const start = text.selectionStart ?? text.value.length;
    const end = text.selectionEnd ?? start;
    const before = text.value.slice(0, start);
    const after = text.value.slice(end);
    const lead = before && !/\s$/.test(before) ? (snippet.includes("\n") ? "\n" : " ") : "";
    const trail = after && !/^\s/.test(after) ? " " : "";
    text.focus();
    text.setRangeText(lead + snippet + trail, start, end, "end");
    text.dispatchEvent(new Event("input", { bubbles: true }));
  }

  if (timeline) {
    let timer = null;
    new MutationObserver(() => {
      clearTimeout(timer);
      timer = setTimeout(load, 200);
    }).observe(timeline, { childList: true, subtree: true });
  }
  load();
})();
