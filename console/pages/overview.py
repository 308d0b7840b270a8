"""The overview (``/console/``): the company's SSI today and its trend, bands, pillars, teams,
movers and recent awards."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import path

from console.pages import console_page


@console_page()
def overview(request: HttpRequest) -> HttpResponse:
    return render(request, "console/overview.html", {})


urls = [path("", overview, name="console-home")]
