"""The REST API (django-ninja): OpenAPI schema and interactive docs under /api/."""

from ninja import NinjaAPI

api = NinjaAPI(title="Threadline API", version="1", urls_namespace="api")
