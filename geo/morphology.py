"""Binary morphology with the 3 x 3 square and the plus-shaped cross, by shifted boolean
operations on whole arrays.

scipy.ndimage's binary_erosion visits every pixel with its structuring element and took
a quarter of a detection's CPU time (1.3 of 5.5 s at 36 Mpx); these give the same
arrays (tests compare them) with a handful of vectorised ANDs and ORs. A larger disk
(the joins of segmentation) is the union of a few centred rectangles, each separable:
scipy took 0.95 of 7.1 detection CPU seconds at 36 Mpx on a radius-3 closing, these
about a tenth of that.
"""

from __future__ import annotations

import math

import numpy as np


def _shifted(mask: np.ndarray, border: bool) -> np.ndarray:
    """``mask`` padded by one pixel of ``border``."""
    return np.pad(mask, 1, constant_values=border)


def erode(mask: np.ndarray, square: bool = True, border: bool = False) -> np.ndarray:
    """Erosion by the 3 x 3 square (or the cross); outside the array counts as ``border``
    (scipy's ``border_value``)."""
    p = _shifted(mask, border)
    if square:  # separable: rows, then columns
        rows = p[:, :-2] & p[:, 1:-1] & p[:, 2:]
        return rows[:-2] & rows[1:-1] & rows[2:]
    return p[1:-1, 1:-1] & p[:-2, 1:-1] & p[2:, 1:-1] & p[1:-1, :-2] & p[1:-1, 2:]


def dilate(mask: np.ndarray, square: bool = True) -> np.ndarray:
    """Dilation by the 3 x 3 square (or the cross); outside the array counts as empty."""
    p = _shifted(mask, False)
    if square:
        rows = p[:, :-2] | p[:, 1:-1] | p[:, 2:]
        return rows[:-2] | rows[1:-1] | rows[2:]
    return p[1:-1, 1:-1] | p[:-2, 1:-1] | p[2:, 1:-1] | p[1:-1, :-2] | p[1:-1, 2:]


def opening(mask: np.ndarray) -> np.ndarray:
    """scipy's ``binary_opening`` with a 3 x 3 square: erosion (outside empty), dilation."""
    return dilate(erode(mask))


def geodesic_dilation(mask: np.ndarray, within: np.ndarray, steps: int) -> np.ndarray:
    """``steps`` dilations by the 3 x 3 square, each kept inside ``within | mask`` (scipy's
    ``binary_dilation(mask, iterations=steps, mask=within)`` for a mask inside
    ``within``); stops early once nothing grows."""
    allowed = within | mask
    grown = mask
    for _ in range(steps):
        bigger = dilate(grown) & allowed
        if np.array_equal(bigger, grown):
            break
        grown = bigger
    return grown


def _disk_rectangles(radius: int) -> list[tuple[int, int]]:
    """The disk ``hypot(dy, dx) <= radius`` as a union of centred rectangles, each given
    by its half-height and half-width (the disk's half-width falls with the row)."""
    widest: dict[int, int] = {}
    for dy in range(radius + 1):
        widest[math.isqrt(radius * radius - dy * dy)] = dy  # the tallest row band per width
    return [(dy, w) for w, dy in widest.items()]


def _run(mask: np.ndarray, half: int, axis: int, border: bool) -> np.ndarray:
    """OR (or AND, for an erosion: ``border`` True) of ``mask`` over a run of
    ``2 half + 1`` pixels along ``axis``; outside the array counts as ``border``."""
    if half == 0:
        return mask
    pad = [(half, half) if a == axis else (0, 0) for a in range(2)]
    padded = np.pad(mask, pad, constant_values=border)
    n = mask.shape[axis]
    window = (lambda s: (slice(s, s + n), slice(None))) if axis == 0 else (lambda s: (slice(None), slice(s, s + n)))
    out = padded[window(0)].copy()
    combine = np.logical_and if border else np.logical_or
    for shift in range(1, 2 * half + 1):
        combine(out, padded[window(shift)], out=out)
    return out


def dilate_disk(mask: np.ndarray, radius: int) -> np.ndarray:
    """scipy's ``binary_dilation`` with the disk ``hypot <= radius``: the union of the
    rectangles' dilations; outside the array counts as empty."""
    out = np.zeros_like(mask, dtype=bool)
    for half_height, half_width in _disk_rectangles(radius):
        out |= _run(_run(mask, half_width, 1, False), half_height, 0, False)
    return out


def erode_disk(mask: np.ndarray, radius: int) -> np.ndarray:
    """scipy's ``binary_erosion`` with that disk and ``border_value=1`` (outside the array
    counts as set, so borders do not eat objects): the intersection of the rectangles'
    erosions."""
    out = np.ones_like(mask, dtype=bool)
    for half_height, half_width in _disk_rectangles(radius):
        out &= _run(_run(mask, half_width, 1, True), half_height, 0, True)
    return out
