"""URLs of the public help center, mounted at /help/."""

from django.urls import path, register_converter

from threadline.knowledge import views


class LocaleConverter:
    regex = "en|th|it|de|az"

    def to_python(self, value: str) -> str:
        return value

    def to_url(self, value: str) -> str:
        return value


register_converter(LocaleConverter, "locale")

app_name = "help"

urlpatterns = [
    path("<slug:workspace_slug>/", views.help_root, name="root"),
    path("<slug:workspace_slug>/sitemap.xml", views.help_sitemap, name="sitemap"),
    path("<slug:workspace_slug>/images/<int:pk>", views.help_image, name="image"),
    path("<slug:workspace_slug>/logo", views.help_logo, name="logo"),
    path("<slug:workspace_slug>/<locale:locale>/", views.help_home, name="home"),
    path("<slug:workspace_slug>/<locale:locale>/search", views.help_search, name="search"),
    path("<slug:workspace_slug>/<locale:locale>/articles/<int:pk>/feedback", views.help_feedback, name="feedback"),
    path("<slug:workspace_slug>/<locale:locale>/articles/<int:pk>-<str:slug>.pdf", views.help_article_pdf, name="article_pdf"),
    path("<slug:workspace_slug>/<locale:locale>/articles/<int:pk>-<str:slug>", views.help_article, name="article"),
    path("<slug:workspace_slug>/<locale:locale>/articles/<int:pk>", views.help_article, name="article_short"),
    path("<slug:workspace_slug>/<locale:locale>/categories/<int:pk>-<str:slug>.pdf", views.help_category_pdf, name="category_pdf"),
    path("<slug:workspace_slug>/<locale:locale>/categories/<int:pk>-<str:slug>", views.help_category, name="category"),
    path("<slug:workspace_slug>/<locale:locale>/categories/<int:pk>", views.help_category, name="category_short"),
]
