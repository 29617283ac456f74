from django.urls import path

from benchsite import views

urlpatterns = [path("login", views.login_view), path("healthz", views.healthz)]
