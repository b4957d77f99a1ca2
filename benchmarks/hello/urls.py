from django.http import HttpRequest, HttpResponse
from django.urls import path


def hello(request: HttpRequest) -> HttpResponse:
    response = HttpResponse("hello")
    # What CommonMiddleware adds in a real project; without it gunicorn must chunk the body
    # or close the connection, which slows the baseline and flatters the ratio.
    response["Content-Length"] = str(len(response.content))
    return response


urlpatterns = [path("", hello)]
