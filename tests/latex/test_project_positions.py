from hypothesis import given, settings
from hypothesis import strategies as st
from papercycle.latex.positions import LineIndex, Position


def test_utf16_columns_count_astral_characters_twice():
    text = "ab\n😀x é\nlast"
    idx = LineIndex(text)
    assert idx.position(0) == Position(0, 0)
    assert idx.position(3) == Position(1, 0)
    # "😀" is one code point but two UTF-16 code units
    assert idx.position(4) == Position(1, 2)
    assert idx.position(text.index("é")) == Position(1, 4)
    assert idx.position(len(text)) == Position(2, 4)
    assert idx.offset(Position(1, 2)) == 4


def test_offsets_clamp():
    idx = LineIndex("abc")
    assert idx.position(-5) == Position(0, 0)
    assert idx.position(99) == Position(0, 3)
    assert idx.offset(Position(7, 0)) == 3
    assert idx.offset(Position(0, 99)) == 3


@settings(max_examples=150, deadline=None)
@given(st.text(alphabet=st.sampled_from(list("ab \n\té😀中\r")), max_size=60), st.data())
def test_offset_position_roundtrip(text, data):
    idx = LineIndex(text)
    off = data.draw(st.integers(0, len(text)))
    pos = idx.position(off)
    assert idx.offset(pos) == off
    line, _col = idx.line_col(off)
    assert line == pos.line + 1
    assert text[:off].count("\n") == pos.line
