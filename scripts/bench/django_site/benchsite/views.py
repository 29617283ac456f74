"""POST /login with form fields username and password: 200 and a session
(django.contrib.auth.login, so axes writes its AccessLog) on success, 401
on failure; AxesMiddleware answers 429 when locked out."""
from django.contrib.auth import authenticate, login
from django.http import HttpResponse
from django.views.decorators.csrf import csrf_exempt


@csrf_exempt
def login_view(request):
    if request.method != "POST":
        return HttpResponse("POST username and password\n", status=405)
    user = authenticate(
        request=request,
        username=request.POST.get("username", ""),
        password=request.POST.get("password", ""),
    )
    if user is None:
        return HttpResponse("wrong username or password\n", status=401)
    login(request, user)
    return HttpResponse("welcome\n")


def healthz(request):
    return HttpResponse("ok\n")
