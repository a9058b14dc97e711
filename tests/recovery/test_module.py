"""The module configuration's schema check: every bad value is 208 IRERR with a one-line, quoted detail."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from recovery.errors import ModuleConfigError
from recovery.module import ModuleConfig, RequiredLogicalDrive, parse_module

CONFIG = ModuleConfig(
    appliance="cic-360g7",
    device_type="Customer Interaction Center",
    model="360 G7",
    part_number="TH-900-4.0-CICISRV-B01",
    product_name="ProLiant DL360 G7",
    logical_drives=(RequiredLogicalDrive("1+0", 4, "4GB"),),
    factory_image="IMAGES/FACTORY",
    factory_sha256="ab" * 32,
    user_slot="IMAGES/USER",
    capture_exclude={"SYSTEM": ("recordings/**", "logs/**")},
)


def seed() -> dict:
    return json.loads(CONFIG.dumps())


def refused(data: str | bytes) -> str:
    """The detail of the 208 a configuration gets; it must be one printable ASCII line."""
    with pytest.raises(ModuleConfigError) as info:
        parse_module(data)
    detail = info.value.detail
    assert info.value.code == 208
    assert detail and detail.isascii() and detail.isprintable(), repr(detail)
    return detail


def changed(edit: Callable[[dict], object]) -> str:
    data = seed()
    edit(data)
    return json.dumps(data)


def test_the_simulators_configuration_round_trips() -> None:
    assert parse_module(CONFIG.dumps()) == CONFIG
    assert parse_module(CONFIG.dumps().encode()) == CONFIG


# ---------------------------------------------------------------- findings of #15 (tracebacks before)


def test_a_count_of_1e999_is_irerr() -> None:
    text = CONFIG.dumps().replace('"drives": 4', '"drives": 1e999')
    assert "1e999" in text
    assert "logical_drives[0].drives must be a whole number 1..8, got inf" in refused(text)


def test_nesting_100000_deep_is_irerr() -> None:
    assert "nests 100000 levels deep" in refused("[" * 100_000 + "]" * 100_000)
    assert "nests" in refused('{"format": 1, "x": ' + "[" * 100_000)  # unterminated, too


def test_a_lone_surrogate_in_a_text_is_irerr_and_quoted() -> None:
    text = changed(lambda d: d["appliance"].__setitem__("device_type", "Customer \ud800"))
    assert "\\ud800" in text  # JSON's escape: valid JSON, an invalid string
    assert (
        refused(text) == "appliance.device_type holds a control or unprintable character: 'Customer \\ud800'"
    )


@pytest.mark.parametrize(
    "slot",
    [
        "../x",
        "IMAGES/FACTORY",
        "images/factory",
        "IMAGES",
        "IRECOVERY",
        "IRECOVERY/x",
        "IMAGES/FACTORY/x",
        "IMAGES/USER.new",
        "IMAGES/FACTOR~1",
        "/IMAGES/USER",
        "IMAGES//USER",
        "IMAGES/CON",
        "USER",
        "",
    ],
)
def test_the_user_slot_is_confined(slot: str) -> None:
    assert "images.user_slot" in refused(changed(lambda d: d["images"].__setitem__("user_slot", slot)))


@pytest.mark.parametrize("path", ["IRECOVERY/FACTORY", "IMAGES", "IMAGES/USER", "FACTORY", "IMAGES/A/B"])
def test_the_factory_image_path_is_confined(path: str) -> None:
    detail = refused(changed(lambda d: d["images"]["factory"].__setitem__("path", path)))
    assert "images.factory.path" in detail or "images.user_slot" in detail


def test_other_names_under_images_are_accepted() -> None:
    config = parse_module(changed(lambda d: d["images"].update(user_slot="images/Saved_State-2")))
    assert config.user_slot == "images/Saved_State-2"


# ---------------------------------------------------------------- the other rules


@pytest.mark.parametrize(
    ("edit", "why"),
    [
        (lambda d: d.__setitem__("format", True), "format true is not supported"),
        (lambda d: d.__setitem__("format", 1.0), "format 1.0 is not supported"),
        (lambda d: d.__setitem__("extra", 1), "unknown key 'extra'"),
        (lambda d: d["appliance"].__setitem__("colour", "red"), "appliance has an unknown key 'colour'"),
        (lambda d: d["appliance"].pop("model"), "appliance lacks model"),
        (lambda d: d["logical_drives"][0].__setitem__("drives", True), "got true"),
        (lambda d: d["logical_drives"][0].__setitem__("drives", 4.0), "got 4.0"),
        (lambda d: d["logical_drives"][0].__setitem__("drives", "4"), "got the string '4'"),
        (lambda d: d["logical_drives"][0].__setitem__("drives", 9), "got 9"),
        (lambda d: d["logical_drives"][0].__setitem__("raid", 5), "raid must be a string, got 5"),
        (lambda d: d["logical_drives"][0].__setitem__("raid", "4"), "raid '4' is not one of"),
        (lambda d: d["logical_drives"][0].__setitem__("boot_limit", "16GB"), "boot_limit '16GB'"),
        (lambda d: d.__setitem__("logical_drives", [d["logical_drives"][0]] * 65), "at most 64"),
        (lambda d: d["appliance"].__setitem__("product_name", "ProLiant\x1b[2J"), "'ProLiant\\x1b[2J'"),
        (lambda d: d["appliance"].__setitem__("product_name", "x" * 129), "longer than 128 characters"),
        (lambda d: d["appliance"].__setitem__("model", " 360 G7"), "starts or ends with a space"),
        (lambda d: d["appliance"].__setitem__("model", "360\u202eG7"), "'360\\u202eG7'"),
        (lambda d: d["appliance"].__setitem__("key", "../cic"), "appliance.key '../cic' is not a key"),
        (lambda d: d["images"]["factory"].__setitem__("sha256sums", "zz" * 32), "64 hexadecimal digits"),
        (lambda d: d["capture_exclude"].__setitem__("SYSTEM", "logs/**"), "must be a list"),
        (lambda d: d["capture_exclude"].__setitem__("SYSTEM", ["/etc"]), "not a relative path glob"),
        (lambda d: d["capture_exclude"].__setitem__("SYSTEM", ["a/../b"]), "not a relative path glob"),
        (lambda d: d["capture_exclude"].__setitem__("SYSTEM", ["**/x/**/y/**"]), "more than 2 '**'"),
        (lambda d: d["capture_exclude"].__setitem__("SYS TEM", []), "is not a partition label"),
    ],
)
def test_schema_refusals(edit: Callable[[dict], object], why: str) -> None:
    assert why in refused(changed(edit))


@pytest.mark.parametrize(
    ("raw", "why"),
    [
        (b"\xff{}", "not UTF-8 text (byte 0)"),
        ('{"format": 1, "format": 1}', "names the key 'format' twice"),
        ('{"format": ' + "9" * 5000 + "}", "an integer of 5000 digits"),
        ("{" * 9 + "}" * 9, "nests 9 levels deep, at most 8"),
        (b" " * (1024 * 1024 + 1), "larger than 1048576 bytes"),
        ("{\n", "not valid JSON"),
        ("[]", "must be an object, got a list of 0 item(s)"),
        ('{"format": 2, "new": 1}', "format 2 is not supported"),
    ],
)
def test_document_refusals(raw: str | bytes, why: str) -> None:
    assert why in refused(raw)


def test_brackets_inside_strings_are_not_nesting() -> None:
    config = parse_module(changed(lambda d: d["appliance"].__setitem__("model", '[[[[{{{{"\\' * 10)))
    assert config.model == '[[[[{{{{"\\' * 10


# ---------------------------------------------------------------- any JSON value in any field

_JSON = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats()
    | st.text(max_size=12)
    | st.sampled_from(["IMAGES/USER", "IMAGES/FACTORY", "1+0", "4GB", "8GB", "logs/**", "ab" * 32]),
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=8), children, max_size=3)
    ),
    max_leaves=8,
)


def _paths(value: object, prefix: tuple = ()) -> Iterator[tuple]:
    yield prefix
    if isinstance(value, dict):
        for key, child in value.items():
            yield from _paths(child, (*prefix, key))
    elif isinstance(value, list):
        for index, child in enumerate(value):
            yield from _paths(child, (*prefix, index))


PATHS = list(_paths(seed()))


def _mutated(edits: list[tuple[int, bool, object]]) -> str:
    data: object = seed()
    for index, drop, value in edits:
        path = PATHS[index % len(PATHS)]
        if not path:
            data = value
            continue
        parent = data
        try:
            for key in path[:-1]:
                parent = parent[key]  # type: ignore[index]
            if drop:
                del parent[path[-1]]  # type: ignore[union-attr]
            else:
                parent[path[-1]] = value  # type: ignore[index]
        except (KeyError, IndexError, TypeError):
            continue
    return json.dumps(data)


@settings(max_examples=300, deadline=None, suppress_health_check=list(HealthCheck))
@given(st.lists(st.tuples(st.integers(0, 999), st.booleans(), _JSON), min_size=1, max_size=3))
def test_any_json_value_in_any_field_gives_a_config_or_irerr(edits: list[tuple[int, bool, object]]) -> None:
    text = _mutated(edits)
    try:
        config = parse_module(text)
    except ModuleConfigError as exc:
        assert exc.detail.isascii() and exc.detail.isprintable(), repr(exc.detail)
        return
    texts = [
        config.appliance,
        config.device_type,
        config.model,
        config.product_name,
        config.user_slot,
        config.factory_image,
        *(g for globs in config.capture_exclude.values() for g in globs),
    ]
    assert all(t and t.isprintable() and len(t) <= 255 for t in texts)
    assert config.user_slot.upper().startswith("IMAGES/") and config.factory_image.upper().startswith(
        "IMAGES/"
    )
    assert config.user_slot.casefold() != config.factory_image.casefold()
    assert all(type(ld.drives) is int and 1 <= ld.drives <= 8 for ld in config.logical_drives)


@settings(max_examples=200, deadline=None, suppress_health_check=list(HealthCheck))
@given(st.one_of(st.binary(max_size=200), st.text(max_size=200), _JSON.map(json.dumps)))
def test_any_document_gives_a_config_or_irerr(data: str | bytes) -> None:
    try:
        parse_module(data)
    except ModuleConfigError as exc:
        assert exc.detail.isascii() and exc.detail.isprintable(), repr(exc.detail)
