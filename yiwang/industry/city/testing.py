"""Test helpers other apps' tests may use: the small city of the perception tests with the
standard category table, a command-centre dispatcher, department handlers, an inspector,
a citizen and photos."""

from __future__ import annotations

import io
from itertools import count
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission

from yiwang.industry.city import service
from yiwang.platform.orgs import service as orgs
from yiwang.platform.perception import testing as perception_testing
from yiwang.platform.regions import testing as region_testing
from yiwang.support.identity import service as identity

_seq = count(1)
CENTRE = "szcg"  # 数字城管指挥中心
#: a point in the first grid (339901001001001) and one 20 m east of it
PLACE = (120.005, 30.005)
NEAR = (120.0052, 30.005)


def official(username: str, department: str, *perms: str, position: str | None = None) -> Any:
    user = identity.create_official(username, f"官员{next(_seq)}", password="y" * 20)
    orgs.add_member(user, department_code=department, position_code=position)
    for dotted in perms:
        app_label, codename = dotted.split(".")
        user.user_permissions.add(Permission.objects.get(content_type__app_label=app_label,
                                                         codename=codename))
    return get_user_model().objects.get(pk=user.pk)


def citizen(username: str = "citizen") -> Any:
    user = get_user_model().objects.create_user(username=username, password="x" * 20)
    user.account_type = "citizen"
    user.display_name = "张三"
    user.save()
    return user


def make_city() -> dict[str, Any]:
    """The perception test city, the command centre, the standard categories (street
    vending and litter answered by the city-management bureau ``cgj``, waterlogging by the
    water bureau ``swj``), and people: a dispatcher, a handler of each bureau (the cgj one
    on duty for the first grid), an inspector of the first grid, a citizen."""
    city = perception_testing.make_city()
    orgs.create_department(CENTRE, "示例市数字城管指挥中心", region_code=region_testing.CITY)
    orgs.create_position("cgj", "head", "局长")
    service.load_categories()
    for code in ("city.e.street_order", "city.e.environment"):
        orgs.assign_responsibility("cgj", region_testing.CITY, category_code=code)
    orgs.assign_responsibility("swj", region_testing.CITY,
                               category_code="city.e.emergency.waterlogging")
    people = {
        "dispatcher": official("centre.dispatcher", CENTRE, "city.dispatch_case"),
        "head": official("cgj.head", "cgj", position="head"),
        "handler": official("cgj.handler", "cgj"),
        "water": official("swj.handler", "swj"),
        "inspector": official("centre.inspector", CENTRE, "city.verify_case"),
        "citizen": citizen(),
    }
    grid = f"{region_testing.COMMUNITY}001"
    service.assign_duty(grid, people["handler"], "handler", "cgj")
    service.assign_duty(grid, people["inspector"], "inspector")
    return {"city": city, **people}


def jpeg(name: str = "photo.jpg", colour: tuple[int, int, int] = (200, 80, 40),
         size: tuple[int, int] = (64, 48)) -> io.BytesIO:
    """A small JPEG as an open file named ``name``, to post as a form or multipart upload
    (``.getvalue()`` for its bytes)."""
    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", size, colour).save(buffer, "JPEG")
    buffer.seek(0)
    buffer.name = name
    return buffer


def photo(owner: Any, colour: tuple[int, int, int] = (200, 80, 40)) -> str:
    """An uploaded JPEG photo token of ``owner`` (a user)."""
    from yiwang.core.uploads import service as uploads

    return uploads.accept_upload(jpeg(colour=colour).getvalue(), filename="photo.jpg",
                                 owner_key=f"user:{owner.pk}", purpose="city.photo",
                                 personal=False, actor=owner).token
