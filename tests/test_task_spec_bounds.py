"""Task specs: sizes and seeds are bounded with clear errors (never a MemoryError or a huge int conversion)."""

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from azlang.errors import TaskSpecError
from azlang.tasks.spec import parse_spec


@pytest.mark.parametrize(
    ("text", "letter"),
    [
        ("linear:F99999999", "F"),
        ("linear:F4:N99999999", "N"),
        ("linear:F4:V2000000", "V"),
        ("linear:F4:D1000000", "D"),
        ("linear:F4:E100000", "E"),
        ("linear:F4:S99999999999", "S"),
        ("linear:F4:P" + "9" * 5000, "P"),
    ],
)
def test_out_of_range_options_are_clear_errors(text, letter):
    with pytest.raises(TaskSpecError, match="out of range") as e:
        parse_spec(text)
    assert letter in e.value.hint


def test_too_much_data_in_one_spec_is_an_error():
    with pytest.raises(TaskSpecError, match="describes"):
        parse_spec("linear:F4096:N100000:V1000:D10")
    parse_spec("linear:F4:N1000:V100:D100")  # the demo's select tasks are fine


@given(st.sampled_from("FNVEDSP"), st.text(alphabet="0123456789", min_size=1, max_size=6000))
@settings(max_examples=200, deadline=None)
def test_any_number_parses_or_is_a_task_spec_error(letter, digits):
    try:
        spec = parse_spec(f"linear:{letter}{digits}")
    except TaskSpecError:
        return
    assert getattr(spec, letter) <= 2**32
