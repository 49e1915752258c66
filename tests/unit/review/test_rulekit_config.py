"""Gate configuration: where it is found, what every key accepts, and exit 2 naming a bad key."""

from __future__ import annotations

from pathlib import Path

import pytest

from analyzer.errors import EXIT_USAGE, UsageError
from analyzer.review.gate import config_for
from analyzer.review.rulekit.config import DEFAULT_THRESHOLDS, Config, from_table, load_config, parse_size
from analyzer.review.rulekit.suppress import inline_ignores
from analyzer.review.rules import BY_ID


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (0, 0),
        (123, 123),
        ("200MB", 200_000_000),
        ("1.5GiB", 1_610_612_736),
        ("10 kB", 10_000),
        ("7", 7),
        ("2 b", 2),
    ],
)
def test_sizes(text: object, expected: int) -> None:
    assert parse_size(text, "k") == expected


def test_every_key_parsed() -> None:
    config = from_table(
        {
            "fail_on": "warning",
            "max_image_size": "200MB",
            "max_layer_size": 50_000_000,
            "max_added_size": "100 MiB",
            "max_layers": 12,
            "min_efficiency": "95%",
            "max_wasted_bytes": "10MB",
            "max_context_size": "off",
            "severity": {"tiny-layers": "off", "add-instead-of-copy": "error"},
            "ignore": ["cache-busting-copy"],
        },
        BY_ID,
    )
    assert config.fail_on == "warning"
    assert config.thresholds == {
        "max_image_size": 200_000_000,
        "max_layer_size": 50_000_000,
        "max_added_size": 104_857_600,
        "max_layers": 12,
        "min_efficiency": 0.95,
        "max_wasted_bytes": 10_000_000,
    }
    assert config.severities == {"tiny-layers": "off", "add-instead-of-copy": "error"}
    assert config.ignore == {"cache-busting-copy"}


def test_defaults() -> None:
    assert Config().thresholds == DEFAULT_THRESHOLDS == from_table({}, BY_ID).thresholds


@pytest.mark.parametrize(
    ("table", "key"),
    [
        ({"max_image_size": "big"}, "max_image_size"),
        ({"max_layer_size": -1}, "max_layer_size"),
        ({"max_layers": 0}, "max_layers"),
        ({"max_layers": True}, "max_layers"),
        ({"min_efficiency": 1.5}, "min_efficiency"),
        ({"min_efficiency": "95"}, "min_efficiency"),
        ({"fail_on": "sometimes"}, "fail_on"),
        ({"severity": {"tiny-layers": "loud"}}, "severity.tiny-layers"),
        ({"severity": {"no-such-rule": "off"}}, "severity.no-such-rule"),
        ({"ignore": "tiny-layers"}, "ignore"),
        ({"ignore": ["nope"]}, "ignore"),
        ({"max_size": 1}, "max_size"),
    ],
)
def test_bad_values_name_the_key(tmp_path: Path, table: dict[str, object], key: str) -> None:
    path = tmp_path / ".layermap.toml"
    path.write_text("\n".join(f"{k} = {toml(v)}" for k, v in table.items() if not isinstance(v, dict)))
    for name, sub in ((k, v) for k, v in table.items() if isinstance(v, dict)):
        path.write_text(
            path.read_text() + f"\n[{name}]\n" + "\n".join(f'"{k}" = {toml(v)}' for k, v in sub.items())
        )
    with pytest.raises(UsageError) as err:
        load_config(path, BY_ID)
    assert err.value.exit_code == EXIT_USAGE
    assert err.value.message.startswith(f"{path} {key}:"), err.value.message


def toml(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return f'"{value}"'
    if isinstance(value, list):
        return "[" + ", ".join(toml(v) for v in value) + "]"
    return str(value)


def test_pyproject_table_and_lookup_order(tmp_path: Path) -> None:
    dockerfile = tmp_path / "Dockerfile"
    dockerfile.write_text("FROM busybox\n")
    assert config_for(dockerfile, None).source is None
    (tmp_path / "pyproject.toml").write_text('[project]\nname = "x"\n')
    assert config_for(dockerfile, None).source is None  # no [tool.layermap]: not a config
    (tmp_path / "pyproject.toml").write_text('[tool.layermap]\nmax_layers = 3\nfail_on = "never"\n')
    config = config_for(dockerfile, None)
    assert (config.source, config.thresholds["max_layers"], config.fail_on) == (
        str(tmp_path / "pyproject.toml"),
        3,
        "never",
    )
    (tmp_path / ".layermap.toml").write_text("max_layers = 5\n")
    assert config_for(dockerfile, None).thresholds["max_layers"] == 5
    other = tmp_path / "ci.toml"
    other.write_text("max_layers = 7\n")
    assert config_for(dockerfile, str(other)).thresholds["max_layers"] == 7


def test_pyproject_errors_name_the_table_and_key(tmp_path: Path) -> None:
    path = tmp_path / "pyproject.toml"
    path.write_text("[tool.layermap]\nmax_layers = 0\n")
    with pytest.raises(UsageError, match=r"pyproject.toml: \[tool.layermap\] max_layers: expected"):
        load_config(path, BY_ID)
    path.write_text("[tool.other]\n")
    with pytest.raises(UsageError, match=r"no \[tool.layermap\] table"):
        load_config(path, BY_ID)


def test_unreadable_and_invalid_toml(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="cannot read"):
        load_config(tmp_path / "missing.toml", BY_ID)
    bad = tmp_path / "bad.toml"
    bad.write_text("max_layers = = 3\n")
    with pytest.raises(UsageError, match="invalid TOML"):
        load_config(bad, BY_ID)


def test_inline_ignores_apply_to_the_instruction_below_the_comment_block() -> None:
    text = """FROM busybox
# layermap ignore=add-instead-of-copy
ADD a.txt /a
# unrelated comment
# layermap ignore=tiny-layers, cache-busting-copy
RUN true

# layermap ignore=tiny-layers

RUN false
# layermap ignore=made-up
COPY b /b
"""
    ignored, warnings = inline_ignores(text, BY_ID)
    assert ignored == {3: {"add-instead-of-copy"}, 6: {"tiny-layers", "cache-busting-copy"}, 12: {"made-up"}}
    assert warnings == ["line 11: layermap ignore=made-up: unknown rule"]


def test_the_documented_example_config_is_valid() -> None:
    example = Path(__file__).parents[3] / "examples/layermap.toml"
    config = load_config(example, BY_ID)
    assert config.fail_on == "error" and config.ignore == {"tiny-layers"}
    assert config.thresholds["min_efficiency"] == 0.95 and config.severities["package-cache"] == "error"
