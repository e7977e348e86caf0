from django.urls import path

# Placeholder views until the asset pipeline lands; names are the contract the other pages use.
from django.http import HttpResponseNotFound

urlpatterns = [
    path("assets/<int:pk>/original/", lambda r, pk: HttpResponseNotFound(), name="asset-original"),
    path("assets/<int:pk>/working/", lambda r, pk: HttpResponseNotFound(), name="asset-working"),
    path("assets/<int:pk>/dzi/", lambda r, pk: HttpResponseNotFound(), name="asset-dzi"),
]
