"""``teaching.simple_table`` writes exactly what tabulate's ``simple`` format writes, in linear time."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st
from tabulate import tabulate

from analyzer.render.report.teaching import simple_table

HEADERS = ["Line", "Instruction", "Predicted", "Why"]
text = st.text(alphabet=st.sampled_from("ab é-=/$:.0123456789\n"), max_size=30)


@settings(max_examples=300, derandomize=True, deadline=None)
@given(
    # The instruction is never empty (tabulate drops a line that is empty throughout).
    rows=st.lists(st.tuples(text, text.map("RUN".__add__), text, text).map(list), min_size=1, max_size=8),
    first=st.sampled_from(["right", "left"]),
)
def test_same_text_as_tabulate(rows: list[list[str]], first: str) -> None:
    align = (first, "left", "left", "left")
    expected = tabulate(rows, headers=HEADERS, tablefmt="simple", disable_numparse=True, colalign=align)
    assert simple_table(HEADERS, rows, align) == expected


def test_a_known_table() -> None:
    rows = [["3", "FROM busybox", "no layer", "inherits\nthe base"], ["12", "RUN true", "layer", "always"]]
    assert simple_table(HEADERS, rows, ("right", "left", "left", "left")).splitlines() == [
        "  Line  Instruction    Predicted    Why",
        "------  -------------  -----------  --------",
        "     3  FROM busybox   no layer     inherits",
        "                                    the base",
        "    12  RUN true       layer        always",
    ]
