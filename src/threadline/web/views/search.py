"""The agent-wide search page (/search?q=): articles, conversations and contacts the agent may see."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from threadline.search.selectors import search_for
from threadline.web.access import agent_required


@agent_required
def search(request: HttpRequest) -> HttpResponse:
    query = request.GET.get("q", "").strip()[:200]
    results = search_for(request.membership, query)
    return render(request, "web/knowledge/search.html", {"section": "search", "q": query, "results": results})
