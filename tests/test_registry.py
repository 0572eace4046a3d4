from __future__ import annotations

from importlib.metadata import EntryPoint

import pytest
from pydantic import BaseModel

from prodguardian.check import Check
from prodguardian.context import CheckContext
from prodguardian.errors import RegistryError
from prodguardian.registry import ENTRY_POINT_GROUP, CheckRegistry
from prodguardian.result import CheckResult

STATIC = "tests.support.sample_checks:StaticCheck"


def ep(name: str, value: str) -> EntryPoint:
    return EntryPoint(name=name, value=value, group=ENTRY_POINT_GROUP)


def test_entry_points_register_kinds() -> None:
    registry = CheckRegistry.from_entry_points([ep("static", STATIC)])
    assert registry.kinds() == ["static"]
    assert registry.get("static") is not None
    assert registry.get("nope") is None


def test_the_installed_built_ins_register_through_entry_points() -> None:
    assert "http" in CheckRegistry.from_entry_points().kinds()


def test_a_kind_registered_twice_stops_start_up() -> None:
    with pytest.raises(RegistryError, match=r"'static' is registered twice"):
        CheckRegistry.from_entry_points([ep("static", STATIC), ep("static", STATIC)])


def test_a_plugin_that_fails_to_import_is_named() -> None:
    with pytest.raises(RegistryError, match=r"'broken' .*failed to import: ModuleNotFoundError"):
        CheckRegistry.from_entry_points([ep("broken", "no_such_module_xyz:Check")])


class NotACheck:
    pass


class NoParams(Check[BaseModel]):
    async def run(self, ctx: CheckContext) -> CheckResult:
        raise NotImplementedError


class LaxParamsModel(BaseModel):
    value: int = 1


class LaxParams(Check[LaxParamsModel]):
    Params = LaxParamsModel

    async def run(self, ctx: CheckContext) -> CheckResult:
        raise NotImplementedError


class Abstract(Check[LaxParamsModel]):
    Params = LaxParamsModel


@pytest.mark.parametrize(
    ("attr", "message"),
    [
        ("NotACheck", "is not a subclass of prodguardian.check.Check"),
        ("NoParams", "has no Params model"),
        ("LaxParams", "Params must forbid unknown keys"),
        ("Abstract", "does not implement run()"),
    ],
)
def test_bad_plugins_stop_start_up_with_their_name(attr: str, message: str) -> None:
    with pytest.raises(RegistryError) as caught:
        CheckRegistry.from_entry_points([ep("bad", f"tests.test_registry:{attr}")])
    assert "'bad'" in str(caught.value)
    assert message in str(caught.value)
