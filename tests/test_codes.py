import pytest

from gis import codes


@pytest.mark.parametrize("code, level, parent", [
    ("140000", "province", None),
    ("140100", "prefecture", "140000"),
    ("140105", "county", "140100"),
    ("140105001", "township", "140105"),
    ("140105001200", "village", "140105001"),
    ("140105001000", "township", "140105"),
    ("140105000000", "county", "140100"),
])
def test_levels_and_parents(code, level, parent):
    assert codes.level_of(code) == level
    assert codes.parent_of(code) == parent


@pytest.mark.parametrize("bad", ["", "14", "1400000", "abcdef", "000001", "14010500120"])
def test_bad_codes(bad):
    with pytest.raises(codes.CodeError):
        codes.normalise(bad)


def test_is_within():
    assert codes.is_within("140105001200", "140100")
    assert codes.is_within("140105", "140105")
    assert not codes.is_within("140106", "140105")
    assert not codes.is_within("140100", "140105")
    assert codes.is_within("650100", "000000")
    assert codes.ancestors("140105001200") == ["140105001", "140105", "140100", "140000"]
