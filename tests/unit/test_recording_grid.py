"""The composed MP4's canvas (no I/O): a grid of ceil(sqrt(n)) columns, sized for the slots it starts with (480x360
cells, at most 3x3 of them), laid out again in the same picture when a slot beyond it is needed (the pictures shown
are placed again), and a vacated slot turns black."""

from __future__ import annotations

import av
import numpy as np
import pytest

from switchboard_media.recording.mp4 import BLACK, Canvas, grid

RED, BLUE, GREEN = (81, 90, 240), (41, 240, 110), (145, 54, 34)


def picture(yuv: tuple[int, int, int], width: int = 320, height: int = 240) -> av.VideoFrame:
    frame = av.VideoFrame(width=width, height=height, format="yuv420p")
    for plane, value in zip(frame.planes, yuv, strict=True):
        plane.update(bytes([value]) * plane.buffer_size)
    return frame


def colour(canvas: Canvas, x: int, y: int) -> tuple[int, int, int]:
    return int(canvas.y[y, x]), int(canvas.u[y // 2, x // 2]), int(canvas.v[y // 2, x // 2])


@pytest.mark.parametrize(
    ("slots", "expected"),
    [
        (0, (1, 1)),
        (1, (1, 1)),
        (2, (2, 1)),
        (3, (2, 2)),
        (4, (2, 2)),
        (5, (3, 2)),
        (9, (3, 3)),
        (10, (4, 3)),
        (15, (4, 4)),
    ],
)
def test_the_grid_has_ceil_sqrt_columns_and_the_rows_needed(slots, expected):
    assert grid(slots) == expected


@pytest.mark.parametrize(("slots", "size"), [(1, (480, 360)), (2, (960, 360)), (3, (960, 720)), (15, (1440, 1080))])
def test_the_canvas_is_sized_for_the_slots_it_starts_with(slots, size):
    canvas = Canvas(slots)
    assert (canvas.width, canvas.height) == size
    assert canvas.frame().width == size[0] and canvas.frame().height == size[1]


def test_a_slot_beyond_the_grid_lays_it_out_again_in_the_same_picture_and_a_vacated_slot_is_black():
    canvas = Canvas(2)
    canvas.place(0, picture(RED))
    canvas.place(1, picture(BLUE))
    assert colour(canvas, 240, 180) == RED and colour(canvas, 720, 180) == BLUE
    assert not canvas.layout(2)  # room enough: nothing moves

    canvas.place(2, picture(GREEN))  # a third participant: a 2x2 grid of 480x180 cells, in 960x360
    assert (canvas.width, canvas.height, canvas.cell) == (960, 360, (480, 180))
    assert colour(canvas, 240, 90) == RED and colour(canvas, 720, 90) == BLUE and colour(canvas, 240, 270) == GREEN
    assert colour(canvas, 720, 270) == BLACK
    assert colour(canvas, 20, 90) == BLACK  # a 4:3 picture in a 480x180 cell: black beside it

    canvas.clear(0)
    assert colour(canvas, 240, 90) == BLACK and colour(canvas, 720, 90) == BLUE
    assert np.all(canvas.y[:180, :480] == BLACK[0])
